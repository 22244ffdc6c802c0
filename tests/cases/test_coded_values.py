"""Coded values are checked against their vocabulary on every write, not only by the form and
the API: the services (which the demo seed and any import use) refuse unknown codes, and
migration 0007 brings codes stored before that to the thrombolysis checklist (SIR 2014,
docs/safety.md#one-contraindication-class)."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases import services
from cases.models import Case, Patient
from guidelines.selectors import stored_evaluations

pytestmark = pytest.mark.django_db

MIGRATION = "0007_coded_values_vocabulary"
FINDINGS = [{"segment": "CIV", "side": "left", "finding": "thrombus"}]


def acute_case(patient: Patient, author: Any, **data: Any) -> Case:
    """An acute iliofemoral case entered like every case: through the service."""
    values = {
        "case_date": dt.date(2026, 11, 2),
        "side": "left",
        "lesion_entity": "acute_thrombotic",
        "symptom_onset_date": dt.date(2026, 10, 30),
        "bleeding_risk_level": "low",
        "contraindications_assessed": True,
        **data,
    }
    return services.case_create(patient=patient, author=author, data=values, findings=FINDINGS)


@pytest.mark.parametrize(
    ("ticks", "message"),
    [
        (["recent_major_event"], "Unknown thrombolysis contraindication code: recent_major_event."),
        (
            ["renal_failure", "bad_luck", "RENAL_FAILURE"],
            "Unknown thrombolysis contraindication codes: bad_luck, RENAL_FAILURE.",
        ),
        ("renal_failure", "Expected a list of thrombolysis contraindication codes."),
        ([["renal_failure"]], "Expected a list of thrombolysis contraindication codes."),
    ],
)
def test_case_create_service_refuses_codes_outside_the_checklist(
    patient_a, clinician, ticks, message
):
    with pytest.raises(ValidationError) as caught:
        acute_case(patient_a, clinician, thrombolysis_contraindications=ticks)
    assert caught.value.message_dict == {"thrombolysis_contraindications": [message]}
    assert not Case.objects.exists()


def test_case_update_service_refuses_an_unreadable_ceap(patient_a, clinician):
    case = acute_case(patient_a, clinician, ceap="C3,s")
    with pytest.raises(ValidationError) as caught:
        services.case_update(case=case, user=case.author, data={"ceap": "C4b,s Es Ai,p Pr,o"})
    assert caught.value.message_dict == {
        "ceap": ["Ai is not a CEAP anatomy code; did you mean Ad?"]
    }
    case.refresh_from_db()
    assert case.ceap == "C3,s"


# --- migration 0007 ---------------------------------------------------------------------------


def _migrate_codes() -> None:
    module = importlib.import_module(f"cases.migrations.{MIGRATION}")
    state = MigrationExecutor(connection).loader.project_state(("cases", MIGRATION))
    module.codes_to_vocabulary(state.apps, None)


def _stored_before_0007(case: Case, ticks: list[str]) -> Case:
    """The case as saved when the model accepted any string (the demo stored one): the case
    and its history row hold ``ticks``."""
    Case.objects.filter(pk=case.pk).update(thrombolysis_contraindications=ticks)
    Case.history.filter(id=case.pk).update(thrombolysis_contraindications=ticks)
    case.refresh_from_db()
    return case


def test_migration_maps_recent_major_event_to_the_checklist_code(patient_a, clinician):
    case = _stored_before_0007(
        acute_case(patient_a, clinician), ["recent_major_event", "uncontrolled_hypertension"]
    )
    assert case.overall_status is not None

    _migrate_codes()

    case.refresh_from_db()
    assert case.thrombolysis_contraindications == ["major_event_10d", "uncontrolled_hypertension"]
    assert case.contraindications_assessed is True
    case.full_clean()
    latest = case.history.latest()
    assert latest.history_type == "~"
    assert latest.thrombolysis_contraindications == case.thrombolysis_contraindications
    assert latest.history_change_reason == (
        "Checklist codes (migration 0007): recent_major_event read as major_event_10d."
    )
    # the stored status was computed without the mapped code: it is due for re-evaluation
    assert case.overall_status is None
    assert case.evaluated_ruleset is None
    assert stored_evaluations().stale == 1


def test_migration_removes_unknown_codes_and_asks_for_a_new_assessment(patient_a, clinician):
    case = _stored_before_0007(acute_case(patient_a, clinician), ["bad_luck"])

    _migrate_codes()

    case.refresh_from_db()
    assert case.thrombolysis_contraindications == []
    # an empty checklist that was "assessed" would now read "no contraindication"
    assert case.contraindications_assessed is False
    assert case.history.latest().history_change_reason == (
        "Checklist codes (migration 0007): removed unknown bad_luck; to be assessed again."
    )
    old = case.history.filter(history_type="+").get()
    assert old.thrombolysis_contraindications == ["bad_luck"]  # what was stored stays readable


def test_migration_keeps_known_codes_once(patient_a, clinician):
    case = _stored_before_0007(
        acute_case(patient_a, clinician), ["major_event_10d", "recent_major_event"]
    )

    _migrate_codes()

    case.refresh_from_db()
    assert case.thrombolysis_contraindications == ["major_event_10d"]


def test_migration_leaves_cases_with_checklist_codes_alone(patient_a, clinician):
    case = acute_case(patient_a, clinician, thrombolysis_contraindications=["renal_failure"])
    history = case.history.count()

    _migrate_codes()
    _migrate_codes()

    case.refresh_from_db()
    assert case.thrombolysis_contraindications == ["renal_failure"]
    assert case.history.count() == history
    assert case.overall_status is not None
    assert stored_evaluations().stale == 0
