"""A user's permissions are read once per data generation in a process (venousapp/accounts/
backends.py), and a role or permission taken away, however it is taken away, counts at the
next request. These tests commit: the generation moves only when a transaction commits."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.generation import while_unchanged
from tests.test_api_tokens import FACTS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EVALUATE = "/api/v1/evaluate"


def evaluate(client: Client) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(EVALUATE, json.dumps(FACTS), content_type="application/json")
    return response.status_code, [query["sql"] for query in queries.captured_queries]


def permission_reads(statements: list[str]) -> int:
    return sum('"auth_permission"' in sql for sql in statements)


@pytest.fixture
def client(clinician) -> Client:
    client = Client()
    client.force_login(clinician)
    return client


def test_permissions_are_read_once_while_nothing_changes(client):
    (first_status, first), (again_status, again) = while_unchanged(
        lambda: (evaluate(client), evaluate(client))
    )
    assert (first_status, again_status) == (200, 200)
    assert permission_reads(first) == 1
    assert permission_reads(again) == 0


def test_a_role_taken_away_counts_at_the_next_request(client, clinician):
    assert evaluate(client)[0] == 200
    assert evaluate(client)[0] == 200
    clinician.groups.through.objects.filter(user_id=clinician.pk).delete()
    status, statements = evaluate(client)
    assert status == 403
    assert permission_reads(statements) == 1


def test_a_permission_taken_from_the_role_counts_at_the_next_request(client, clinician):
    assert evaluate(client)[0] == 200
    role = Group.objects.get(name="clinician")
    role.permissions.through.objects.filter(
        group_id=role.pk, permission__codename="view_rule"
    ).delete()
    assert evaluate(client)[0] == 403
