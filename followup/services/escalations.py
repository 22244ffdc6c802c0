"""Escalations of abnormal findings to the responsible clinician: raised with their first
notice, acknowledged, decided (observe, re-image with an unscheduled visit, re-intervene)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import dispatch, surveillance
from followup.models import (
    Decision,
    Escalation,
    EscalationNotice,
    Notification,
    Reminder,
    Schedule,
    Visit,
    VisitKind,
    VisitResult,
)
from followup.services.clock import centre_today
from followup.services.schedules import EXTRA_SEQUENCE_BASE, reminder_rows
from planning.models import ProcedureRecord
from venousapp import dates
from venousapp.accounts.models import User
from venousapp.history import save_with_history

REIMAGE_WINDOW_DAYS = 7


def responsible_clinician(procedure: ProcedureRecord) -> User:
    """The procedure record's author, or the case author if that account is inactive."""
    if procedure.author.is_active:
        return procedure.author
    return procedure.case.author


def escalation_raise(
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
    dispatch.dispatch_on_commit(EscalationNotice, [notice.pk], now)
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
    Reminder.objects.bulk_create(reminder_rows(visit, schedule.centre, now), ignore_conflicts=True)
    return visit
