"""Surveillance schedules: a completed procedure's visits, planned from its entity's protocol
up to a horizon, with their reminders; lifelong schedules are extended by the sweep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from followup import defaults, surveillance
from followup.models import Reminder, ReminderKind, Schedule, Visit, VisitState
from followup.services.clock import centre_today, local_at, reminder_hour
from followup.services.protocols import protocol_active, protocol_spec
from planning.models import ProcedureRecord
from venousapp.accounts.models import Centre, User
from venousapp.history import save_with_history

EXTRA_SEQUENCE_BASE = 1000  # unscheduled (re-imaging) visits; protocol visits stay below
EXTEND_WHEN_WITHIN_DAYS = 366  # extend a lifelong schedule when its horizon is this close


def reminder_rows(visit: Visit, centre: Centre, now: dt.datetime) -> list[Reminder]:
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
    reminders = [r for v in visits for r in reminder_rows(v, schedule.centre, now)]
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
