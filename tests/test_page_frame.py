"""What every page costs before its own content: the frame (session, user, role
permissions, the notification bell). It is paid on every request, so it is kept small, and a
change of role still takes effect on the very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import PERSONAS

# The session, the user with her centre, her permissions (her own and her roles', at once) and
# the bell's counts. The page itself (a 404 here) reads nothing more.
FRAME_QUERIES = 4


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_the_frame_of_a_page_costs_four_queries(client_for, persona):
    client = client_for(persona)
    client.get("/no-such-page/")  # warm-up: content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Cases" in response.content  # the navigation was drawn, with the user's links
    assert len(queries.captured_queries) == FRAME_QUERIES, [
        q["sql"][:120] for q in queries.captured_queries
    ]


def test_a_role_taken_away_is_refused_on_the_next_request(client_for, nurse):
    client = client_for("nurse")
    assert client.get("/followup/worklist/").status_code == 200
    nurse.groups.clear()
    assert client.get("/followup/worklist/").status_code == 403


def test_a_permission_given_to_the_user_herself_counts(client_for, nurse):
    client = client_for("nurse")
    assert client.get("/cases/new/").status_code == 403
    nurse.user_permissions.add(Permission.objects.get(codename="add_case"))
    assert client.get("/cases/new/").status_code == 200


def test_a_permission_added_to_a_role_counts_for_its_members(client_for, nurse):
    client = client_for("nurse")
    assert client.get("/cases/new/").status_code == 403
    Group.objects.get(name="nurse").permissions.add(Permission.objects.get(codename="add_case"))
    assert client.get("/cases/new/").status_code == 200


def test_an_inactive_user_has_no_permission(nurse):
    nurse.is_active = False
    assert not nurse.has_perm("followup.view_visit")
    assert nurse.get_all_permissions() == set()


def test_a_superuser_has_every_permission(nurse):
    nurse.is_superuser = True
    assert nurse.has_perm("guidelines.change_rule")
    assert len(nurse.get_all_permissions()) == Permission.objects.count()
