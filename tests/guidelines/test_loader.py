"""The data migration, ``load_guidelines`` and the developers' test cases."""

import json
import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from guidelines.definitions import TEST_CASES_PATH, normalise_definition, read_test_cases
from guidelines.engine import RULES_DIR, default_ruleset, evaluate, evaluate_rule
from guidelines.loader import guidelines_load
from guidelines.models import (
    GuidelineSource,
    Rule,
    RuleSetState,
    RuleTestCase,
    RuleVersion,
)
from guidelines.ruleset import current_rule_versions, current_ruleset
from guidelines.services import authoring
from tests.guidelines.rule_admin import (
    ETR03,
    active_version,
    onset_draft,
    publish,
    second_admin,
    shipped_rules,  # noqa: F401  (fixture)
)
from tests.guidelines.rule_admin import acute_facts as acute_if
from tests.guidelines.rule_admin import chronic_facts as chronic_pto

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_rules")]


def _by_id(ruleset):
    return {d["id"]: normalise_definition(d) for d in ruleset.definitions}


def test_migration_loaded_ruleset_equals_the_shipped_rule_files():
    db, files = current_ruleset(), default_ruleset()
    assert db.version.startswith("db:")
    assert [d["id"] for d in db.definitions] == [d["id"] for d in files.definitions]
    assert _by_id(db) == _by_id(files)
    assert db.scored_ids == files.scored_ids
    assert db.sources == files.sources
    for facts in (acute_if(), chronic_pto(), {}, acute_if(symptom_onset_days=20)):
        assert evaluate(facts, db) == evaluate(facts, files)


def test_migration_creates_sources_rules_active_versions_and_state():
    assert GuidelineSource.objects.count() == len(
        json.loads((RULES_DIR / "sources.json").read_text())
    )
    assert Rule.objects.count() == len(default_ruleset().definitions)
    assert (
        RuleVersion.objects.filter(status="active", number=1, author=None).count()
        == Rule.objects.count()
    )
    assert RuleSetState.objects.count() == 1
    assert current_rule_versions()[ETR03] == 1
    # the audit trail starts with the load
    assert RuleVersion.history.filter(history_type="+").count() == RuleVersion.objects.count()
    assert RuleTestCase.history.count() == RuleTestCase.objects.count()


def test_every_scored_rule_has_at_least_three_passing_test_cases():
    scored = default_ruleset().scored_ids
    assert len(scored) == 23
    for rule_id in scored:
        version = active_version(rule_id)
        cases = list(version.test_cases.all())
        assert len(cases) >= 3, rule_id
        expected = {c.expected for c in cases}
        assert len(expected) >= 2, f"{rule_id}: test cases must not all expect one value"
        definition = version.definition
        if definition.get("criteria"):  # positive, failing criterion, missing data
            assert definition["positive"] in expected, rule_id
            assert definition["failure"] in expected, rule_id
            assert any(e.startswith("insufficient_data:") for e in expected), rule_id
        runs = authoring.rule_version_run_tests(version=version)
        assert [r for r in runs if not r.passed] == [], rule_id


def test_test_case_file_passes_against_the_pure_engine():
    ruleset = default_ruleset()
    cases = read_test_cases(TEST_CASES_PATH)
    assert set(cases) == set(ruleset.scored_ids)
    for rule_id, items in cases.items():
        for case in items:
            value = evaluate_rule(ruleset.definition(rule_id), case["facts"])["value"]
            assert value == case["expected"], (rule_id, case["name"])


def test_load_guidelines_is_idempotent():
    state = RuleSetState.objects.get().version
    counts = (
        Rule.objects.count(),
        RuleVersion.objects.count(),
        RuleTestCase.objects.count(),
        RuleVersion.history.count(),
    )
    out = StringIO()
    call_command("load_guidelines", stdout=out)
    call_command("load_guidelines", stdout=out)
    assert out.getvalue().count("0 rule(s) created, 0 updated, 38 unchanged") == 2
    assert counts == (
        Rule.objects.count(),
        RuleVersion.objects.count(),
        RuleTestCase.objects.count(),
        RuleVersion.history.count(),
    )
    assert RuleSetState.objects.get().version == state


@pytest.fixture
def rules_dir(tmp_path):
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def _edit_rule_file(directory, rule_id, change):
    for path in directory.glob("*.json"):
        data = json.loads(path.read_text())
        if isinstance(data, list) and any(d["id"] == rule_id for d in data):
            for d in data:
                if d["id"] == rule_id:
                    change(d)
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
            return
    raise AssertionError(rule_id)


def _onset_21(definition):
    definition["criteria"][0]["test"]["value"] = 21


def test_a_changed_rule_file_becomes_a_new_active_version(rules_dir):
    state = RuleSetState.objects.get().version
    _edit_rule_file(rules_dir, ETR03, _onset_21)
    report = guidelines_load(directory=rules_dir)
    assert report.updated == [ETR03]
    assert f"{ETR03}: v1 superseded by v2 (rule file changed)" in report.lines
    versions = dict(RuleVersion.objects.filter(rule__rule_id=ETR03).values_list("number", "status"))
    assert versions == {1: "superseded", 2: "active"}
    assert (
        active_version().test_cases.count()
        == active_version()
        .test_cases.model.objects.filter(rule_version__rule__rule_id=ETR03, rule_version__number=1)
        .count()
    )
    assert RuleSetState.objects.get().version == state + 1
    assert (
        evaluate(acute_if(symptom_onset_days=20), current_ruleset())["rules"][ETR03]["value"]
        == "consider"
    )
    # and loading the same files again changes nothing
    assert guidelines_load(directory=rules_dir).changed is False


def test_the_files_never_undo_a_version_an_admin_published(rules_dir, guideline_admin, centre_a):
    publish(
        onset_draft(guideline_admin, days=28),
        author=guideline_admin,
        approver=second_admin(centre_a),
    )
    report = guidelines_load()
    assert ETR03 in report.unchanged
    assert active_version().number == 2


def test_load_guidelines_command_reports_invalid_files(rules_dir, monkeypatch):
    _edit_rule_file(rules_dir, ETR03, lambda d: d["criteria"][0]["test"].update(input="onset"))
    monkeypatch.setattr("guidelines.loader.RULES_DIR", rules_dir)
    with pytest.raises(Exception, match="'onset' is not a known input"):
        guidelines_load(directory=rules_dir)
    from guidelines.management.commands import load_guidelines

    monkeypatch.setattr(
        load_guidelines, "guidelines_load", lambda: guidelines_load(directory=rules_dir)
    )
    with pytest.raises(CommandError, match="do not validate"):
        call_command("load_guidelines", stdout=StringIO())


def test_loader_fills_an_empty_database():
    RuleTestCase.objects.all().delete()
    RuleVersion.objects.all().delete()
    Rule.objects.all().delete()
    GuidelineSource.objects.all().delete()
    RuleSetState.objects.all().delete()
    assert current_ruleset() is default_ruleset()  # empty tables: the shipped files
    report = guidelines_load()
    assert len(report.created) == 38
    assert report.test_cases_added == sum(len(v) for v in read_test_cases().values())
    assert _by_id(current_ruleset()) == _by_id(default_ruleset())


@pytest.mark.parametrize("flushed", [False, True])
def test_the_rule_set_state_is_read_once_per_request(flushed, django_assert_max_num_queries):
    from guidelines import ruleset

    if flushed:  # as after a transactional test: no state row, no rules
        RuleTestCase.objects.all().delete()
        RuleVersion.objects.all().delete()
        RuleSetState.objects.all().delete()
    current_ruleset()  # warm the process cache
    ruleset._request_began()
    try:
        with django_assert_max_num_queries(2 if flushed else 1):
            versions = {current_ruleset().version for _ in range(25)}
    finally:
        ruleset._request_ended()
    assert len(versions) == 1
    with django_assert_max_num_queries(1 if not flushed else 2):
        current_ruleset()  # outside a request: one read per call
