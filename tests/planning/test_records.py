"""Procedure records: pre-filled from the plan, completed once, handed over to follow-up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup.apps import schedule_on_completion
from planning import services
from planning.models import Device, ProcedureRecord
from planning.signals import procedure_completed

pytestmark = pytest.mark.django_db

DATA = {
    "performed_on": dt.date(2026, 11, 20),
    "operators": "Alice Example, Bert Example",
    "access_used": "left CFV; right CFV; right IJV",
    "balloon_pressure_atm": Decimal("18"),
    "ivus_before": "IVC MLA 40 mm²",
    "ivus_after": "IVC MLA 260 mm²",
    "technical_success": True,
    "major_bleeding": False,
    "pulmonary_embolism": False,
    "early_stent_thrombosis": False,
    "death": False,
    "antithrombotic_regimen": "LMWH 4 weeks, then apixaban long term",
    "follow_up_entity": "ivc_reconstruction",
}


@pytest.fixture
def record(ivc_plan, clinician):
    initial = services.procedure_record_initial(plan=ivc_plan, user=clinician)
    implants = [dict(row, lot=f"LOT-{i}") for i, row in enumerate(initial["implants"])]
    return services.procedure_record_create(
        case=ivc_plan.case, plan=ivc_plan, author=clinician, data=DATA, implants=implants
    )


@pytest.fixture
def followup_spy():
    """The follow-up app's listener replaced by one recording the completions it is told of."""
    calls = []

    def spy(sender, record, now, **kwargs):
        calls.append((record.pk, now))

    procedure_completed.disconnect(dispatch_uid="followup.schedule_on_completion")
    procedure_completed.connect(spy, dispatch_uid="tests.followup_spy")
    yield calls
    procedure_completed.disconnect(dispatch_uid="tests.followup_spy")
    procedure_completed.connect(
        schedule_on_completion, dispatch_uid="followup.schedule_on_completion"
    )


def test_initial_record_is_filled_from_the_plan(ivc_plan, clinician):
    initial = services.procedure_record_initial(plan=ivc_plan, user=clinician)
    assert initial["access_used"].startswith("Left common femoral vein; Right common femoral vein")
    assert initial["follow_up_entity"] == "ivc_reconstruction"
    assert initial["antithrombotic_regimen"] == ivc_plan.antithrombotic_regimen
    assert {(i["segment"], i["side"]) for i in initial["implants"]} == {
        ("IVC", "midline"),
        ("CIV", "left"),
        ("CIV", "right"),
        ("EIV", "left"),
        ("EIV", "right"),
    }


def test_the_record_starts_on_the_centre_date(ivc_plan, clinician):
    centre = ivc_plan.case.patient.centre
    centre.time_zone = "Pacific/Auckland"  # UTC+13 in November
    centre.save()
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        initial = services.procedure_record_initial(plan=ivc_plan, user=clinician)
    assert initial["performed_on"] == dt.date(2026, 11, 21)


def test_only_the_ivc_is_midline(ivc_plan, clinician):
    initial = services.procedure_record_initial(plan=ivc_plan, user=clinician)
    implants = [dict(row, side="midline") for row in initial["implants"]]
    with pytest.raises(ValidationError, match="Only the IVC is midline"):
        services.procedure_record_create(
            case=ivc_plan.case, plan=ivc_plan, author=clinician, data=DATA, implants=implants
        )


def test_record_keeps_implants_with_lot_numbers(record):
    implants = list(record.implants.all())
    assert len(implants) == 5
    ivc = next(i for i in implants if i.segment == "IVC")
    assert (ivc.device.name, ivc.diameter_mm, ivc.length_mm) == ("sinus-XL", Decimal("22.0"), 100)
    assert all(i.lot.startswith("LOT-") for i in implants)
    assert record.complications == []


def test_one_record_per_plan(record, ivc_plan, clinician):
    with pytest.raises(ValidationError, match="already has a procedure record"):
        services.procedure_record_create(
            case=ivc_plan.case, plan=ivc_plan, author=clinician, data=DATA
        )


def test_record_without_a_plan_and_complications(make_case, clinician):
    case = make_case("chronic")
    record = services.procedure_record_create(
        case=case,
        author=clinician,
        data={
            **DATA,
            "major_bleeding": True,
            "early_stent_thrombosis": True,
            "follow_up_entity": "post_thrombotic",
        },
        implants=[
            {
                "segment": "CIV",
                "side": "left",
                "device": Device.objects.get(code="abre"),
                "diameter_mm": Decimal("16"),
                "length_mm": 100,
                "lot": "A1",
            }
        ],
    )
    assert record.plan is None
    assert record.complications == ["major bleeding", "early stent thrombosis"]


def test_plan_of_another_case_is_refused(ivc_plan, make_case, clinician):
    other = make_case("chronic")
    with pytest.raises(ValidationError, match="another case"):
        services.procedure_record_create(case=other, plan=ivc_plan, author=clinician, data=DATA)


def test_complete_calls_the_follow_up_service_once(record, clinician, followup_spy):
    now = timezone.now()
    done = services.procedure_record_complete(record=record, user=clinician, now=now)
    assert (done.completed_at, done.completed_by) == (now, clinician)
    assert followup_spy == [(record.pk, now)]
    again = services.procedure_record_complete(record=record, user=clinician)
    assert again.completed_at == now
    assert followup_spy == [(record.pk, now)]  # idempotent: no second schedule


def test_complete_creates_the_follow_up_schedule(record, clinician):
    from followup.models import Schedule

    services.procedure_record_complete(record=record, user=clinician)
    schedule = Schedule.objects.get(procedure=record)
    assert schedule.case_id == record.case_id
    services.procedure_record_complete(record=record, user=clinician)
    assert Schedule.objects.filter(procedure=record).count() == 1


def test_a_failing_follow_up_service_rolls_the_completion_back(record, clinician, followup_spy):
    def broken(sender, record, now, **kwargs):
        raise ValidationError("no schedule template")

    procedure_completed.connect(broken, dispatch_uid="tests.broken")
    try:
        with pytest.raises(ValidationError):
            services.procedure_record_complete(record=record, user=clinician)
    finally:
        procedure_completed.disconnect(dispatch_uid="tests.broken")
    record.refresh_from_db()
    assert record.completed_at is None


def test_complete_needs_the_technical_result(ivc_plan, clinician):
    record = services.procedure_record_create(
        case=ivc_plan.case,
        plan=ivc_plan,
        author=clinician,
        data={**DATA, "technical_success": None},
    )
    with pytest.raises(ValidationError) as excinfo:
        services.procedure_record_complete(record=record, user=clinician)
    assert "technical_success" in excinfo.value.message_dict


def test_completed_record_is_locked_and_the_plan_final(record, ivc_plan, clinician, followup_spy):
    services.plan_sign(plan=ivc_plan, user=clinician)
    services.procedure_record_complete(record=record, user=clinician)
    with pytest.raises(ValidationError, match="completed"):
        services.procedure_record_update(record=record, user=clinician, data={"operators": "X"})
    with pytest.raises(ValidationError, match="final"):
        services.plan_reopen(plan=ivc_plan, user=clinician)


def test_record_history_names_the_author(record, clinician):
    rows = ProcedureRecord.history.filter(id=record.pk)
    assert rows.count() == 1
    assert rows.first().history_user == clinician
    services.procedure_record_update(record=record, user=clinician, data={"ivus_after": "MLA 250"})
    assert rows.count() == 2
