"""Reminders, digests, escalation notices and approval e-mails: one sweep claims what is due,
tasks deliver it.

The pattern is healthchecks' ``sendalerts`` and Zulip's scheduled messages (STYLE.md
convention 5):

1. Due rows (``Reminder``, ``EscalationNotice``, ``Digest``, ``ApprovalMail``) are found
   through a partial index (``sent_at IS NULL``, ordered by ``due_at``) and **claimed** in a
   short transaction with ``SELECT … FOR UPDATE SKIP LOCKED`` + ``UPDATE … SET
   claimed_at``: two sweeps running at once claim disjoint rows. The ids are enqueued once
   that transaction has committed.
2. A task **delivers** a row inside a transaction holding its row lock: it re-reads the row
   (``sent_at IS NULL``), sends, and marks ``sent_at`` with a conditional UPDATE before
   committing. A second run of the same task (redelivery after a worker was killed, a retry,
   a duplicate message) finds the row sent, or locked by the run that is sending it, and
   does nothing. The unique constraints (visit + kind, escalation + attempt, centre + date)
   and the one e-mail per approval notice make a second row for the same message impossible.
3. A claim whose delivery never finished (message lost, every retry failed) is taken again
   after ``CLAIM_TIMEOUT`` by a later sweep.

E-mail is the one side effect outside the database: if a worker dies after the SMTP server
accepted a message but before the commit, the redelivered task sends it again. That window
is a few milliseconds; a lost escalation would be worse than a duplicate.

E-mails carry no patient identifiers (case and visit numbers and a link); the app shows
the rest after login.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from followup import selectors, services
from followup.models import (
    ApprovalMail,
    Digest,
    Escalation,
    EscalationNotice,
    Notification,
    NotificationKind,
    Reminder,
    ReminderKind,
    VisitState,
)
from venousapp.accounts.models import Centre, Role, User

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=15)
CLAIM_BATCH = 1_000
REMINDER_CHUNK = 500  # reminder ids per delivery task (in-app only, one transaction)
SWEEP_LIMIT = 50_000  # rows claimed per model and sweep; the next sweep takes the rest
RESEND_AFTER = dt.timedelta(hours=24)
DIGEST_LINES = 100
MAIL_ERRORS: tuple[type[BaseException], ...] = (smtplib.SMTPException, ConnectionError)


def digest_hour() -> int:
    return int(getattr(settings, "FOLLOWUP_DIGEST_HOUR", 7))


def absolute_url(path: str) -> str:
    base = str(settings.SITE_URL).rstrip("/")
    return f"{base}{path}"


# --- dispatch ---------------------------------------------------------------------------------


def _enqueue(model: type[models.Model], ids: Sequence[int], now: dt.datetime) -> int:
    """Send the claimed ids to Celery (called after the claim has committed); the tasks
    deliver as of the time they run."""
    from followup import tasks

    if model is Reminder:
        chunks = [list(ids[i : i + REMINDER_CHUNK]) for i in range(0, len(ids), REMINDER_CHUNK)]
        for chunk in chunks:
            tasks.deliver_reminders.delay(chunk)
        return len(chunks)
    tasks_by_model: dict[type[models.Model], Any] = {
        Digest: tasks.deliver_digest,
        EscalationNotice: tasks.deliver_escalation_notice,
        ApprovalMail: tasks.deliver_approval_request,
    }
    task = tasks_by_model[model]
    for pk in ids:
        task.delay(pk)
    return len(ids)


def deliver_inline(model: type[models.Model], ids: Sequence[int], now: dt.datetime) -> int:
    """Deliver in this process as of the sweep's ``now`` (``send_due_reminders --inline``,
    tests without a worker)."""
    if model is Reminder:
        reminders_deliver(ids=list(ids), now=now)
    else:
        one_by_one: dict[type[models.Model], Callable[..., str]] = {
            Digest: digest_deliver,
            EscalationNotice: escalation_notice_deliver,
            ApprovalMail: approval_request_mail,
        }
        deliver = one_by_one[model]
        for pk in ids:
            try:
                deliver(pk, now=now)
            except MAIL_ERRORS:
                logger.warning("followup: delivery of %s %s failed", model.__name__, pk)
    return len(ids)


Dispatcher = Callable[[type[models.Model], Sequence[int], dt.datetime], int]


def dispatch_on_commit(
    model: type[models.Model],
    ids: Sequence[int],
    now: dt.datetime,
    dispatcher: Dispatcher | None = None,
) -> None:
    """Enqueue the claimed ids once the claim has committed. A broker that is down fails
    neither the caller nor its saved work: Django logs the error, and the sweep takes the
    stale claim again after ``CLAIM_TIMEOUT``."""
    ids = list(ids)
    transaction.on_commit(lambda: (dispatcher or _enqueue)(model, ids, now), robust=True)


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class SweepResult:
    digests_created: int = 0
    schedules_extended: int = 0
    claimed: dict[str, int] = field(default_factory=dict)

    @property
    def total_claimed(self) -> int:
        return sum(self.claimed.values())

    def as_text(self) -> str:
        parts = [f"{name} {count}" for name, count in self.claimed.items()]
        return (
            f"claimed {self.total_claimed} ({', '.join(parts)}); digests created "
            f"{self.digests_created}; schedules extended {self.schedules_extended}"
        )


def claim_due(
    model: type[models.Model],
    *,
    now: dt.datetime,
    limit: int = CLAIM_BATCH,
    dispatcher: Dispatcher | None = None,
) -> list[int]:
    """Claim up to ``limit`` due, unsent rows of ``model`` and dispatch them after commit.

    ``FOR UPDATE SKIP LOCKED`` over the partial index ``<model>_unsent_due``: a concurrent
    sweep skips the rows this one is claiming, and the conditional UPDATE only claims rows
    still unsent and unclaimed (or claimed longer than ``CLAIM_TIMEOUT`` ago).
    """
    stale = now - CLAIM_TIMEOUT
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    manager = model._default_manager
    with transaction.atomic():
        ids = list(
            manager.select_for_update(skip_locked=True)
            .filter(claimable, sent_at__isnull=True, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            manager.filter(claimable, pk__in=ids, sent_at__isnull=True).update(claimed_at=now)
            dispatch_on_commit(model, ids, now, dispatcher)
    return ids


def digests_create(*, now: dt.datetime) -> int:
    """Today's digest row of every centre whose local digest hour has come (once a day:
    the row is unique per centre and local date)."""
    hour = digest_hour()
    created = 0
    for centre in Centre.objects.all():
        local = now.astimezone(services.centre_zone(centre))
        if local.hour < hour:
            continue
        _, new = Digest.objects.get_or_create(
            centre=centre,
            local_date=local.date(),
            defaults={"due_at": services.local_at(centre, local.date(), hour)},
        )
        created += new
    return created


def reminders_sweep(
    *,
    now: dt.datetime | None = None,
    dispatcher: Dispatcher | None = None,
    limit: int = SWEEP_LIMIT,
) -> SweepResult:
    """The periodic sweep (every 5 minutes, ``followup.sweep``; ``send_due_reminders``)."""
    now = now or timezone.now()
    result = SweepResult()
    result.digests_created = digests_create(now=now)
    result.schedules_extended = services.schedules_extend_due(now=now)
    for model in (EscalationNotice, ApprovalMail, Digest, Reminder):
        total = 0
        while total < limit:
            ids = claim_due(
                model, now=now, limit=min(CLAIM_BATCH, limit - total), dispatcher=dispatcher
            )
            total += len(ids)
            if len(ids) < CLAIM_BATCH:
                break
        result.claimed[model._meta.model_name or model.__name__] = total
    return result


# --- delivery ---------------------------------------------------------------------------------


def _locked_unsent(model: type[models.Model], pk: int, *related: str) -> models.Model | None:
    query = model._default_manager.select_for_update(skip_locked=True, of=("self",))
    if related:
        query = query.select_related(*related)
    return query.filter(pk=pk, sent_at__isnull=True).first()


def _mark(
    model: type[models.Model],
    pks: Iterable[int],
    now: dt.datetime,
    *,
    skipped: bool = False,
    **extra: object,
) -> int:
    return model._default_manager.filter(pk__in=list(pks), sent_at__isnull=True).update(
        sent_at=now, skipped=skipped, last_error="", **extra
    )


def _record_failure(model: type[models.Model], pk: int, error: BaseException) -> None:
    model._default_manager.filter(pk=pk).update(
        tries=models.F("tries") + 1, last_error=repr(error)[:500]
    )


def _nurses(centre_ids: Iterable[int]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = defaultdict(list)
    for user in (
        User.objects.filter(centre_id__in=set(centre_ids), is_active=True, groups__name=Role.NURSE)
        .distinct()
        .order_by("pk")
    ):
        out[user.centre_id].append(user)
    return out


def reminders_deliver(*, ids: Sequence[int], now: dt.datetime | None = None) -> int:
    """In-app notifications to the centre's nurses for each due visit reminder.

    One transaction for the batch: notifications are created and the reminders marked sent
    together, so a second run finds nothing (exactly once without a side effect outside the
    database). A reminder that is moot when its turn comes (visit done or closed, a window
    reminder for a visit already overdue, an overdue reminder for a missed visit, as after
    downtime) is marked skipped.
    """
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(ids), sent_at__isnull=True)
            .select_related("visit", "visit__centre", "visit__schedule__case__patient")
        )
        send = [r for r in rows if _still_relevant(r, now)]
        skip = [r.pk for r in rows if r not in send]
        nurses = _nurses(r.visit.centre_id for r in send)
        notifications = []
        for reminder in send:
            visit = reminder.visit
            patient = visit.schedule.case.patient
            if reminder.kind == ReminderKind.WINDOW_OPEN:
                kind, title = NotificationKind.WINDOW_OPEN, "Visit window open"
            else:
                kind, title = NotificationKind.OVERDUE, "Visit overdue"
            body = (
                f"{patient.identifier}: {visit.label} ({visit.get_kind_display()}), "
                f"window {visit.earliest_on:%Y-%m-%d} – {visit.latest_on:%Y-%m-%d}"
            )
            url = reverse("followup:visit", args=[visit.pk])
            notifications += [
                Notification(
                    recipient=nurse,
                    kind=kind,
                    title=title,
                    body=body,
                    url=url,
                    visit=visit,
                    created_at=now,
                )
                for nurse in nurses.get(visit.centre_id, [])
            ]
        Notification.objects.bulk_create(notifications)
        sent = _mark(Reminder, [r.pk for r in send], now)
        _mark(Reminder, skip, now, skipped=True)
    return sent


def _still_relevant(reminder: Reminder, now: dt.datetime) -> bool:
    visit = reminder.visit
    if visit.state != VisitState.PLANNED:
        return False
    today = services.centre_today(visit.centre, now)
    if reminder.kind == ReminderKind.WINDOW_OPEN:
        return today <= visit.target_on
    return today <= visit.latest_on


def _send_mail(subject: str, template: str, context: dict[str, object], to: list[str]) -> None:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


def digest_deliver(digest_id: int, *, now: dt.datetime | None = None) -> str:
    """The centre's daily worklist e-mail to its nurses, plus an in-app notice each."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            digest = _locked_unsent(Digest, digest_id, "centre")
            if digest is None:
                return "nothing to do"
            assert isinstance(digest, Digest)
            centre = digest.centre
            nurses = _nurses([centre.pk]).get(centre.pk, [])
            counts = selectors.worklist_counts(centre_id=centre.pk, today=digest.local_date)
            recipients = [n.email for n in nurses if n.email]
            if not counts["all"] or not recipients:
                _mark(Digest, [digest.pk], now, skipped=True)
                return "skipped"
            visits = list(
                selectors.worklist_due(centre_id=centre.pk, today=digest.local_date)[:DIGEST_LINES]
            )
            context = {
                "centre": centre,
                "day": digest.local_date,
                "counts": counts,
                "visits": visits,
                "more": counts["all"] - len(visits),
                "worklist_url": absolute_url(reverse("followup:worklist")),
                "site_url": absolute_url(""),
            }
            subject = (
                f"Follow-up worklist {digest.local_date:%Y-%m-%d}: {counts['all']} "
                f"visit(s), {counts['overdue']} overdue, {counts['missed']} missed"
            )
            _send_mail(subject, "followup_digest", context, recipients)
            Notification.objects.bulk_create(
                [
                    Notification(
                        recipient=nurse,
                        kind=NotificationKind.DIGEST,
                        title=f"Daily worklist: {counts['all']} visit(s)",
                        body=f"{counts['due']} due, {counts['overdue']} overdue, "
                        f"{counts['missed']} missed, {counts['due_soon']} due soon",
                        url=reverse("followup:worklist"),
                        created_at=now,
                    )
                    for nurse in nurses
                ]
            )
            _mark(Digest, [digest.pk], now, item_count=counts["all"])
    except MAIL_ERRORS as error:
        _record_failure(Digest, digest_id, error)
        raise
    return "sent"


def escalation_notice_deliver(notice_id: int, *, now: dt.datetime | None = None) -> str:
    """E-mail and in-app notice to the responsible clinician; schedules the next notice
    24 hours later in case the escalation stays unacknowledged."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            notice = _locked_unsent(
                EscalationNotice,
                notice_id,
                "escalation",
                "escalation__clinician",
                "escalation__visit",
            )
            if notice is None:
                return "nothing to do"
            assert isinstance(notice, EscalationNotice)
            escalation: Escalation = notice.escalation
            if escalation.acknowledged_at is not None:
                _mark(EscalationNotice, [notice.pk], now, skipped=True)
                return "skipped"
            clinician = escalation.clinician
            url = reverse("followup:escalation", args=[escalation.pk])
            reminder = notice.attempt > 0
            title = (
                f"{'Reminder: ' if reminder else ''}abnormal follow-up finding, "
                f"case #{escalation.case_id}"
            )
            if clinician.email:
                _send_mail(
                    title,
                    "followup_escalation",
                    {
                        "escalation": escalation,
                        "visit": escalation.visit,
                        "reasons": escalation.summary.splitlines(),
                        "attempt": notice.attempt,
                        "url": absolute_url(url),
                        "clinician": clinician,
                    },
                    [clinician.email],
                )
            Notification.objects.create(
                recipient=clinician,
                kind=NotificationKind.ESCALATION,
                title=title,
                body=escalation.summary,
                url=url,
                visit=escalation.visit,
                escalation=escalation,
                created_at=now,
            )
            _mark(EscalationNotice, [notice.pk], now)
            EscalationNotice.objects.bulk_create(
                [
                    EscalationNotice(
                        escalation=escalation, attempt=notice.attempt + 1, due_at=now + RESEND_AFTER
                    )
                ],
                ignore_conflicts=True,
            )
    except MAIL_ERRORS as error:
        _record_failure(EscalationNotice, notice_id, error)
        raise
    return "sent"


# --- rule versions awaiting approval -------------------------------------------------------------


def approval_requested(*, version: Any, submitted_by: User, now: dt.datetime | None = None) -> None:
    """An in-app notice for every other guideline admin who may approve the submitted rule
    version, and its e-mail copy (claimed here, enqueued after commit; the sweep takes it
    again if the message is lost)."""
    now = now or timezone.now()
    approvers = (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename="approve_ruleversion")
            | Q(user_permissions__codename="approve_ruleversion")
        )
        .exclude(pk=submitted_by.pk)
        .distinct()
    )
    url = reverse("guidelines:version", args=[version.rule.rule_id, version.number])
    title = f"{version.rule.rule_id} v{version.number} awaits your approval"
    body = version.change_note or ""
    with transaction.atomic():
        notices = Notification.objects.bulk_create(
            [
                Notification(
                    recipient=approver,
                    kind=NotificationKind.APPROVAL,
                    title=title,
                    body=body,
                    url=url,
                    created_at=now,
                )
                for approver in approvers
            ]
        )
        mails = ApprovalMail.objects.bulk_create(
            [ApprovalMail(notice=notice, due_at=now, claimed_at=now) for notice in notices]
        )
        dispatch_on_commit(ApprovalMail, [m.pk for m in mails], now)


def approval_request_mail(mail_id: int, *, now: dt.datetime | None = None) -> str:
    """The e-mail copy of one approval notice, sent once."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            row = _locked_unsent(ApprovalMail, mail_id, "notice__recipient")
            if row is None:
                return "nothing to do"
            assert isinstance(row, ApprovalMail)
            notice = row.notice
            if notice.recipient.email:
                _send_mail(
                    notice.title,
                    "approval_request",
                    {"notice": notice, "url": absolute_url(notice.url)},
                    [notice.recipient.email],
                )
            _mark(ApprovalMail, [row.pk], now)
    except MAIL_ERRORS as error:
        _record_failure(ApprovalMail, mail_id, error)
        raise
    return "sent"
