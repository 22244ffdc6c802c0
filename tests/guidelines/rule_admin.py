"""Helpers of the guideline-admin tests: a second guideline admin, drafts with a changed onset
window for SVSAVF-2012-ETR-03 (the shipped 14 days → 21), publishing, and stored cases."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from cases.models import Case, Finding
from guidelines.models import Rule, RuleVersion
from guidelines.services import authoring
from tests.factories import CaseFactory, PatientFactory, UserFactory
from venousapp.accounts.models import Centre, User

ETR03 = "SVSAVF-2012-ETR-03"


@pytest.fixture
def shipped_rules(db: None) -> None:
    """The rules the data migration loaded (tests/conftest.py restores them after a flush)."""
    assert Rule.objects.filter(versions__status="active").exists()


def second_admin(centre: Centre) -> User:
    return UserFactory(username="guidelines_admin2", centre=centre, role="guideline_admin")


def active_version(rule_id: str = ETR03) -> RuleVersion:
    return RuleVersion.objects.get(rule__rule_id=rule_id, status="active")


def with_onset_limit(definition: dict[str, Any], days: int) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    for criterion in changed["criteria"]:
        if criterion["id"] == "onset":
            criterion["test"]["value"] = days
            criterion["label"] = f"Symptoms for {days} days or fewer"
    return changed


def onset_draft(author: User, days: int = 21, rule_id: str = ETR03) -> RuleVersion:
    rule = Rule.objects.get(rule_id=rule_id)
    draft = authoring.rule_version_create_draft(rule=rule, author=author)
    return authoring.rule_version_update(
        version=draft,
        user=author,
        definition=with_onset_limit(draft.definition, days),
        change_note=f"Onset window {days} days",
    )


def publish(version: RuleVersion, *, author: User, approver: User) -> RuleVersion:
    authoring.rule_version_submit(version=version, user=author)
    return authoring.rule_version_approve(version=version, user=approver)


def acute_iliofemoral_case(
    *, centre: Centre, author: User, onset_days: int, identifier: str | None = None
) -> Case:
    """A stored acute left iliofemoral DVT meeting every ETR criterion except, perhaps, the
    onset window."""
    case_date = dt.date(2026, 11, 2)
    patient = PatientFactory(centre=centre, **({"identifier": identifier} if identifier else {}))
    return CaseFactory(
        patient=patient,
        author=author,
        case_date=case_date,
        lesion_entity="acute_thrombotic",
        ceap="C3,s",
        symptom_onset_date=case_date - dt.timedelta(days=onset_days),
        first_episode=True,
        phlegmasia=False,
        symptom_severity="severe",
        ambulatory=True,
        life_expectancy_years=20,
        bleeding_risk_level="low",
        contraindications_assessed=True,
        thrombolysis_contraindications=[],
        severe_tortuosity=False,
        diameter_mismatch=False,
        active_infection=False,
        endovascular_contraindication=False,
        findings=[
            {"segment": "CIV", "side": "left", "finding": Finding.THROMBUS},
            {"segment": "EIV", "side": "left", "finding": Finding.THROMBUS},
            {"segment": "CFV", "side": "left", "finding": Finding.THROMBUS},
        ],
    )


_LOW_BLEEDING = {"level": "low", "contraindication_class": "none", "factors": []}
_NO_DEVICE_PROBLEM = {
    "active_infection": False,
    "severe_tortuosity": False,
    "diameter_mismatch": False,
    "endovascular_contraindication": False,
}


def acute_facts(**overrides: Any) -> dict[str, Any]:
    """Facts of an acute left iliofemoral DVT meeting every ETR criterion."""
    facts = {
        "lesion_entity": "acute_thrombotic",
        "side": "left",
        "segments_involved": ["CIV", "EIV", "CFV"],
        "symptom_onset_days": 5,
        "first_episode": True,
        "phlegmasia": False,
        "symptom_severity": "severe",
        "bleeding_risk": dict(_LOW_BLEEDING),
        "ambulatory": True,
        "life_expectancy_years": 20,
        **_NO_DEVICE_PROBLEM,
    }
    facts.update(overrides)
    return facts


def chronic_facts(**overrides: Any) -> dict[str, Any]:
    """Facts of a symptomatic chronic post-thrombotic iliac occlusion (stent indicated)."""
    facts = {
        "lesion_entity": "chronic_post_thrombotic",
        "side": "left",
        "segments_involved": ["CIV", "EIV"],
        "obstruction": {"type": "occlusion"},
        "ceap": "C4b,s",
        "ulcer": "none",
        "venous_claudication": True,
        "qol_impairment": "severe",
        "inflow": "good",
        "long_term_anticoagulation_possible": True,
        **_NO_DEVICE_PROBLEM,
    }
    facts.update(overrides)
    return facts
