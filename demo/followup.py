"""Demo follow-up data: completed procedures whose schedules have visits due soon, due,
overdue, missed and done (one with an open escalation), a patency cohort followed for up to
three years (``manage.py seed_patency_demo``), and a synthetic generator of scheduled
visits for benchmarks.

The patency cohort gives the Kaplan–Meier curves something to show (occlusions,
restenoses, re-interventions that did and did not restore patency, falling rVCSS and
Villalta scores). It is a command of its own, run after ``seed_demo``, because its 23
patients and cases would change the case list that ``seed_demo`` promises.

The hand-written part goes through the planning and follow-up services like a user would:
``planning.services.procedure_record_create``/``procedure_record_complete`` (which calls
``followup.services.schedules.followup_schedule_create``), then contact attempts and results. It is
idempotent: a demo case that already has a procedure record is left alone.

The synthetic part (``visits=N``, PostgreSQL only) is for ``bench/``: cases come from
``demo.cases.synthetic_cases_create``; procedure records, implants, schedules, visits,
results and reminders are written with ``COPY`` in batches, each row with its historical
row (STYLE.md convention 11), valid by construction (the same date rules as the services:
``surveillance.plan_visits``). Past visits are done with a normal result, a few are left
open (missed or overdue); reminders whose time has passed count as already sent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from cases import services as cases_services
from cases.models import Case, LesionEntity
from demo import cases as cases_demo
from followup import defaults, surveillance
from followup.models import (
    Protocol,
    Reminder,
    ResultSegment,
    Schedule,
    Visit,
    VisitResult,
)
from followup.services.clock import centre_today, centre_zone, local_at, reminder_hour
from followup.services.escalations import escalation_decide
from followup.services.protocols import protocol_spec, protocols_ensure_defaults
from followup.services.results import reintervention_record, visit_result_record
from followup.services.visits import contact_attempt_log
from planning import services as planning_services
from planning.models import Device, ImplantedDevice, ProcedureRecord
from venousapp.accounts.models import Centre, Role, User


@dataclass(frozen=True)
class DemoProcedure:
    """One demo procedure on a hand-written demo case (by its patient's hospital number)."""

    identifier: str
    entity: str
    days_ago: int
    stents: tuple[tuple[str, str], ...]
    done: tuple[int, ...] = ()  # visit sequences recorded as done (normal unless abnormal)
    abnormal: dict[int, dict[str, Any]] = field(default_factory=dict)  # sequence -> segment
    contacts: tuple[tuple[int, str, str], ...] = ()  # (sequence, method, outcome)


# Relative to today: NIVL 33 days ago (6-week visit due soon), acute 13 days ago (2-week
# visit due), post-thrombotic 100 days ago (3-month visit overdue, an open escalation for an
# ISR at 6 weeks), IVC 60 days ago (6-week visit missed, calls unanswered).
DEMO_PROCEDURES: tuple[DemoProcedure, ...] = (
    DemoProcedure("40127702", "nivl", 33, (("CIV", "left"),), done=(1,)),
    DemoProcedure(
        "40118234",
        "acute_thrombotic",
        13,
        (("CIV", "left"), ("EIV", "left")),
        done=(1,),
        contacts=((2, "phone", "booked"),),
    ),
    DemoProcedure(
        "40104476",
        "post_thrombotic",
        100,
        (("CIV", "left"), ("EIV", "left")),
        done=(1, 2, 3),
        abnormal={3: {"segment": "CIV", "side": "left", "isr_percent": 55}},
        contacts=((4, "phone", "no_answer"), (4, "letter", "sent")),
    ),
    DemoProcedure(
        "40112630",
        "ivc_reconstruction",
        60,
        (("IVC", "midline"), ("CIV", "left"), ("CIV", "right")),
        done=(1, 2),
        contacts=((3, "phone", "no_answer"), (3, "phone", "voicemail")),
    ),
    DemoProcedure("CH209934", "nivl", 45, (("CIV", "left"),), done=(1,)),
)


# --- the patency cohort ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reopen:
    """A re-intervention ``days`` after the visit ``after`` (docs/followup.md#patency)."""

    after: str
    days: int
    for_occlusion: bool
    successful: bool = True


@dataclass(frozen=True)
class PatencyDemo:
    """A demo patient of centre A followed for ``months_ago`` months after stenting.

    Every visit whose target date has passed is done (performed on its target date), so the
    cohort leaves nothing on the nurses' worklist but its upcoming visits. The left CIV is
    ``occluded`` from the visit named until a successful re-intervention for occlusion, and
    restenosed (``isr``: visit -> %) where said; abnormal results raise escalations, which
    the demo clinician decides (re-intervene when a ``Reopen`` follows, else observe).
    """

    identifier: str
    entity: str
    months_ago: int
    occluded: tuple[str, ...] = ()
    isr: tuple[tuple[str, int], ...] = ()
    reopen: tuple[Reopen, ...] = ()
    baseline: tuple[int, int] = (10, 12)  # rVCSS and Villalta totals at the case


# Template demo cases (demo.cases) whose inputs the cohort's cases reuse, per entity.
_TEMPLATE_CASE = {
    "nivl": "40127702",
    "acute_thrombotic": "40118234",
    "post_thrombotic": "40104476",
    "ivc_reconstruction": "40112630",
}
_STENTS = {
    "ivc_reconstruction": (("IVC", "midline"), ("CIV", "left"), ("CIV", "right")),
}

PATENCY_DEMO: tuple[PatencyDemo, ...] = (
    PatencyDemo("40160001", "nivl", 30, baseline=(6, 7)),
    PatencyDemo("40160002", "nivl", 26, baseline=(5, 6)),
    PatencyDemo(
        "40160003",
        "nivl",
        20,
        isr=(("12 months", 60),),
        reopen=(Reopen("12 months", 9, for_occlusion=False),),
        baseline=(7, 8),
    ),
    PatencyDemo("40160004", "nivl", 16, baseline=(4, 5)),
    PatencyDemo("40160005", "nivl", 9, baseline=(6, 6)),
    PatencyDemo(
        "40160006",
        "nivl",
        14,
        occluded=("6 months",),
        reopen=(Reopen("6 months", 3, for_occlusion=True),),
        baseline=(8, 9),
    ),
    PatencyDemo(
        "40160011",
        "acute_thrombotic",
        28,
        occluded=("2 weeks",),
        reopen=(Reopen("2 weeks", 1, for_occlusion=True),),
        baseline=(9, 14),
    ),
    PatencyDemo("40160012", "acute_thrombotic", 24, baseline=(8, 12)),
    PatencyDemo(
        "40160013",
        "acute_thrombotic",
        18,
        occluded=("3 months",),
        reopen=(Reopen("3 months", 2, for_occlusion=True, successful=False),),
        baseline=(11, 16),
    ),
    PatencyDemo("40160014", "acute_thrombotic", 15, baseline=(7, 10)),
    PatencyDemo(
        "40160015",
        "acute_thrombotic",
        12,
        isr=(("6 months", 55),),
        reopen=(Reopen("6 months", 14, for_occlusion=False),),
        baseline=(9, 13),
    ),
    PatencyDemo("40160016", "acute_thrombotic", 7, baseline=(8, 11)),
    PatencyDemo(
        "40160021",
        "post_thrombotic",
        36,
        isr=(("6 months", 60),),
        occluded=("Year 2",),
        reopen=(
            Reopen("6 months", 10, for_occlusion=False),
            Reopen("Year 2", 4, for_occlusion=True),
        ),
        baseline=(14, 17),
    ),
    PatencyDemo("40160022", "post_thrombotic", 32, baseline=(12, 15)),
    PatencyDemo(
        "40160023",
        "post_thrombotic",
        27,
        occluded=("6 weeks", "12 months"),
        reopen=(Reopen("6 weeks", 2, for_occlusion=True),),
        baseline=(15, 19),
    ),
    PatencyDemo("40160024", "post_thrombotic", 22, baseline=(11, 13)),
    PatencyDemo(
        "40160025",
        "post_thrombotic",
        19,
        isr=(("12 months", 70),),
        reopen=(Reopen("12 months", 12, for_occlusion=False),),
        baseline=(13, 16),
    ),
    PatencyDemo(
        "40160026",
        "post_thrombotic",
        14,
        occluded=("3 months",),
        reopen=(
            Reopen("3 months", 2, for_occlusion=True, successful=False),
            Reopen("3 months", 9, for_occlusion=True),
        ),
        baseline=(12, 14),
    ),
    PatencyDemo("40160027", "post_thrombotic", 10, baseline=(10, 12)),
    PatencyDemo("40160028", "post_thrombotic", 5, baseline=(12, 15)),
    PatencyDemo("40160031", "ivc_reconstruction", 30, baseline=(14, 18)),
    PatencyDemo(
        "40160032",
        "ivc_reconstruction",
        20,
        occluded=("6 months",),
        reopen=(Reopen("6 months", 5, for_occlusion=True),),
        baseline=(16, 20),
    ),
    PatencyDemo("40160033", "ivc_reconstruction", 11, baseline=(13, 15)),
)


def _graded(items: Sequence[Any], total: int) -> list[int]:
    """Item grades (0–3) adding up to ``total``, spread over the items."""
    grades = [0] * len(items)
    for i in range(min(total, 3 * len(items))):
        grades[i % len(items)] += 1
    return grades


def _scores(total_vcss: int, total_villalta: int) -> dict[str, int]:
    from cases import scores

    out = {
        f"vcss_{item.key}": g
        for item, g in zip(scores.VCSS_ITEMS, _graded(scores.VCSS_ITEMS, total_vcss), strict=True)
    }
    out.update(
        {
            f"villalta_{item.key}": g
            for item, g in zip(
                scores.VILLALTA_ITEMS,
                _graded(scores.VILLALTA_ITEMS, total_villalta),
                strict=True,
            )
        }
    )
    return out


def _cohort_case(spec: PatencyDemo, number: int, performed_on: dt.date, author: User) -> Case:
    template = next(
        c for c in cases_demo.DEMO_CASES if c.patient["identifier"] == _TEMPLATE_CASE[spec.entity]
    )
    centre = Centre.objects.get(code=template.centre)
    patient = cases_services.patient_get_or_create(
        centre=centre,
        data={
            "identifier": spec.identifier,
            "name": f"Patency Demo {number:02d}",
            "sex": template.patient["sex"],
            "date_of_birth": dt.date(1960 + 2 * number, 1 + number % 12, 1 + number),
        },
        user=author,
    )
    case_date = performed_on - dt.timedelta(days=3)
    data = {**template.data, "case_date": case_date, **_scores(*spec.baseline)}
    if template.onset_days is not None:
        data["symptom_onset_date"] = case_date - dt.timedelta(days=template.onset_days)
    return cases_services.case_create(
        patient=patient, author=author, data=data, findings=[dict(f) for f in template.findings]
    )


def _cohort_history(
    spec: PatencyDemo, schedule: Schedule, nurse: User, clinician: User, today: dt.date
) -> None:
    centre = schedule.centre
    isr = dict(spec.isr)
    reopen = {r.after: r for r in spec.reopen}
    occluded = False
    done = [v for v in schedule.visits.order_by("target_on", "sequence") if v.target_on < today]
    for index, visit in enumerate(done):
        occluded = occluded or visit.label in spec.occluded
        at = local_at(centre, visit.target_on, 15)
        segments = _segments(
            _STENTS.get(spec.entity, (("CIV", "left"), ("EIV", "left"))),
            {
                "segment": "CIV",
                "side": "left",
                "patency": "occluded" if occluded else "patent",
                "isr_percent": isr.get(visit.label, 0),
            },
        )
        # Symptoms improve after stenting, and relapse while the stent is occluded.
        vcss_total = max(2, spec.baseline[0] - 2 * (index + 1)) + (4 if occluded else 0)
        villalta_total = max(2, spec.baseline[1] - 2 * (index + 1)) + (5 if occluded else 0)
        result = visit_result_record(
            visit=visit,
            user=nurse,
            now=at,
            data={
                "performed_on": visit.target_on,
                "phasicity": "lost" if occluded else "phasic",
                "ulcer_status": "none",
                "compression_use": "daily",
                "antithrombotic_adherence": "adherent",
                **(_scores(vcss_total, villalta_total) if visit.with_clinical else {}),
            },
            segments=segments if visit.kind != "clinical" else [],
        )
        follow = reopen.get(visit.label)
        for escalation in result.escalations.all():
            escalation_decide(
                escalation=escalation,
                user=clinician,
                decision="reintervene" if follow else "observe",
                note="Demo: decided at the visit.",
                now=at + dt.timedelta(hours=1),
            )
        for step in (r for r in spec.reopen if r.after == visit.label):
            on = visit.target_on + dt.timedelta(days=step.days)
            reintervention_record(
                schedule=schedule,
                user=clinician,
                now=local_at(centre, on, 18),
                data={
                    "performed_on": on,
                    "kind": "thrombectomy_lysis" if step.for_occlusion else "angioplasty",
                    "for_occlusion": step.for_occlusion,
                    "successful": step.successful,
                    "segments": ["CIV:left"],
                    "escalation": result.escalations.order_by("pk").first(),
                },
            )
            if step.for_occlusion and step.successful:
                occluded = False


def patency_cohort_create(*, now: dt.datetime | None = None) -> int:
    """The demo patency cohort's procedures that do not exist yet (at the demo's centre A,
    by its clinician and nurse); returns how many were new. A patient of the cohort who
    already has a procedure record is left alone. ``ValueError`` without the demo."""
    now = now or timezone.now()
    stent = _stent()
    centre = Centre.objects.filter(code=cases_demo.CENTRE_A.code).first()
    clinician = _user(centre, Role.CLINICIAN) if centre else None
    nurse = (_user(centre, Role.NURSE) if centre else None) or clinician
    if stent is None or centre is None or clinician is None or nurse is None:
        raise ValueError(
            "The demo centre, its clinician and a catalogue stent are needed: run seed_demo first."
        )
    today = centre_today(centre, now)
    created = 0
    for number, spec in enumerate(PATENCY_DEMO, start=1):
        if ProcedureRecord.objects.filter(
            case__patient__centre=centre, case__patient__identifier=spec.identifier
        ).exists():
            continue
        performed_on = surveillance.add_months(today, -spec.months_ago)
        with transaction.atomic():
            case = _cohort_case(spec, number, performed_on, clinician)
            record = planning_services.procedure_record_create(
                case=case,
                author=clinician,
                data={
                    "performed_on": performed_on,
                    "operators": clinician.get_full_name() or clinician.get_username(),
                    "access_used": "Right common femoral vein",
                    "technical_success": True,
                    "antithrombotic_regimen": "LMWH 4 weeks, then a DOAC.",
                    "follow_up_entity": spec.entity,
                },
                implants=[
                    {
                        "segment": s,
                        "side": d,
                        "device": stent,
                        "diameter_mm": Decimal("14.0"),
                        "length_mm": 90,
                        "lot": "",
                    }
                    for s, d in _STENTS.get(spec.entity, (("CIV", "left"), ("EIV", "left")))
                ],
            )
            completed = local_at(centre, performed_on, 17)
            planning_services.procedure_record_complete(
                record=record, user=clinician, now=completed
            )
            schedule = Schedule.objects.get(procedure=record)
            _cohort_history(spec, schedule, nurse, clinician, today)
        created += 1
    return created


@dataclass
class FollowupSeedResult:
    demo_procedures: int = 0
    synthetic_visits: int = 0
    synthetic_schedules: int = 0
    seconds: float = 0.0


def _stent() -> Device | None:
    return (
        Device.objects.filter(kind="stent", retired_at__isnull=True)
        .order_by("position", "pk")
        .first()
    )


def _user(centre: Centre, role: Role) -> User | None:
    return (
        User.objects.filter(centre=centre, groups__name=role, is_active=True).order_by("pk").first()
    )


def _segments(
    stents: Iterable[tuple[str, str]], abnormal: dict[str, Any] | None
) -> list[dict[str, Any]]:
    rows = []
    for segment, side in stents:
        row: dict[str, Any] = {
            "segment": segment,
            "side": side,
            "patency": "patent",
            "in_stent_thrombus": False,
            "isr_percent": 0,
            "compression": False,
        }
        if abnormal and (abnormal["segment"], abnormal["side"]) == (segment, side):
            row.update({k: v for k, v in abnormal.items() if k not in ("segment", "side")})
        rows.append(row)
    return rows


def demo_procedures_create(*, now: dt.datetime | None = None) -> int:
    """The hand-written demo procedures that do not exist yet; returns how many were new."""
    now = now or timezone.now()
    stent = _stent()
    created = 0
    for spec in DEMO_PROCEDURES:
        case = (
            Case.objects.filter(patient__identifier=spec.identifier)
            .select_related("patient__centre", "author")
            .order_by("pk")
            .first()
        )
        if case is None or ProcedureRecord.objects.filter(case=case).exists():
            continue
        centre = case.patient.centre
        nurse = _user(centre, Role.NURSE) or case.author
        today = centre_today(centre, now)
        with transaction.atomic():
            record = planning_services.procedure_record_create(
                case=case,
                author=case.author,
                data={
                    "performed_on": today - dt.timedelta(days=spec.days_ago),
                    "operators": case.author.get_full_name() or case.author.get_username(),
                    "access_used": "Right common femoral vein",
                    "technical_success": True,
                    "antithrombotic_regimen": "LMWH 4 weeks, then a DOAC for 6 months.",
                    "follow_up_entity": spec.entity,
                },
                implants=[
                    {
                        "segment": s,
                        "side": d,
                        "device": stent,
                        "diameter_mm": Decimal("14.0"),
                        "length_mm": 90,
                        "lot": "",
                    }
                    for s, d in spec.stents
                ]
                if stent
                else [],
            )
            planning_services.procedure_record_complete(record=record, user=case.author, now=now)
            schedule = Schedule.objects.get(procedure=record)
            visits = {v.sequence: v for v in schedule.visits.all()}
            for sequence, method, outcome in spec.contacts:
                contact_attempt_log(
                    visit=visits[sequence],
                    user=nurse,
                    data={"method": method, "outcome": outcome},
                    now=now,
                )
            for sequence in spec.done:
                visit = visits[sequence]
                visit_result_record(
                    visit=visit,
                    user=nurse,
                    now=now,
                    data={
                        "performed_on": min(visit.target_on, today),
                        "phasicity": "phasic",
                        "ulcer_status": "none",
                        "compression_use": "daily",
                        "pain_vas": 2,
                        "antithrombotic_adherence": "adherent",
                    },
                    segments=_segments(spec.stents if stent else (), spec.abnormal.get(sequence)),
                )
        created += 1
    return created


# --- synthetic visits (benchmarks) ------------------------------------------------------------

_ENTITY: dict[str, str] = {
    LesionEntity.NIVL: "nivl",
    LesionEntity.ACUTE_THROMBOTIC: "acute_thrombotic",
    LesionEntity.CHRONIC_POST_THROMBOTIC: "post_thrombotic",
    LesionEntity.IVC_OCCLUSION: "ivc_reconstruction",
    LesionEntity.ILIOCAVAL_ATRESIA: "ivc_reconstruction",
}
OPEN_PAST_SHARE = 0.03  # past visits left open (missed or overdue) in synthetic data
SYNTHETIC_REASON = "seed_demo --visits (synthetic)"
SCHEDULE_BATCH = 2_000


def _csv(value: Any) -> Any:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _copy(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    history_user: int | None,
    now: dt.datetime,
) -> None:
    """COPY ``rows`` (attname -> value, ids included) into the model's table and the same
    rows, as "created", into its simple_history table."""
    if not rows:
        return
    _copy_table(model, rows)
    historical = model.history.model  # type: ignore[attr-defined]
    extra = {
        "history_date": now,
        "history_type": "+",
        "history_user_id": history_user,
        "history_change_reason": SYNTHETIC_REASON,
    }
    _copy_table(historical, [{**row, **extra} for row in rows], skip=("history_id",))


def _copy_table(
    model: type[models.Model], rows: Sequence[dict[str, Any]], skip: Sequence[str] = ()
) -> None:
    fields = [f for f in model._meta.concrete_fields if f.attname not in skip]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv(row.get(f.attname)) for f in fields])
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
        )


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _stents_for(case: Case) -> list[tuple[str, str]]:
    side = "right" if case.side == "right" else "left"
    if _ENTITY[case.lesion_entity] == "ivc_reconstruction":
        return [("IVC", "midline"), ("CIV", "left"), ("CIV", "right")]
    return [("CIV", side), ("EIV", side)]


class SyntheticFollowup:
    """Builds the rows of one batch of synthetic schedules (see the module docstring)."""

    def __init__(
        self,
        *,
        seed: int,
        today: dt.date,
        now: dt.datetime,
        centre: Centre,
        author: User,
        device: Device | None,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.today, self.now, self.centre, self.author = today, now, centre, author
        self.device = device
        self.protocols = {
            p.entity: (p, protocol_spec(p))
            for p in Protocol.objects.filter(retired_at__isnull=True).prefetch_related("visits")
        }
        self.hour = reminder_hour()

    def plan(self, case: Case) -> tuple[str, dt.date, list[surveillance.PlannedVisit]]:
        entity = _ENTITY[case.lesion_entity]
        start = self.today - dt.timedelta(days=self.rng.randint(0, 5 * 365))
        spec = self.protocols[entity][1]
        horizon = max(
            surveillance.add_months(start, defaults.HORIZON_YEARS * 12),
            surveillance.add_months(self.today, defaults.HORIZON_YEARS * 12),
        )
        return entity, start, surveillance.plan_visits(spec, start=start, until=horizon)

    def rows(
        self, cases: Sequence[Case], budget: int
    ) -> tuple[dict[str, list[dict[str, Any]]], int]:
        plans = []
        total = 0
        for case in cases:
            if total >= budget:
                break
            entity, start, planned = self.plan(case)
            planned = planned[: budget - total]
            plans.append((case, entity, start, planned))
            total += len(planned)
        n = len(plans)
        record_ids = _reserve_ids(ProcedureRecord, n)
        schedule_ids = _reserve_ids(Schedule, n)
        visit_ids = iter(_reserve_ids(Visit, total))
        stents_per = [_stents_for(case) for case, *_ in plans]
        implant_ids = iter(
            _reserve_ids(ImplantedDevice, sum(map(len, stents_per))) if self.device else []
        )
        out: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in (
                "records",
                "implants",
                "schedules",
                "visits",
                "results",
                "segments",
                "reminders",
            )
        }
        done_visits: list[tuple[int, dt.date, list[tuple[str, str]]]] = []
        zone = centre_zone(self.centre)
        for (case, entity, start, planned), record_id, schedule_id, stents in zip(
            plans, record_ids, schedule_ids, stents_per, strict=True
        ):
            completed = dt.datetime.combine(start, dt.time(16), tzinfo=zone)
            out["records"].append(
                {
                    "id": record_id,
                    "case_id": case.pk,
                    "plan_id": None,
                    "author_id": self.author.pk,
                    "performed_on": start,
                    "operators": "Synthetic",
                    "access_used": "Right common femoral vein",
                    "ivus_before": "",
                    "ivus_after": "",
                    "technical_success": True,
                    "major_bleeding": False,
                    "pulmonary_embolism": False,
                    "early_stent_thrombosis": False,
                    "death": False,
                    "complication_notes": "",
                    "antithrombotic_regimen": "Synthetic regimen",
                    "follow_up_entity": entity,
                    "completed_at": completed,
                    "completed_by_id": self.author.pk,
                    "created_at": completed,
                    "updated_at": completed,
                }
            )
            if self.device:
                for position, (segment, side) in enumerate(stents):
                    out["implants"].append(
                        {
                            "id": next(implant_ids),
                            "record_id": record_id,
                            "position": position,
                            "segment": segment,
                            "side": side,
                            "device_id": self.device.pk,
                            "diameter_mm": Decimal("14.0"),
                            "length_mm": 90,
                            "lot": "",
                        }
                    )
            protocol, spec = self.protocols[entity]
            horizon = max(
                surveillance.add_months(start, defaults.HORIZON_YEARS * 12),
                surveillance.add_months(self.today, defaults.HORIZON_YEARS * 12),
            )
            out["schedules"].append(
                {
                    "id": schedule_id,
                    "procedure_id": record_id,
                    "case_id": case.pk,
                    "centre_id": self.centre.pk,
                    "protocol_id": protocol.pk,
                    "entity": entity,
                    "start_on": start,
                    "horizon_until": horizon,
                    "open_ended": surveillance.schedule_is_open_ended(
                        spec, start=start, horizon=horizon
                    ),
                    "created_at": completed,
                }
            )
            for p in planned:
                visit_id = next(visit_ids)
                past = p.latest_on < self.today
                done = past and self.rng.random() >= OPEN_PAST_SHARE
                out["visits"].append(
                    {
                        "id": visit_id,
                        "schedule_id": schedule_id,
                        "centre_id": self.centre.pk,
                        "entity": entity,
                        "sequence": p.sequence,
                        "label": p.label,
                        "kind": p.kind,
                        "with_clinical": p.with_clinical,
                        "target_on": p.target_on,
                        "earliest_on": p.earliest_on,
                        "latest_on": p.latest_on,
                        "notice_on": p.notice_on,
                        "state": "done" if done else "planned",
                        "reschedule_reason": "",
                        "close_reason": "",
                        "extra": False,
                        "last_contact_id": None,
                        "created_at": completed,
                    }
                )
                if done:
                    done_visits.append((visit_id, p.target_on, stents))
                else:
                    out["reminders"] += self._reminders(visit_id, p)
        result_ids = _reserve_ids(VisitResult, len(done_visits)) if done_visits else []
        segment_count = sum(len(s) for *_, s in done_visits) if self.device else 0
        segment_ids = iter(_reserve_ids(ResultSegment, segment_count) if segment_count else [])
        for (visit_id, day, stents), result_id in zip(done_visits, result_ids, strict=True):
            out["results"].append(self._result(result_id, visit_id, day))
            if self.device:
                out["segments"] += [
                    {
                        "id": next(segment_ids),
                        "result_id": result_id,
                        "segment": segment,
                        "side": side,
                        "patency": "patent",
                        "in_stent_thrombus": False,
                        "isr_percent": 0,
                        "peak_velocity_ratio": None,
                        "compression": False,
                    }
                    for segment, side in stents
                ]
        return out, total

    def _result(self, result_id: int, visit_id: int, day: dt.date) -> dict[str, Any]:
        row: dict[str, Any] = {f.attname: None for f in VisitResult._meta.concrete_fields}
        row.update(
            {
                f.attname: ""
                for f in VisitResult._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField)
            }
        )
        row.update(
            {
                "id": result_id,
                "visit_id": visit_id,
                "performed_on": day,
                "recorded_by_id": self.author.pk,
                "recorded_at": self.now,
                "phasicity": "phasic",
                "duplex_inconclusive": False,
                "abnormal_reasons": [],
                "pain_vas": self.rng.randint(0, 4),
            }
        )
        return row

    def _reminders(self, visit_id: int, p: surveillance.PlannedVisit) -> list[dict[str, Any]]:
        rows: list[tuple[str, dt.datetime]] = []
        if p.latest_on < self.today:
            return []
        zone = centre_zone(self.centre)
        at = dt.time(self.hour)
        if p.target_on >= self.today:
            rows.append(("window_open", dt.datetime.combine(p.earliest_on, at, tzinfo=zone)))
        if p.latest_on > p.target_on:
            rows.append(
                (
                    "overdue",
                    dt.datetime.combine(p.target_on + dt.timedelta(days=1), at, tzinfo=zone),
                )
            )
        return [
            {
                "visit_id": visit_id,
                "kind": kind,
                "due_at": due,
                "claimed_at": None,
                "sent_at": due if due <= self.now else None,
                "skipped": False,
                "tries": 0,
                "last_error": "",
            }
            for kind, due in rows
        ]


def synthetic_visits_create(
    *,
    centre: Centre,
    author: User,
    visits: int,
    seed: int = 2026,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """About ``visits`` synthetic scheduled visits at ``centre`` (PostgreSQL only); returns
    (visits, schedules) created."""
    if connection.vendor != "postgresql":
        raise ValueError("Synthetic follow-up data (--visits) needs PostgreSQL.")
    now = now or timezone.now()
    today = centre_today(centre, now)
    protocols_ensure_defaults()
    builder = SyntheticFollowup(
        seed=seed, today=today, now=now, centre=centre, author=author, device=_stent()
    )
    done = schedules = 0
    while done < visits:
        wanted = max(1, min(SCHEDULE_BATCH, (visits - done) // 9 + 1))
        before = Case.objects.aggregate(m=Max("pk"))["m"] or 0
        cases_demo.synthetic_cases_create(
            centre=centre, author=author, count=wanted, seed=seed + done, today=today
        )
        cases = list(Case.objects.filter(pk__gt=before, patient__centre=centre).order_by("pk"))
        with transaction.atomic():
            rows, made = builder.rows(cases, visits - done)
            user = author.pk
            _copy(ProcedureRecord, rows["records"], history_user=user, now=now)
            _copy(ImplantedDevice, rows["implants"], history_user=user, now=now)
            _copy(Schedule, rows["schedules"], history_user=user, now=now)
            _copy(Visit, rows["visits"], history_user=user, now=now)
            _copy(VisitResult, rows["results"], history_user=user, now=now)
            _copy(ResultSegment, rows["segments"], history_user=user, now=now)
            if rows["reminders"]:
                _copy_table(Reminder, rows["reminders"], skip=("id",))
        done += made
        schedules += len(rows["schedules"])
        if progress:
            progress(done)
    return done, schedules


def seed_followup(
    *,
    visits: int = 0,
    seed: int = 2026,
    centre_code: str = "centre-a",
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> FollowupSeedResult:
    """What ``seed_demo`` adds for the follow-up app (call it after the demo cases exist).

    ``visits`` > 0 also creates that many synthetic scheduled visits at ``centre_code``.
    """
    started = time.perf_counter()
    result = FollowupSeedResult(demo_procedures=demo_procedures_create(now=now))
    if visits:
        centre = Centre.objects.get(code=centre_code)
        author = _user(centre, Role.CLINICIAN)
        if author is None:
            raise ValueError(f"No clinician at {centre.code} to author synthetic procedures.")
        result.synthetic_visits, result.synthetic_schedules = synthetic_visits_create(
            centre=centre, author=author, visits=visits, seed=seed, now=now, progress=progress
        )
    result.seconds = time.perf_counter() - started
    return result
