"""The nurses' work on a planned visit: contact attempts, rescheduling, closing a visit that
will not take place. A visit that is done or closed can no longer be changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import surveillance
from followup.models import ContactAttempt, Reminder, Visit, VisitState
from followup.services.clock import centre_today
from followup.services.schedules import reminder_rows
from venousapp import dates
from venousapp.accounts.models import User
from venousapp.history import save_with_history


def locked_visit(visit: Visit) -> Visit:
    return (
        Visit.objects.select_for_update(of=("self",))
        .select_related("schedule", "schedule__protocol", "centre")
        .get(pk=visit.pk)
    )


def assert_planned(visit: Visit) -> None:
    if visit.state != VisitState.PLANNED:
        raise ValidationError(
            _("This visit is %(state)s; it can no longer be changed.")
            % {"state": visit.get_state_display().lower()},
            code="visit_closed",
        )


def skip_unsent_reminders(visit: Visit, now: dt.datetime) -> None:
    Reminder.objects.filter(visit=visit, sent_at__isnull=True).update(sent_at=now, skipped=True)


@transaction.atomic
def contact_attempt_log(
    *, visit: Visit, user: User, data: dict[str, Any], now: dt.datetime | None = None
) -> ContactAttempt:
    now = now or timezone.now()
    visit = locked_visit(visit)
    assert_planned(visit)
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
    visit = locked_visit(visit)
    assert_planned(visit)
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
    Reminder.objects.bulk_create(reminder_rows(visit, visit.centre, now), ignore_conflicts=True)
    return visit


@transaction.atomic
def visit_close(*, visit: Visit, user: User, reason: str, now: dt.datetime | None = None) -> Visit:
    """Close a visit that will not take place (declined, moved away...); it leaves the
    worklist, the reason stays in its history."""
    now = now or timezone.now()
    visit = locked_visit(visit)
    assert_planned(visit)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the visit will not take place.")})
    visit.state = VisitState.CANCELLED
    visit.close_reason = reason
    save_with_history(
        visit, user=user, update_fields=["state", "close_reason"], reason=f"closed: {reason}"
    )
    skip_unsent_reminders(visit, now)
    return visit
