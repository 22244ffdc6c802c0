"""GET /api/v1/guidelines/plandefinitions: every published rule version as a PlanDefinition."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.plandefinition import PlanDefinition

from guidelines.models import RuleVersion, VersionStatus
from interop.plandefinitions import QUALITY, STRENGTH
from tests.conftest import PERSONAS

URL = "/api/v1/guidelines/plandefinitions"


def test_every_published_rule_is_a_valid_plandefinition(client_for):
    response = client_for("nurse").get(URL)
    assert response.status_code == 200
    bundle = Bundle.model_validate(response.json())
    published = RuleVersion.objects.filter(status=VersionStatus.ACTIVE).select_related("rule")
    by_rule = {v.rule.rule_id: v for v in published}
    exported = {}
    for entry in bundle.entry:
        plan = PlanDefinition.model_validate(entry.resource.model_dump(mode="json"))
        exported[plan.identifier[0].value] = plan
    assert set(exported) == set(by_rule)
    for rule_id, plan in exported.items():
        version = by_rule[rule_id]
        assert plan.version == str(version.number)
        assert plan.status == "active"
        (action,) = plan.action
        (artifact,) = action.documentation
        assert artifact.type == "citation"
        assert artifact.citation == version.source.citation
        if version.source.doi:
            assert artifact.url == f"https://doi.org/{version.source.doi}"
        if version.rule.engine == "scored":
            (condition,) = action.condition
            assert condition.kind == "applicability"
            logic = json.loads(condition.expression.expression)
            assert logic["population"] == version.definition["population"]
        urls = {extension.url for extension in action.extension or ()}
        if version.definition["strength"].get("native"):
            assert STRENGTH in urls
        if version.definition["strength"].get("level"):
            assert QUALITY in urls


def test_each_plandefinition_carries_its_versions_effective_period(client_for):
    version = RuleVersion.objects.filter(status=VersionStatus.ACTIVE).order_by("pk").first()
    RuleVersion.objects.filter(pk=version.pk).update(
        effective_from=dt.date(2024, 1, 1), effective_to=dt.date(2027, 12, 31)
    )
    bundle = Bundle.model_validate(client_for("nurse").get(URL).json())
    plans = {
        plan.identifier[0].value: plan
        for plan in (
            PlanDefinition.model_validate(e.resource.model_dump(mode="json")) for e in bundle.entry
        )
    }
    period = plans[version.rule.rule_id].effectivePeriod
    assert (period.start, period.end) == (dt.date(2024, 1, 1), dt.date(2027, 12, 31))
    for published in RuleVersion.objects.filter(status=VersionStatus.ACTIVE).select_related("rule"):
        period = plans[published.rule.rule_id].effectivePeriod
        if published.effective_from or published.effective_to:
            assert (period.start, period.end) == (published.effective_from, published.effective_to)
        else:
            assert period is None


def test_the_export_shows_no_maintainer_references(client_for):
    text = client_for("clinician").get(URL).content.decode()
    assert "brief_ref" not in text
    assert "maintainer_notes" not in text


@pytest.mark.parametrize("persona", PERSONAS)
def test_plandefinitions_permissions(client_for, persona):
    response = client_for(persona).get(URL)
    assert response.status_code == (401 if persona == "anonymous" else 200)
