"""Deploying the rule files' new citations (migration 0011): a database whose rules were loaded
before gets the new maintainers' notes and references by ``migrate`` alone, and nothing else
changes: no rule logic, no version a guideline admin published."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from guidelines.definitions import locally_modified
from guidelines.models import RuleSetState, RuleVersion

pytestmark = pytest.mark.django_db

ETR03 = "SVSAVF-2012-ETR-03"
CIVO05 = "SIR-2023-CIVO-05"
OLD_NOTES = {
    "maintainer_notes": "Day 14 is still acute (an outside document, 1.1).",
    "brief_ref": "1.1",
}


def _migrate() -> None:
    apps = (
        MigrationExecutor(connection)
        .loader.project_state(("guidelines", "0011_rule_citations"))
        .apps
    )
    importlib.import_module("guidelines.migrations.0011_rule_citations").load(apps, None)


def _loaded_before(rule_id: str, **changes: object) -> RuleVersion:
    """The rule's active version as the files were before: old notes (and ``changes``)."""
    version = RuleVersion.objects.get(rule__rule_id=rule_id, status="active")
    version.definition = {**version.definition, **OLD_NOTES, **changes}
    version.save(update_fields=["definition"])
    return version


def test_a_fresh_database_has_the_new_citations_already():
    before = RuleSetState.objects.get().version
    _migrate()
    assert RuleSetState.objects.get().version == before
    assert not RuleVersion.objects.filter(number__gt=1).exists()
    active = RuleVersion.objects.get(rule__rule_id=ETR03, status="active")
    assert active.definition["brief_ref"].startswith("docs/")
    assert not locally_modified(active.definition)


def test_rules_loaded_before_get_a_version_with_the_new_citations():
    old = _loaded_before(ETR03)
    cases = sorted(old.test_cases.values_list("name", "expected"))
    before = RuleSetState.objects.get().version
    assert locally_modified(old.definition)
    _migrate()

    versions = dict(RuleVersion.objects.filter(rule__rule_id=ETR03).values_list("number", "status"))
    assert versions == {1: "superseded", 2: "active"}
    new = RuleVersion.objects.get(rule__rule_id=ETR03, status="active")
    assert "docs/evaluation.md#day-14-and-other-thresholds" in new.definition["maintainer_notes"]
    assert {k: v for k, v in new.definition.items() if k not in OLD_NOTES} == {
        k: v for k, v in old.definition.items() if k not in OLD_NOTES
    }
    assert not locally_modified(new.definition)
    assert sorted(new.test_cases.values_list("name", "expected")) == cases
    assert new.author is None
    assert RuleSetState.objects.get().version == before + 1
    assert RuleVersion.history.filter(history_change_reason__contains="0011").exists()

    _migrate()  # a second run changes nothing
    assert RuleSetState.objects.get().version == before + 1
    assert RuleVersion.objects.filter(rule__rule_id=ETR03).count() == 2


def test_a_version_a_guideline_admin_published_is_left_alone(guideline_admin):
    published = _loaded_before(ETR03)
    RuleVersion.objects.filter(pk=published.pk).update(author=guideline_admin)
    before = RuleSetState.objects.get().version
    _migrate()
    assert RuleVersion.objects.get(rule__rule_id=ETR03, status="active").pk == published.pk
    assert RuleSetState.objects.get().version == before


def test_a_rule_whose_logic_differs_from_the_files_is_not_this_migrations_business():
    different = _loaded_before(CIVO05, failure="not_applicable")
    _migrate()
    assert RuleVersion.objects.get(rule__rule_id=CIVO05, status="active").pk == different.pk
