"""Writes of the follow-up app: schedules, protocol revisions, contact attempts, reschedules,
visit results, escalations and re-interventions.

Every write is atomic, validated (``full_clean``) and leaves a history row naming its author
(``venousapp.history``). Time is a parameter (``now``); the centre's local date decides what is
"today" for a visit. Delivery of reminders lives in ``followup.notifications``.

The patency analytics are computed inline for a small cohort and by a Celery worker for a
large one (``patency_analytics``), like the guidelines' impact preview: the worker's
``PatencyReport`` row carries its progress and result.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from followup import defaults, patency, selectors, surveillance
from followup.models import (
    ContactAttempt,
    Decision,
    Escalation,
    EscalationNotice,
    Notification,
    PatencyReport,
    Protocol,
    ProtocolVisit,
    ReIntervention,
    Reminder,
    ReminderKind,
    ResultSegment,
    Schedule,
    Visit,
    VisitKind,
    VisitResult,
    VisitState,
)
from planning.models import ProcedureRecord
from venousapp import dates, jobs
from venousapp.accounts.models import Centre, User
from venousapp.history import delete_with_history, save_with_history
from venousapp.models import JobStatus

EXTRA_SEQUENCE_BASE = 1000  # unscheduled (re-imaging) visits; protocol visits stay below
EXTEND_WHEN_WITHIN_DAYS = 366  # extend a lifelong schedule when its horizon is this close
REIMAGE_WINDOW_DAYS = 7
# A report queued or running for longer than the task's time limit was lost (its message or
# its worker): a new one is started rather than polled forever.
PATENCY_RUNNING_SECONDS = 20 * 60


# --- time -------------------------------------------------------------------------------------


def centre_zone(centre: Centre) -> zoneinfo.ZoneInfo:
    return centre.zone


def centre_today(centre: Centre, now: dt.datetime | None = None) -> dt.date:
    """The calendar date at the centre right now (visits are due by local date)."""
    return centre.today(now)


def local_at(centre: Centre, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=centre_zone(centre))


def reminder_hour() -> int:
    return int(settings.FOLLOWUP_REMINDER_HOUR)


# --- protocols --------------------------------------------------------------------------------

_PROTOCOL_FIELDS = (
    "name",
    "description",
    "yearly_from_months",
    "yearly_until_years",
    "yearly_kind",
    "yearly_with_clinical",
    "yearly_window_days",
    "due_soon_days",
    "evidence",
)
_PROTOCOL_VISIT_FIELDS = (
    "label",
    "offset_value",
    "offset_unit",
    "kind",
    "with_clinical",
    "window_before_days",
    "window_after_days",
)


def protocols_ensure_defaults(*, apps: Any = None) -> int:
    """Create version 1 of each §8.2 protocol whose entity has no protocol at all.

    Run by the data migration and after every ``flush`` (post_migrate): a guideline admin
    never deletes a protocol (revisions retire the old version), so a missing entity means a
    fresh or flushed database. Returns how many protocols were created.
    """
    protocol_model = apps.get_model("followup", "Protocol") if apps else Protocol
    visit_model = apps.get_model("followup", "ProtocolVisit") if apps else ProtocolVisit
    created = 0
    for spec in defaults.DEFAULT_PROTOCOLS:
        if protocol_model.objects.filter(entity=spec["entity"]).exists():
            continue
        protocol = protocol_model.objects.create(
            entity=spec["entity"],
            version=1,
            name=spec["name"],
            description=spec["description"],
            yearly_from_months=spec["yearly_from_months"],
            yearly_until_years=spec["yearly_until_years"],
            due_soon_days=defaults.DUE_SOON_DAYS,
            evidence="M",
        )
        rows = [
            visit_model.objects.create(protocol=protocol, position=position, **row)
            for position, row in enumerate(spec["visits"])
        ]
        if apps is not None:  # historical models send no signals: write the history rows
            _history_created(apps, "Protocol", [protocol])
            _history_created(apps, "ProtocolVisit", rows)
        created += 1
    return created


def _history_created(apps: Any, model_name: str, objs: Sequence[Any]) -> None:
    historical = apps.get_model("followup", f"Historical{model_name}")
    fields = [
        f.attname for f in historical._meta.concrete_fields if not f.attname.startswith("history_")
    ]
    historical.objects.bulk_create(
        [
            historical(
                **{name: getattr(obj, name) for name in fields},
                history_date=timezone.now(),
                history_type="+",
                history_change_reason="default protocol (brief §8.2)",
            )
            for obj in objs
        ]
    )


def protocol_active(entity: str) -> Protocol:
    protocol = Protocol.objects.filter(entity=entity, retired_at__isnull=True).first()
    if protocol is None:
        protocols_ensure_defaults()
        protocol = Protocol.objects.filter(entity=entity, retired_at__isnull=True).first()
    if protocol is None:
        raise ValidationError(
            {
                "follow_up_entity": _("There is no surveillance protocol for “%(e)s”.")
                % {"e": entity}
            }
        )
    return protocol


def protocol_spec(protocol: Protocol) -> surveillance.ProtocolSpec:
    return surveillance.ProtocolSpec(
        visits=tuple(
            surveillance.VisitTemplate(
                label=v.label,
                offset_value=v.offset_value,
                offset_unit=v.offset_unit,
                kind=v.kind,
                with_clinical=v.with_clinical,
                window_before_days=v.window_before_days,
                window_after_days=v.window_after_days,
            )
            for v in protocol.visits.all()
        ),
        yearly_from_months=protocol.yearly_from_months,
        yearly_until_years=protocol.yearly_until_years,
        yearly_kind=protocol.yearly_kind,
        yearly_with_clinical=protocol.yearly_with_clinical,
        yearly_window_days=protocol.yearly_window_days,
        due_soon_days=protocol.due_soon_days,
    )


@transaction.atomic
def protocol_revise(
    *,
    protocol: Protocol,
    user: User,
    data: dict[str, Any],
    visits: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> Protocol:
    """Save the edited protocol as version n+1 and retire version n.

    Existing schedules keep pointing at version n and keep their visits; only schedules
    created from now on use the new version.
    """
    now = now or timezone.now()
    current = Protocol.objects.select_for_update().get(pk=protocol.pk)
    if current.retired_at is not None:
        raise ValidationError(
            _("This version was superseded; edit the current version."), code="protocol_superseded"
        )
    if not visits:
        raise ValidationError({"visits": _("A protocol needs at least one visit.")})
    last = Protocol.objects.filter(entity=current.entity).aggregate(v=Max("version"))["v"] or 0
    current.retired_at = now
    save_with_history(current, user=user, update_fields=["retired_at"])
    new = Protocol(entity=current.entity, version=last + 1, created_by=user)
    for name in _PROTOCOL_FIELDS:
        setattr(new, name, data.get(name, getattr(current, name)))
    save_with_history(new, user=user)
    for position, row in enumerate(visits):
        visit = ProtocolVisit(
            protocol=new,
            position=position,
            **{k: row[k] for k in _PROTOCOL_VISIT_FIELDS if k in row},
        )
        save_with_history(visit, user=user)
    return new


# --- schedules --------------------------------------------------------------------------------


def _reminder_rows(visit: Visit, centre: Centre, now: dt.datetime) -> list[Reminder]:
    """The visit's two in-app reminders: its window opens, it is overdue.

    Due at the reminder hour of the centre's local day. A schedule created late does not
    remind about a window that has already closed, and a reminder whose time has passed is
    due now.
    """
    today = centre_today(centre, now)
    if visit.state != VisitState.PLANNED or visit.latest_on < today:
        return []
    hour = reminder_hour()
    rows = []
    if visit.target_on >= today:
        due = max(local_at(centre, visit.earliest_on, hour), now)
        rows.append(Reminder(visit=visit, kind=ReminderKind.WINDOW_OPEN, due_at=due))
    if visit.latest_on > visit.target_on:
        due = max(local_at(centre, surveillance.add_days(visit.target_on, 1), hour), now)
        rows.append(Reminder(visit=visit, kind=ReminderKind.OVERDUE, due_at=due))
    return rows


def _visits_create(
    schedule: Schedule,
    planned: Iterable[surveillance.PlannedVisit],
    user: User | None,
    now: dt.datetime,
) -> list[Visit]:
    visits = [
        Visit(
            schedule=schedule,
            centre_id=schedule.centre_id,
            entity=schedule.entity,
            sequence=p.sequence,
            label=p.label,
            kind=p.kind,
            with_clinical=p.with_clinical,
            target_on=p.target_on,
            earliest_on=p.earliest_on,
            latest_on=p.latest_on,
            notice_on=p.notice_on,
        )
        for p in planned
    ]
    if not visits:
        return []
    for visit in visits:
        visit.full_clean(exclude=["schedule", "centre", "last_contact"])
    visits = bulk_create_with_history(visits, Visit, default_user=user, default_date=now)
    if any(v.pk is None for v in visits):  # backends without RETURNING
        by_seq = dict(schedule.visits.values_list("sequence", "pk"))
        for visit in visits:
            visit.pk = by_seq[visit.sequence]
    reminders = [r for v in visits for r in _reminder_rows(v, schedule.centre, now)]
    Reminder.objects.bulk_create(reminders, ignore_conflicts=True)
    return visits


def _horizon(start: dt.date, today: dt.date) -> dt.date:
    years = defaults.HORIZON_YEARS * 12
    return max(surveillance.add_months(start, years), surveillance.add_months(today, years))


@transaction.atomic
def followup_schedule_create(
    *, procedure: ProcedureRecord, now: dt.datetime | None = None
) -> Schedule:
    """The surveillance schedule of a completed procedure, from its entity's active protocol.

    Idempotent: a procedure has at most one schedule (one-to-one, enforced by the database);
    calling this again returns the existing schedule unchanged. Visits are generated up to a
    five-year horizon; lifelong protocols are extended lazily by the sweep.
    """
    now = now or timezone.now()
    existing = Schedule.objects.filter(procedure_id=procedure.pk).first()
    if existing is not None:
        return existing
    if procedure.completed_at is None:
        raise ValidationError(
            _("Only a completed procedure gets a surveillance schedule."),
            code="procedure_not_completed",
        )
    protocol = protocol_active(procedure.follow_up_entity)
    case = procedure.case
    centre = case.patient.centre
    spec = protocol_spec(protocol)
    horizon = _horizon(procedure.performed_on, centre_today(centre, now))
    schedule = Schedule(
        procedure=procedure,
        case=case,
        centre=centre,
        protocol=protocol,
        entity=protocol.entity,
        start_on=procedure.performed_on,
        horizon_until=horizon,
        open_ended=surveillance.schedule_is_open_ended(
            spec, start=procedure.performed_on, horizon=horizon
        ),
    )
    user = procedure.completed_by or procedure.author
    try:
        with transaction.atomic():
            save_with_history(schedule, user=user)
    except IntegrityError:  # created concurrently for the same procedure
        return Schedule.objects.get(procedure_id=procedure.pk)
    _visits_create(
        schedule, surveillance.plan_visits(spec, start=schedule.start_on, until=horizon), user, now
    )
    return schedule


@transaction.atomic
def schedule_extend(*, schedule_id: int, now: dt.datetime | None = None) -> int:
    """Generate the next yearly visits of a lifelong schedule whose horizon comes near.

    Sequences are deterministic, so this is idempotent under the row lock: a second call sees
    the new horizon and does nothing. Returns how many visits were added.
    """
    now = now or timezone.now()
    schedule = (
        Schedule.objects.select_for_update(of=("self",))
        .select_related("centre", "protocol")
        .get(pk=schedule_id)
    )
    today = centre_today(schedule.centre, now)
    if not schedule.open_ended or schedule.horizon_until > today + dt.timedelta(
        days=EXTEND_WHEN_WITHIN_DAYS
    ):
        return 0
    spec = protocol_spec(schedule.protocol)
    last = (
        schedule.visits.filter(sequence__lt=EXTRA_SEQUENCE_BASE).aggregate(s=Max("sequence"))["s"]
        or 0
    )
    horizon = surveillance.add_months(today, defaults.HORIZON_YEARS * 12)
    planned = surveillance.plan_visits(
        spec, start=schedule.start_on, until=horizon, after_sequence=last
    )
    added = _visits_create(schedule, planned, None, now)
    schedule.horizon_until = horizon
    schedule.open_ended = surveillance.schedule_is_open_ended(
        spec, start=schedule.start_on, horizon=horizon
    )
    save_with_history(
        schedule,
        user=None,
        update_fields=["horizon_until", "open_ended"],
        reason="horizon extended",
    )
    return len(added)


def schedules_extend_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Extend the lifelong schedules whose horizon is within a year (partial index)."""
    now = now or timezone.now()
    # A day of slack covers every time zone; schedule_extend decides with the local date.
    bound = now.date() + dt.timedelta(days=EXTEND_WHEN_WITHIN_DAYS + 1)
    ids = list(
        Schedule.objects.filter(open_ended=True, horizon_until__lte=bound)
        .order_by("horizon_until")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if schedule_extend(schedule_id=pk, now=now))


# --- visits -----------------------------------------------------------------------------------


def _locked_visit(visit: Visit) -> Visit:
    return (
        Visit.objects.select_for_update(of=("self",))
        .select_related("schedule", "schedule__protocol", "centre")
        .get(pk=visit.pk)
    )


def _assert_planned(visit: Visit) -> None:
    if visit.state != VisitState.PLANNED:
        raise ValidationError(
            _("This visit is %(state)s; it can no longer be changed.")
            % {"state": visit.get_state_display().lower()},
            code="visit_closed",
        )


def _skip_unsent_reminders(visit: Visit, now: dt.datetime) -> None:
    Reminder.objects.filter(visit=visit, sent_at__isnull=True).update(sent_at=now, skipped=True)


@transaction.atomic
def contact_attempt_log(
    *, visit: Visit, user: User, data: dict[str, Any], now: dt.datetime | None = None
) -> ContactAttempt:
    now = now or timezone.now()
    visit = _locked_visit(visit)
    _assert_planned(visit)
    attempt = ContactAttempt(
        visit=visit,
        by=user,
        attempted_at=data.get("attempted_at") or now,
        method=data.get("method", ""),
        outcome=data.get("outcome", ""),
        note=data.get("note", ""),
    )
    day = dates.local_day(attempt.attempted_at, visit.centre.zone)
    dates.check_dates({"attempted_at": (day, dates.past_dates(centre_today(visit.centre, now)))})
    if attempt.attempted_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"attempted_at": _("A contact attempt cannot be in the future.")})
    save_with_history(attempt, user=user)
    # ``last_contact`` is a cache for the worklist (excluded from the visit's history; the
    # attempt itself is audited), so a plain UPDATE is enough.
    newest = visit.contacts.order_by("-attempted_at", "-id").values_list("pk", flat=True)[:1]
    Visit.objects.filter(pk=visit.pk).update(last_contact_id=newest[0])
    return attempt


@transaction.atomic
def visit_reschedule(
    *, visit: Visit, user: User, target_on: dt.date, reason: str, now: dt.datetime | None = None
) -> Visit:
    """Move the visit's target date; the window keeps its width around the new target (held
    at the calendar's ends, for a window stored before the date limits existed)."""
    now = now or timezone.now()
    visit = _locked_visit(visit)
    _assert_planned(visit)
    reason = (reason or "").strip()
    today = centre_today(visit.centre, now)
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the visit is rescheduled.")
    problem = dates.planned_dates(today).problem(target_on)
    if problem is not None:
        errors["target_on"] = problem
    elif target_on < visit.schedule.start_on:
        errors["target_on"] = _("The visit cannot be before the procedure.")
    elif target_on < today and target_on != visit.target_on:
        errors["target_on"] = _("Choose today or a later date.")
    if errors:
        raise ValidationError(errors)
    before = (visit.target_on - visit.earliest_on).days
    after = (visit.latest_on - visit.target_on).days
    soon = (visit.earliest_on - visit.notice_on).days
    visit.target_on = target_on
    visit.earliest_on = max(surveillance.add_days(target_on, -before), visit.schedule.start_on)
    visit.latest_on = surveillance.add_days(target_on, after)
    visit.notice_on = surveillance.add_days(visit.earliest_on, -soon)
    visit.reschedule_reason = reason
    save_with_history(
        visit,
        user=user,
        update_fields=["target_on", "earliest_on", "latest_on", "notice_on", "reschedule_reason"],
        reason=f"rescheduled: {reason}",
    )
    # Unsent reminders follow the new dates; a reminder already sent is not sent again.
    Reminder.objects.filter(visit=visit, sent_at__isnull=True).delete()
    Reminder.objects.bulk_create(_reminder_rows(visit, visit.centre, now), ignore_conflicts=True)
    return visit


@transaction.atomic
def visit_close(*, visit: Visit, user: User, reason: str, now: dt.datetime | None = None) -> Visit:
    """Close a visit that will not take place (declined, moved away...); it leaves the
    worklist, the reason stays in its history."""
    now = now or timezone.now()
    visit = _locked_visit(visit)
    _assert_planned(visit)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the visit will not take place.")})
    visit.state = VisitState.CANCELLED
    visit.close_reason = reason
    save_with_history(
        visit, user=user, update_fields=["state", "close_reason"], reason=f"closed: {reason}"
    )
    _skip_unsent_reminders(visit, now)
    return visit


# --- results and escalations ------------------------------------------------------------------

RESULT_FIELDS = tuple(
    f.name
    for f in VisitResult._meta.get_fields()
    if getattr(f, "concrete", False)
    and f.name not in {"id", "visit", "recorded_by", "recorded_at", "abnormal_reasons"}
)
SEGMENT_FIELDS = (
    "segment",
    "side",
    "patency",
    "in_stent_thrombus",
    "isr_percent",
    "peak_velocity_ratio",
    "compression",
)


def stented_segments(procedure: ProcedureRecord) -> list[tuple[str, str]]:
    """(segment, side) of the procedure's implants, cranial to caudal, each once."""
    order = {"IVC": 0, "CIV": 1, "EIV": 2, "CFV": 3}
    keys = {(i.segment, i.side) for i in procedure.implants.all()}
    return sorted(keys, key=lambda k: (order.get(k[0], 9), k[1]))


def responsible_clinician(procedure: ProcedureRecord) -> User:
    """The procedure record's author, or the case author if that account is inactive."""
    if procedure.author.is_active:
        return procedure.author
    return procedure.case.author


def _check_segments(
    visit: Visit, segments: Sequence[dict[str, Any]], stented: list[tuple[str, str]]
) -> None:
    keys = [(row.get("segment"), row.get("side")) for row in segments]
    if len(keys) != len(set(keys)):
        raise ValidationError({"segments": _("Each stented segment is recorded once.")})
    unknown = [f"{s} {d}" for s, d in keys if stented and (s, d) not in stented]
    if unknown:
        raise ValidationError(
            {
                "segments": _("Not a stented segment of this procedure: %(s)s.")
                % {"s": ", ".join(unknown)}
            }
        )
    if visit.kind in (VisitKind.DUPLEX, VisitKind.CT_VENOGRAPHY) and stented:
        missing = [f"{s} {d}" for s, d in stented if (s, d) not in keys]
        if missing:
            raise ValidationError(
                {
                    "segments": _("Record every stented segment (missing: %(s)s).")
                    % {"s": ", ".join(missing)}
                }
            )


@transaction.atomic
def visit_result_record(
    *,
    visit: Visit,
    user: User,
    data: dict[str, Any],
    segments: Sequence[dict[str, Any]],
    now: dt.datetime | None = None,
) -> VisitResult:
    """Record (or correct) what a visit found; the visit is done.

    Abnormal findings (``surveillance.assess``) not escalated yet for this visit raise an
    escalation to the responsible clinician, notified on commit.
    """
    now = now or timezone.now()
    visit = _locked_visit(visit)
    if visit.state == VisitState.CANCELLED:
        _assert_planned(visit)
    procedure = ProcedureRecord.objects.select_related("author", "case__author").get(
        pk=visit.schedule.procedure_id
    )
    stented = stented_segments(procedure)
    _check_segments(visit, segments, stented)
    performed_on = data.get("performed_on")
    if performed_on is None:
        raise ValidationError({"performed_on": _("Enter the date of the visit.")})
    today = centre_today(visit.centre, now)
    dates.check_dates({"performed_on": (performed_on, dates.past_dates(today))})
    if performed_on < visit.schedule.start_on:
        raise ValidationError({"performed_on": _("The visit cannot be before the procedure.")})

    result = VisitResult.objects.filter(visit=visit).first() or VisitResult(
        visit=visit, recorded_by=user, recorded_at=now
    )
    for name in RESULT_FIELDS:
        if name in data:
            setattr(result, name, data[name])
    readings = [
        surveillance.SegmentReading(
            segment=row["segment"],
            side=row["side"],
            patency=row.get("patency") or "",
            in_stent_thrombus=row.get("in_stent_thrombus"),
            isr_percent=row.get("isr_percent"),
            peak_velocity_ratio=row.get("peak_velocity_ratio"),
            compression=row.get("compression"),
        )
        for row in segments
    ]
    assessment = surveillance.assess(
        readings, phasicity=result.phasicity, ulcer_status=result.ulcer_status
    )
    result.abnormal_reasons = assessment.codes
    save_with_history(result, user=user)

    existing = {(s.segment, s.side): s for s in result.segments.all()}
    for row in segments:
        seg = existing.pop((row["segment"], row["side"]), None) or ResultSegment(result=result)
        for name in SEGMENT_FIELDS:
            setattr(seg, name, row.get(name))
        save_with_history(seg, user=user)
    for stale in existing.values():
        delete_with_history(stale, user=user)

    if visit.state != VisitState.DONE:
        visit.state = VisitState.DONE
        save_with_history(visit, user=user, update_fields=["state"], reason="result recorded")
        _skip_unsent_reminders(visit, now)

    escalated = {code for e in visit.escalations.all() for code in e.reasons}
    reasons = surveillance.new_reasons(assessment.codes, escalated)
    if reasons:
        texts = [a.text for a in assessment.abnormalities if a.code in reasons]
        _escalation_raise(
            visit=visit,
            result=result,
            procedure=procedure,
            reasons=reasons,
            texts=texts,
            user=user,
            now=now,
        )
    return result


def _escalation_raise(
    *,
    visit: Visit,
    result: VisitResult,
    procedure: ProcedureRecord,
    reasons: list[str],
    texts: list[str],
    user: User,
    now: dt.datetime,
) -> Escalation:
    escalation = Escalation(
        visit=visit,
        result=result,
        case_id=procedure.case_id,
        centre_id=visit.centre_id,
        clinician=responsible_clinician(procedure),
        reasons=reasons,
        summary="\n".join(texts),
        created_at=now,
    )
    save_with_history(escalation, user=user)
    # The first notice is claimed here and enqueued once the escalation is committed; if the
    # message is lost, the sweep takes the stale claim again (notifications.CLAIM_TIMEOUT).
    notice = EscalationNotice.objects.create(
        escalation=escalation, attempt=0, due_at=now, claimed_at=now
    )
    from followup import notifications

    notifications.dispatch_on_commit(EscalationNotice, [notice.pk], now)
    return escalation


@transaction.atomic
def escalation_acknowledge(
    *, escalation: Escalation, user: User, now: dt.datetime | None = None
) -> Escalation:
    """Acknowledge (idempotent); pending re-notifications are skipped."""
    now = now or timezone.now()
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.acknowledged_at is not None:
        return escalation
    escalation.acknowledged_at = now
    escalation.acknowledged_by = user
    save_with_history(escalation, user=user, update_fields=["acknowledged_at", "acknowledged_by"])
    EscalationNotice.objects.filter(escalation=escalation, sent_at__isnull=True).update(
        sent_at=now, skipped=True
    )
    Notification.objects.filter(escalation=escalation, read_at__isnull=True).update(read_at=now)
    return escalation


@transaction.atomic
def escalation_decide(
    *,
    escalation: Escalation,
    user: User,
    decision: str,
    note: str = "",
    reimage_kind: str = "",
    reimage_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Escalation:
    """Record the clinician's decision (acknowledging first if needed).

    "Re-image" adds an unscheduled visit to the nurses' worklist (duplex unless another kind
    is chosen, in a week unless another date is chosen).
    """
    now = now or timezone.now()
    if decision not in Decision.values:
        raise ValidationError({"decision": _("Choose observe, re-image or re-intervene.")})
    escalation_acknowledge(escalation=escalation, user=user, now=now)
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("visit__schedule__centre")
        .get(pk=escalation.pk)
    )
    escalation.decision = decision
    escalation.decision_note = note.strip()
    escalation.decided_at = now
    escalation.decided_by = user
    fields = ["decision", "decision_note", "decided_at", "decided_by"]
    if decision == Decision.REIMAGE and escalation.reimage_visit_id is None:
        escalation.reimage_visit = _reimage_visit_create(
            escalation=escalation,
            user=user,
            kind=reimage_kind or VisitKind.DUPLEX,
            target_on=reimage_on,
            now=now,
        )
        fields.append("reimage_visit")
    save_with_history(escalation, user=user, update_fields=fields)
    return escalation


def _reimage_visit_create(
    *, escalation: Escalation, user: User, kind: str, target_on: dt.date | None, now: dt.datetime
) -> Visit:
    schedule = (
        Schedule.objects.select_for_update()
        .select_related("centre")
        .get(pk=escalation.visit.schedule_id)
    )
    today = centre_today(schedule.centre, now)
    target = target_on or today + dt.timedelta(days=REIMAGE_WINDOW_DAYS)
    dates.check_dates({"reimage_on": (target, dates.future_dates(today))})
    if kind not in VisitKind.values:
        raise ValidationError({"reimage_kind": _("Choose the imaging.")})
    last = schedule.visits.aggregate(s=Max("sequence"))["s"] or 0
    visit = Visit(
        schedule=schedule,
        centre_id=schedule.centre_id,
        entity=schedule.entity,
        sequence=max(last, EXTRA_SEQUENCE_BASE) + 1,
        label=_("Re-imaging (escalation %(id)s)") % {"id": escalation.pk},
        kind=kind,
        with_clinical=True,
        target_on=target,
        earliest_on=min(today, target),
        latest_on=surveillance.add_days(target, REIMAGE_WINDOW_DAYS),
        notice_on=min(today, target),
        extra=True,
    )
    save_with_history(visit, user=user)
    Reminder.objects.bulk_create(_reminder_rows(visit, schedule.centre, now), ignore_conflicts=True)
    return visit


@transaction.atomic
def reintervention_record(
    *, schedule: Schedule, user: User, data: dict[str, Any], now: dt.datetime | None = None
) -> ReIntervention:
    now = now or timezone.now()
    schedule = Schedule.objects.select_related("procedure", "centre").get(pk=schedule.pk)
    stented = {f"{s}:{d}" for s, d in stented_segments(schedule.procedure)}
    segments = list(data.get("segments") or [])
    errors: dict[str, str] = {}
    unknown = [s for s in segments if s not in stented]
    if unknown:
        errors["segments"] = _("Not a stented segment of this procedure: %(s)s.") % {
            "s": ", ".join(unknown)
        }
    if stented and not segments:
        errors["segments"] = _("Choose the segments treated.")
    performed_on: dt.date | None = data.get("performed_on")
    past = dates.past_dates(centre_today(schedule.centre, now))
    if performed_on is None:
        errors["performed_on"] = _("Enter the date of the re-intervention.")
    elif (problem := past.problem(performed_on)) is not None:
        errors["performed_on"] = problem
    elif performed_on < schedule.start_on:
        errors["performed_on"] = _("The re-intervention cannot be before the procedure.")
    escalation = data.get("escalation")
    if escalation is not None and escalation.visit.schedule_id != schedule.pk:
        errors["escalation"] = _("The escalation belongs to another schedule.")
    if errors or performed_on is None:
        raise ValidationError(errors)
    item = ReIntervention(
        schedule=schedule,
        case_id=schedule.case_id,
        centre_id=schedule.centre_id,
        escalation=escalation,
        performed_on=performed_on,
        kind=data.get("kind", ""),
        for_occlusion=bool(data.get("for_occlusion")),
        successful=data.get("successful", True),
        segments=sorted(segments),
        note=data.get("note", ""),
        author=user,
    )
    save_with_history(item, user=user)
    return item


# --- notifications ----------------------------------------------------------------------------


def notification_mark_read(
    *, user: User, notification_id: int, now: dt.datetime | None = None
) -> Notification:
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now or timezone.now()
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User, now: dt.datetime | None = None) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


# --- patency analytics ------------------------------------------------------------------------


def patency_fresh_seconds() -> int:
    return int(settings.FOLLOWUP_PATENCY_FRESH_SECONDS)


@dataclass(frozen=True)
class PatencyState:
    """What the patency page shows: the curves (``analysis``), when computed, and the report
    row of a queued computation (``None`` when computed inline, now)."""

    analysis: patency.Analysis | None
    report: PatencyReport | None
    computed_at: dt.datetime | None


def patency_state_of(report: PatencyReport) -> PatencyState:
    result = report.result if report.status == JobStatus.DONE else None
    return PatencyState(
        analysis=patency.Analysis.from_dict(result) if result is not None else None,
        report=report,
        computed_at=report.finished_at,
    )


def patency_analytics(
    *, user: User, entity: str = "", refresh: bool = False, now: dt.datetime | None = None
) -> PatencyState:
    """The Kaplan–Meier patency curves of the user's centre for ``entity`` (or every entity).

    Up to ``FOLLOWUP_PATENCY_INLINE_MAX`` schedules they are computed now, in this request.
    Above, the newest report still being computed or finished in the last
    ``FOLLOWUP_PATENCY_FRESH_SECONDS`` is shown (``refresh`` skips it); otherwise a report
    row is created and a Celery task enqueued once it is committed.
    """
    now = now or timezone.now()
    cohort = selectors.patency_cohort_size(centre_id=user.centre_id, entity=entity)
    if jobs.runs_inline(cohort, "FOLLOWUP_PATENCY_INLINE_MAX"):
        analysis = selectors.patency_analysis(centre_id=user.centre_id, entity=entity)
        return PatencyState(analysis=analysis, report=None, computed_at=now)
    report = None
    if not refresh:
        report = selectors.patency_report_current(
            centre_id=user.centre_id,
            entity=entity,
            fresh_since=now - dt.timedelta(seconds=patency_fresh_seconds()),
            running_since=now - dt.timedelta(seconds=PATENCY_RUNNING_SECONDS),
        )
    if report is None:
        report = patency_report_queue(user=user, entity=entity, now=now)
    return patency_state_of(report)


def patency_report_queue(
    *, user: User, entity: str = "", now: dt.datetime | None = None
) -> PatencyReport:
    """A new report of the user's centre, computed by a Celery task enqueued after commit; or
    the report of the same centre and entity already queued or running, which a second
    request joins (one at a time: a partial unique constraint, so two requests at the same
    moment cannot both insert)."""
    now = now or timezone.now()
    report = PatencyReport(
        centre_id=user.centre_id,
        created_by=user,
        entity=entity,
        total=selectors.patency_cohort_size(centre_id=user.centre_id, entity=entity),
        created_at=now,
        enqueued_at=now,
    )
    report.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        return PatencyReport.objects.get(
            centre_id=user.centre_id,
            entity=entity,
            status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        )
    jobs.enqueue_on_commit(report)
    return report


def patency_reports_resume(*, now: dt.datetime | None = None) -> jobs.Resumed:
    """Reports left queued are sent again; those whose worker was lost are marked failed."""
    return jobs.jobs_resume(PatencyReport, now=now)


def patency_report_run(*, report_id: int, now: Callable[[], dt.datetime] = timezone.now) -> bool:
    """Compute one queued report (``venousapp.jobs.job_run``); returns False when it was not
    claimable."""

    def work(pk: int, progress: Callable[[int, int], None]) -> dict[str, Any]:
        report = PatencyReport.objects.get(pk=pk)
        analysis = selectors.patency_analysis(
            centre_id=report.centre_id, entity=report.entity, progress=progress
        )
        return {"result": analysis.as_dict()}

    return jobs.job_run(PatencyReport, report_id, work, now=now)
