"""The published rule set as FHIR PlanDefinitions: one per active rule version, with one action
holding the rule's applicability condition (its expression, as JSON text), the strength of the
recommendation and the quality of the evidence (the Clinical Reasoning extensions) and the
citation of its source (RelatedArtifact with the DOI); version, status and effective period
are the rule version's."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.expression import Expression
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.plandefinition import (
    PlanDefinition,
    PlanDefinitionAction,
    PlanDefinitionActionCondition,
)
from fhir.resources.R4B.relatedartifact import RelatedArtifact

from guidelines.models import RuleVersion, VersionStatus
from guidelines.presentation import strength_text
from interop import codes
from interop.resources import concept, day, local

STRENGTH = "http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation"
QUALITY = "http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
# What of a definition is its logic (the rest is text, grading and maintenance notes).
LOGIC_KEYS = ("population", "criteria", "switch", "positive", "failure")


def published_versions() -> list[RuleVersion]:
    return list(
        RuleVersion.objects.filter(status=VersionStatus.ACTIVE)
        .select_related("rule", "source")
        .order_by("rule__rule_id")
    )


def _name(rule_id: str) -> str:
    """A computer-friendly name (FHIR ``name``: starts with a capital, letters and digits)."""
    return "Rule" + re.sub(r"[^A-Za-z0-9]", "", rule_id)


def _extensions(strength: dict[str, Any]) -> list[Extension]:
    system = strength.get("system") or "NONE"
    graded = strength.get("normalised") or "not graded"
    out = []
    if strength.get("native") or strength.get("normalised"):
        out.append(
            Extension(
                url=STRENGTH,
                valueCodeableConcept=concept(
                    *(
                        [local(codes.LOCAL + f"strength-{system.lower()}", strength["native"])]
                        if strength.get("native")
                        else []
                    ),
                    text=f"{strength_text(strength)} ({graded})",
                ),
            )
        )
    if strength.get("level"):
        out.append(
            Extension(
                url=QUALITY,
                valueCodeableConcept=concept(
                    local(codes.LOCAL + f"evidence-{system.lower()}", strength["level"]),
                    text=f"{system} level {strength['level']}",
                ),
            )
        )
    return out


def plan_definition(version: RuleVersion) -> PlanDefinition:
    definition = version.definition
    rule_id = version.rule.rule_id
    source = version.source
    logic = {key: definition[key] for key in LOGIC_KEYS if key in definition}
    artifact = RelatedArtifact(
        type="citation",
        label=source.key,
        display=source.title,
        citation=source.citation,
        url=f"https://doi.org/{source.doi}" if source.doi else (source.url or None),
    )
    action = PlanDefinitionAction(
        title=rule_id,
        description=definition.get("text") or None,
        code=[concept(local(codes.RULE, rule_id), text=definition.get("topic"))],
        documentation=[artifact],
        condition=[
            PlanDefinitionActionCondition(
                kind="applicability",
                expression=Expression(
                    description=definition.get("population_text") or None,
                    language="application/json",
                    expression=json.dumps(logic, sort_keys=True),
                ),
            )
        ]
        if logic
        else None,
        extension=_extensions(definition.get("strength") or {}) or None,
    )
    effective = None
    if version.effective_from or version.effective_to:
        effective = Period(start=day(version.effective_from), end=day(version.effective_to))
    return PlanDefinition(
        id=re.sub(r"[^A-Za-z0-9\-.]", "-", rule_id)[:64],
        url=f"{settings.SITE_URL}/fhir/PlanDefinition/{rule_id}",
        identifier=[Identifier(system=codes.RULE, value=rule_id)],
        version=str(version.number),
        name=_name(rule_id),
        title=f"{source.society} {source.year}: {rule_id}",
        type=concept(
            local(PLAN_TYPE, "eca-rule" if version.rule.engine == "scored" else "clinical-protocol")
        ),
        status="active",
        date=version.published_at,
        publisher=source.society,
        description=definition.get("text") or None,
        effectivePeriod=effective,
        relatedArtifact=[artifact],
        action=[action],
    )


def plandefinitions_bundle() -> Bundle:
    return Bundle(
        type="collection",
        timestamp=timezone.now(),
        entry=[
            BundleEntry(
                fullUrl=f"{settings.SITE_URL}/fhir/PlanDefinition/{version.rule.rule_id}",
                resource=plan_definition(version),
            )
            for version in published_versions()
        ],
    )
