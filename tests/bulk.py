"""Many cases and follow-up schedules at once, for the tests that compare costs at ten and at
a thousand rows (statements per page, queries per analysis).

The cases are the named scenarios (tests/scenarios.py) in turn, each with a patient of its
own, bulk-created in batches with their history rows (STYLE.md convention 11): a service
call per case would take minutes at a thousand. Values are valid by construction: the
scenarios' inputs pass the cases services, and the inputs another lesion entity does not
use are cleared as ``case_create`` clears them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from cases.entities import fields_not_applicable
from cases.models import Case, Patient, SegmentFinding
from followup.models import ResultSegment, Schedule, Visit, VisitResult, VisitState
from planning import services as planning_services
from planning.models import Device
from tests.factories import CaseFactory, PatientFactory
from tests.scenarios import SCENARIOS, Scenario
from venousapp.accounts.models import Centre, User

NUMBER_PREFIX = "9"  # bulk hospital numbers: "9" and seven digits, 90000001, ...

# The follow-up protocol of a stent placed for each lesion entity.
FOLLOW_UP_ENTITY = {
    "acute_thrombotic": "acute_thrombotic",
    "chronic_post_thrombotic": "post_thrombotic",
    "nivl": "nivl",
    "ivc_occlusion": "ivc_reconstruction",
    "iliocaval_atresia": "ivc_reconstruction",
}


def _next_number(centre: Centre) -> int:
    last = Patient.objects.filter(
        centre=centre, identifier__regex=rf"^{NUMBER_PREFIX}[0-9]{{7}}$"
    ).aggregate(last=Max("identifier"))["last"]
    return int(last[1:]) + 1 if last else 1


def _case(scenario: Scenario, patient: Patient, author: User, today: dt.date) -> Case:
    case = CaseFactory.build(patient=patient, author=author, **scenario.case_data(today))
    for name in fields_not_applicable(case.lesion_entity):
        setattr(case, name, None if Case._meta.get_field(name).null else "")
    return case


def cases_bulk_create(
    *, centre: Centre, author: User, count: int, today: dt.date, batch_size: int = 500
) -> list[Case]:
    """``count`` new cases at ``centre`` by ``author``, dated relative to ``today``, each
    with a new patient numbered after the centre's last bulk number; every batch is one
    transaction. Their overall status is not stored (a re-evaluation stores it)."""
    names = list(SCENARIOS)
    first = _next_number(centre)
    created: list[Case] = []
    for start in range(0, count, batch_size):
        numbers = range(first + start, first + min(start + batch_size, count))
        scenarios = [SCENARIOS[names[number % len(names)]] for number in numbers]
        with transaction.atomic():
            patients = bulk_create_with_history(
                [
                    PatientFactory.build(
                        centre=centre,
                        identifier=f"{NUMBER_PREFIX}{number:07d}",
                        sex=scenario.patient["sex"],
                        date_of_birth=scenario.patient["date_of_birth"],
                    )
                    for number, scenario in zip(numbers, scenarios, strict=True)
                ],
                Patient,
                default_user=author,
            )
            cases = bulk_create_with_history(
                [
                    _case(scenario, patient, author, today)
                    for patient, scenario in zip(patients, scenarios, strict=True)
                ],
                Case,
                default_user=author,
            )
            bulk_create_with_history(
                [
                    SegmentFinding(case=case, **finding)
                    for case, scenario in zip(cases, scenarios, strict=True)
                    for finding in scenario.findings
                ],
                SegmentFinding,
                default_user=author,
            )
        created += cases
    return created


def _stents(case: Case) -> list[tuple[str, str]]:
    if FOLLOW_UP_ENTITY[case.lesion_entity] == "ivc_reconstruction":
        return [("IVC", "midline"), ("CIV", "left"), ("CIV", "right")]
    side = "right" if case.side == "right" else "left"
    return [("CIV", side), ("EIV", side)]


def schedules_bulk_create(
    *, centre: Centre, author: User, count: int, now: dt.datetime
) -> list[Schedule]:
    """``count`` follow-up schedules at ``centre``: procedures on new cases
    (``cases_bulk_create``), one a week going back from a week before ``now``, stenting the
    segments of the case's entity, completed by ``author`` through the planning services
    (so the follow-up app plans each schedule as in the clinic). Every visit whose window
    closed before today is done on its target date with a normal duplex of each stent; the
    results are bulk-created with their history rows."""
    today = centre.today(now)
    stent = Device.objects.filter(kind="stent", retired_at__isnull=True).order_by("pk").first()
    cases = cases_bulk_create(
        centre=centre, author=author, count=count, today=today - dt.timedelta(weeks=count + 1)
    )
    records = []
    for weeks, case in enumerate(cases):
        record = planning_services.procedure_record_create(
            case=case,
            author=author,
            now=now,
            data={
                "performed_on": today - dt.timedelta(weeks=weeks + 1),
                "operators": "Dr Bulk",
                "access_used": "Right common femoral vein",
                "technical_success": True,
                "antithrombotic_regimen": "DOAC",
                "follow_up_entity": FOLLOW_UP_ENTITY[case.lesion_entity],
            },
            implants=[
                {
                    "segment": segment,
                    "side": side,
                    "device": stent,
                    "diameter_mm": Decimal("14.0"),
                    "length_mm": 90,
                }
                for segment, side in _stents(case)
            ],
        )
        records.append(
            planning_services.procedure_record_complete(record=record, user=author, now=now)
        )
    schedules = list(Schedule.objects.filter(procedure__in=records).order_by("pk"))
    stents = {record.pk: _stents(record.case) for record in records}
    done = list(
        Visit.objects.filter(schedule__in=schedules, latest_on__lt=today)
        .select_related("schedule")
        .order_by("pk")
    )
    with transaction.atomic():
        for visit in done:
            visit.state = VisitState.DONE
        bulk_update_with_history(done, Visit, ["state"], default_user=author)
        results = bulk_create_with_history(
            [
                VisitResult(
                    visit=visit,
                    performed_on=visit.target_on,
                    recorded_by=author,
                    recorded_at=now,
                    phasicity="phasic",
                )
                for visit in done
            ],
            VisitResult,
            default_user=author,
        )
        bulk_create_with_history(
            [
                ResultSegment(
                    result=result,
                    segment=segment,
                    side=side,
                    patency="patent",
                    in_stent_thrombus=False,
                    isr_percent=0,
                    compression=False,
                )
                for result, visit in zip(results, done, strict=True)
                for segment, side in stents[visit.schedule.procedure_id]
            ],
            ResultSegment,
            default_user=author,
        )
    return schedules
