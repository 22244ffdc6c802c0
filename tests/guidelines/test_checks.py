"""System checks guidelines.E001 / E002 / E003 / W001 on the database's active versions."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from guidelines import checks
from guidelines.models import Rule, RuleVersion
from guidelines.services import authoring
from tests.guidelines.rule_admin import (
    ETR03,
    active_version,
    shipped_rules,  # noqa: F401  (fixture)
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_rules")]


def _ids(messages):
    return [m.id for m in messages]


def test_the_migrated_rule_set_passes_the_checks():
    assert checks.check_active_rules(databases=["default"]) == []
    out = StringIO()
    call_command("check", databases=["default"], stdout=out)
    assert "no issues" in out.getvalue()


def test_the_checks_run_only_when_a_database_is_named():
    RuleVersion.objects.filter(rule__rule_id=ETR03).update(definition={"id": ETR03})
    assert checks.check_active_rules(databases=None) == []


def test_e001_names_the_rule_and_its_problems():
    version = active_version()
    broken = dict(version.definition)
    broken["criteria"] = [
        dict(broken["criteria"][0], test={"input": "onset", "op": "lte", "value": 14})
    ]
    RuleVersion.objects.filter(pk=version.pk).update(definition=broken)
    messages = checks.check_active_rules(databases=["default"])
    assert _ids(messages) == ["guidelines.E001"]
    assert ETR03 in messages[0].msg
    assert "criteria[0].test.input: 'onset' is not a known input" in messages[0].msg
    with pytest.raises(SystemCheckError, match=r"guidelines\.E001"):
        call_command("check", databases=["default"], stdout=StringIO(), stderr=StringIO())


def test_e002_when_a_required_scored_rule_has_no_active_version():
    RuleVersion.objects.filter(rule__rule_id=ETR03).update(status="superseded")
    messages = checks.check_active_rules(databases=["default"])
    assert _ids(messages) == ["guidelines.E002"]
    assert ETR03 in messages[0].msg
    RuleVersion.objects.filter(rule__rule_id="DEV-IFU-CONTRA").delete()
    assert _ids(checks.check_active_rules(databases=["default"])) == ["guidelines.E002"] * 2


def test_a_retired_required_rule_is_a_warning_not_an_error(guideline_admin):
    authoring.rule_retire(
        rule=Rule.objects.get(rule_id=ETR03),
        user=guideline_admin,
        reason="superseded by local protocol",
    )
    messages = checks.check_active_rules(databases=["default"])
    assert _ids(messages) == ["guidelines.W001"]


def test_e003_when_the_active_versions_form_a_cycle():
    version = active_version()
    cyclic = dict(version.definition)
    cyclic["population"] = {
        "all": [cyclic["population"], {"input": "etr_candidate", "op": "is_true"}]
    }
    RuleVersion.objects.filter(pk=version.pk).update(definition=cyclic)
    messages = checks.check_active_rules(databases=["default"])
    assert _ids(messages) == ["guidelines.E003"]
    assert "dependency cycle" in messages[0].msg


def test_the_checks_skip_before_migrate(monkeypatch):
    monkeypatch.setattr(checks, "_tables_exist", lambda alias: False)
    assert checks.check_active_rules(databases=["default"]) == []
