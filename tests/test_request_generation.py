"""A request reads the data's generation once, with the user (venousapp/generation.py): what it
keeps across requests (the user's permissions, the published rule set, kept pages) is checked
against that number, so an evaluation reads no more than the floor of every page does (the
session and the user). A change committed by anyone counts at the next request, and a request
that writes reads the generation again before it trusts anything kept.

These tests commit: the generation moves only when a transaction commits."""

from __future__ import annotations

import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from tests.generation import while_unchanged
from tests.guidelines.rule_admin import (
    ETR03,
    acute_facts,
    onset_draft,
    publish,
    second_admin,
    shipped_rules,  # noqa: F401  (fixture)
)
from venousapp import generation
from venousapp.accounts.models import Centre

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EVALUATE = "/api/v1/evaluate"
FACTS = {"lesion_entity": "nivl", "side": "left"}


def evaluate(client: Client, facts: dict) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(EVALUATE, json.dumps(facts), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json(), [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def client(clinician) -> Client:
    client = Client()
    client.force_login(clinician)
    return client


def test_an_evaluation_reads_only_the_session_and_the_user(client):
    def twice() -> list[str]:
        evaluate(client, FACTS)
        return evaluate(client, FACTS)[1]

    statements = while_unchanged(twice)
    assert len(statements) == 2, statements
    assert '"django_session"' in statements[0]
    assert '"accounts_user"' in statements[1]


def test_an_evaluation_with_a_token_reads_the_generation_once(clinician):
    from venousapp.accounts.services import api_token_create

    token = api_token_create(user=clinician, name="lab", lifetime=None)[1]
    client = Client(headers={"Authorization": f"Token {token}"})

    def twice() -> list[str]:
        evaluate(client, FACTS)
        return evaluate(client, FACTS)[1]

    statements = while_unchanged(twice)
    assert sum("venousapp_datageneration" in sql for sql in statements) == 1, statements
    assert not any("guidelines_rulesetstate" in sql for sql in statements), statements


@pytest.mark.usefixtures("shipped_rules")
def test_a_publish_committed_between_requests_counts_at_the_next_evaluation(client, centre_a):
    author = UserFactory(username="gustav", centre=centre_a, role="guideline_admin")
    approver = second_admin(centre_a)
    facts = acute_facts(symptom_onset_days=18)
    assert evaluate(client, facts)[0]["rules"][ETR03]["value"] == "against"
    assert evaluate(client, facts)[0]["rules"][ETR03]["value"] == "against"

    publish(onset_draft(author, days=21), author=author, approver=approver)

    assert evaluate(client, facts)[0]["rules"][ETR03]["value"] == "consider"


def test_a_role_taken_away_counts_at_the_next_evaluation(client, clinician):
    evaluate(client, FACTS)
    evaluate(client, FACTS)
    clinician.groups.through.objects.filter(user_id=clinician.pk).delete()
    response = client.post(EVALUATE, json.dumps(FACTS), content_type="application/json")
    assert response.status_code == 403


@pytest.fixture
def in_request():
    request_started.send(sender=None)
    yield
    request_finished.send(sender=None)


@pytest.mark.usefixtures("in_request")
def test_a_request_reads_the_generation_once():
    first = generation.of_request()
    with CaptureQueriesContext(connection) as queries:
        assert generation.of_request() == first
    assert len(queries) == 0


@pytest.mark.usefixtures("in_request")
def test_a_request_that_writes_reads_the_generation_again(centre_a):
    first = generation.of_request()
    Centre.objects.filter(pk=centre_a.pk).update(name="Renamed")
    assert generation.of_request() > first


@pytest.mark.usefixtures("in_request")
def test_a_change_committed_meanwhile_counts_at_the_next_request(centre_a):
    first = generation.of_request()
    request_finished.send(sender=None)
    Centre.objects.filter(pk=centre_a.pk).update(name="Renamed")
    request_started.send(sender=None)
    assert generation.of_request() > first


@pytest.mark.usefixtures("in_request")
def test_nothing_is_trusted_inside_a_transaction(centre_a):
    assert generation.of_request() is not None
    with transaction.atomic():
        assert generation.of_request() is None


def test_outside_a_request_every_ask_reads_the_generation():
    with CaptureQueriesContext(connection) as queries:
        generation.of_request()
        generation.of_request()
    assert len(queries) == 2
