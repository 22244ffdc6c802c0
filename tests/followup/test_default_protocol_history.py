"""The history rows of the default protocols: the data migration writes the change reason it
has always written, so a fresh database holds the same rows as an upgraded one; protocols
made again later (after a flush) cite docs/followup.md instead."""

from __future__ import annotations

import ast
import importlib
import inspect

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from followup.models import Protocol, ProtocolVisit
from followup.services.protocols import DEFAULT_PROTOCOL_REASON, protocols_ensure_defaults

pytestmark = pytest.mark.django_db


def _reason_the_migration_passes() -> str:
    module = importlib.import_module("followup.migrations.0003_default_protocols")
    calls = [
        node
        for node in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") == "protocols_ensure_defaults"
    ]
    (call,) = calls
    (reason,) = [keyword.value for keyword in call.keywords if keyword.arg == "reason"]
    assert isinstance(reason, ast.Constant)
    return reason.value


def _first_version_reasons() -> set[str]:
    return set(
        Protocol.history.filter(version=1, history_type="+").values_list(
            "history_change_reason", flat=True
        )
    )


def test_a_migrated_database_has_the_reason_the_migration_always_wrote():
    assert _first_version_reasons() == {_reason_the_migration_passes()}


def test_protocols_made_again_cite_the_docs_page():
    ProtocolVisit.objects.all().delete()
    Protocol.objects.all().delete()
    Protocol.history.all().delete()
    apps = (
        MigrationExecutor(connection)
        .loader.project_state(("followup", "0003_default_protocols"))
        .apps
    )
    assert protocols_ensure_defaults(apps=apps) == 4
    assert _first_version_reasons() == {DEFAULT_PROTOCOL_REASON}
