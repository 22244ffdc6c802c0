"""Deploying the safety revision: a database from before it gets the new and changed rules and
the catalogue correction by ``migrate`` alone, stored overall statuses follow an engine change
without anyone remembering a command, and ``migrate`` is not blocked by the rule it loads."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from cases.models import Case
from guidelines import checks
from guidelines.engine import ENGINE_VERSION
from guidelines.models import (
    ReEvaluation,
    Rule,
    RuleSetState,
    RuleTestCase,
    RuleVersion,
)
from guidelines.selectors import stored_evaluations
from guidelines.services import authoring, reevaluation
from tests.guidelines.rule_admin import acute_iliofemoral_case, publish, second_admin

PREG = "PRACTICE-PREGNANCY-DEFER"
VT_AC = "ESVS-2021-VT-AC"


def _historical_apps(app: str, migration: str):
    return MigrationExecutor(connection).loader.project_state((app, migration)).apps


def _make_the_database_look_older() -> None:
    """The rules as a database migrated before the revision has them."""
    RuleTestCase.objects.filter(rule_version__rule__rule_id=PREG).delete()
    RuleVersion.objects.filter(rule__rule_id=PREG).delete()
    Rule.objects.filter(rule_id=PREG).delete()
    version = RuleVersion.objects.get(rule__rule_id=VT_AC, status="active")
    version.definition = {
        **version.definition,
        "population": {"input": "etr_candidate", "op": "is_true"},
    }
    version.save(update_fields=["definition"])


@pytest.mark.django_db
def test_the_rule_migration_brings_an_older_database_up_to_the_files():
    _make_the_database_look_older()
    before = RuleSetState.objects.get().version
    module = importlib.import_module("guidelines.migrations.0006_safety_revision")
    module.load_revision(_historical_apps("guidelines", "0006_safety_revision"), None)

    preg = RuleVersion.objects.get(rule__rule_id=PREG)
    assert (preg.number, preg.status) == (1, "active")
    assert preg.test_cases.count() >= 3
    versions = dict(RuleVersion.objects.filter(rule__rule_id=VT_AC).values_list("number", "status"))
    assert versions == {1: "superseded", 2: "active"}
    new = RuleVersion.objects.get(rule__rule_id=VT_AC, status="active")
    assert "anticoagulation_contraindicated" in str(new.definition["population"])
    assert RuleSetState.objects.get().version == before + 1
    assert RuleVersion.history.filter(history_change_reason__contains="0006").exists()

    # a second run changes nothing
    module.load_revision(_historical_apps("guidelines", "0006_safety_revision"), None)
    assert RuleSetState.objects.get().version == before + 1
    assert RuleVersion.objects.filter(rule__rule_id=VT_AC).count() == 2


@pytest.mark.django_db
def test_the_missing_rule_check_waits_for_pending_migrations():
    _make_the_database_look_older()
    assert any(m.id == "guidelines.E002" and m.obj == PREG for m in checks.check_alias("default"))
    MigrationRecorder(connection).migration_qs.filter(
        app="guidelines", name="0006_safety_revision"
    ).delete()
    assert not [m for m in checks.check_alias("default") if m.id == "guidelines.E002"]


@pytest.mark.django_db
def test_the_catalogue_migration_unverifies_range_only_sizes():
    from planning.models import DeviceSize

    DeviceSize.objects.filter(device__code="sinus-xl").update(verified=True, notes="range [V]")
    edited = DeviceSize.objects.filter(device__code="wallstent").first()
    DeviceSize.objects.filter(pk=edited.pk).update(verified=True, notes="Checked by Gustav")
    module = importlib.import_module("planning.migrations.0007_verified_exact_sizes")
    module.unverify_range_sizes(_historical_apps("planning", "0007_verified_exact_sizes"), None)
    assert not DeviceSize.objects.filter(device__code="sinus-xl", verified=True).exists()
    edited.refresh_from_db()
    assert edited.verified is True  # a guideline admin's own check is left alone


# --- stored statuses follow the engine -----------------------------------------------------


@pytest.fixture
def stored_cases(centre_a, clinician):
    cases = [
        acute_iliofemoral_case(centre=centre_a, author=clinician, onset_days=days)
        for days in (5, 25)
    ]
    call_command("reevaluate_cases", stdout=StringIO())
    assert stored_evaluations().stale == 0
    return cases


def _computed_by_an_older_engine() -> None:
    Case.objects.update(evaluated_engine=ENGINE_VERSION - 1, overall_status="conservative")


@pytest.mark.django_db
def test_an_engine_change_makes_stored_statuses_stale(stored_cases, client_for):
    _computed_by_an_older_engine()
    assert stored_evaluations().stale == 2
    html = client_for("clinician").get("/cases/").content.decode()
    assert "overall-chip overall-conservative" not in html  # evaluated live meanwhile


@pytest.mark.django_db
def test_migrate_reevaluates_what_an_engine_change_made_stale(stored_cases):
    _computed_by_an_older_engine()
    emit_post_migrate_signal(0, False, "default")
    job = ReEvaluation.objects.get(trigger="deploy")
    assert (job.status, job.done, job.changed) == ("done", 2, 2)
    assert set(Case.objects.values_list("evaluated_engine", flat=True)) == {ENGINE_VERSION}
    assert stored_evaluations().stale == 0
    emit_post_migrate_signal(0, False, "default")  # nothing stale: no second job
    assert ReEvaluation.objects.filter(trigger="deploy").count() == 1


@pytest.mark.django_db
def test_migrate_is_never_failed_by_the_reevaluation(stored_cases, monkeypatch, caplog):
    _computed_by_an_older_engine()

    def broken(**kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(reevaluation, "reevaluation_start", broken)
    emit_post_migrate_signal(0, False, "default")
    assert "could not be started" in caplog.text
    assert stored_evaluations().stale == 2


@pytest.mark.django_db
def test_reevaluate_cases_all_takes_every_case(stored_cases):
    out = StringIO()
    call_command("reevaluate_cases", "--all", stdout=out)
    assert "Re-evaluated 2 case(s)" in out.getvalue()
    out = StringIO()
    call_command("reevaluate_cases", stdout=out)
    assert "Re-evaluated 0 case(s)" in out.getvalue()


@pytest.mark.django_db
def test_the_pregnancy_rule_is_edited_like_any_other(client_for, guideline_admin, centre_a):

    client = client_for("guideline_admin")
    page = client.get(reverse("guidelines:rule", args=[PREG])).content.decode()
    assert "Defer elective venous stenting during pregnancy" in page
    rule = Rule.objects.get(rule_id=PREG)
    draft = authoring.rule_version_create_draft(rule=rule, author=guideline_admin)
    draft = authoring.rule_version_update(
        version=draft,
        user=guideline_admin,
        definition={**draft.definition, "text": draft.definition["text"] + " (reviewed)"},
        change_note="Wording reviewed",
    )
    runs = authoring.rule_version_run_tests(version=draft, user=guideline_admin)
    assert runs
    assert all(run.passed for run in runs)
    published = publish(draft, author=guideline_admin, approver=second_admin(centre_a))
    assert published.status == "active"
    assert published.number == 2
