"""What every page costs before its own content: the frame (session, user, role
permissions, the notification bell). It is paid on every request, so it is kept small, and a
change of role still takes effect on the very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import PERSONAS
from tests.factories import UserFactory
from venousapp.accounts.models import User

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


def test_the_permissions_read_are_those_of_djangos_own_backend(
    clinician, nurse, guideline_admin, other_centre_clinician, centre_a
):
    """The frame reads permissions in one written-out query; it must read exactly what
    Django's ModelBackend reads: her own, her roles', both, none."""
    nurse.user_permissions.add(Permission.objects.get(codename="add_case"))
    nurse.user_permissions.add(Permission.objects.get(codename="view_visit"))  # also a role's
    roleless = UserFactory(centre=centre_a)
    own_only = UserFactory(centre=centre_a)
    own_only.user_permissions.add(Permission.objects.get(codename="view_rule"))
    for user in (clinician, nurse, guideline_admin, other_centre_clinician, roleless, own_only):
        ours = User.objects.get(pk=user.pk).get_all_permissions()
        djangos = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
        assert ours == djangos, user.username
    assert User.objects.get(pk=roleless.pk).get_all_permissions() == set()
    assert User.objects.get(pk=own_only.pk).get_all_permissions() == {"guidelines.view_rule"}
