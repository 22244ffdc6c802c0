"""Migration 0003 moves the cards a CDS Hooks call answered from a row each into the call
itself; a card answered before the upgrade is still found for its feedback, and going back
restores the rows."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from interop.cds_hooks import cards_answered
from interop.models import CdsClient, HookCall

BEFORE = [("interop", "0002_roles")]
AFTER = [("interop", "0003_hookcall_cards")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets[0]).apps


def test_cards_move_into_their_call_and_back(centre_a):
    apps = _migrate(BEFORE)
    try:
        client = apps.get_model("interop", "CdsClient").objects.create(
            name="Record",
            issuer="https://ehr.example.org",
            public_key_pem="k",
            centre_id=centre_a.pk,
        )
        OldCall = apps.get_model("interop", "HookCall")
        IssuedCard = apps.get_model("interop", "IssuedCard")
        now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
        answered = OldCall.objects.create(
            client=client,
            jti="a",
            hook="patient-view",
            hook_instance="i",
            called_at=now,
            expires_at=now,
        )
        OldCall.objects.create(
            client=client,
            jti="b",
            hook="feedback",
            hook_instance="",
            called_at=now,
            expires_at=now,
        )
        cards = {
            str(uuid.uuid4()): {"rule_id": "R-1", "value": "recommend", "indicator": "info"},
            str(uuid.uuid4()): {"rule_id": "R-2", "value": "against", "indicator": "critical"},
        }
        for key, card in cards.items():
            IssuedCard.objects.create(call=answered, uuid=key, **card)

        _migrate(AFTER)
        assert HookCall.objects.get(jti="a").cards == cards
        assert HookCall.objects.get(jti="a").card_prefix is None
        assert HookCall.objects.get(jti="b").cards == {}
        named = [uuid.UUID(key) for key in cards]
        assert cards_answered(CdsClient.objects.get(), named) == cards
        assert cards_answered(CdsClient.objects.get(), [uuid.uuid4()]) == {}

        apps = _migrate(BEFORE)
        IssuedCard = apps.get_model("interop", "IssuedCard")
        restored = {
            str(card.uuid): {
                "rule_id": card.rule_id,
                "value": card.value,
                "indicator": card.indicator,
            }
            for card in IssuedCard.objects.filter(call__jti="a")
        }
        assert restored == cards
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("interop"))
