"""Reminders, digests, escalation notices and their e-mail copies: one sweep claims what is
due, tasks deliver it.

The pattern is healthchecks' ``sendalerts`` and Zulip's scheduled messages (STYLE.md
convention 5):

1. Due rows (``Reminder``, ``EscalationNotice``, ``Digest``, ``NoticeMail``) are found
   through a partial index (``sent_at IS NULL``, ordered by ``due_at``) and **claimed** in a
   short transaction with ``SELECT … FOR UPDATE SKIP LOCKED`` + ``UPDATE … SET
   claimed_at``: two sweeps running at once claim disjoint rows. The ids are enqueued once
   that transaction has committed (``followup.dispatch``); a broker that is down fails
   nothing.
2. A task **delivers** a row inside a transaction holding its row lock: it re-reads the row
   (``sent_at IS NULL``), creates the in-app notices and their e-mail copies, and marks
   ``sent_at`` before committing. A second run of the same task (redelivery after a worker
   was killed, a retry, a duplicate message) finds the row sent, or locked by the run that
   is delivering it, and does nothing. The unique constraints (visit + kind, escalation +
   attempt, centre + date, one e-mail per notice) make a second row for the same message
   impossible.
3. A claim whose delivery never finished (message lost with its worker, every retry failed)
   is taken again after ``CLAIM_TIMEOUT`` by a later sweep (every 30 seconds).

E-mail is the one side effect outside the database, so the in-app notice never waits for
it: each e-mail is a ``NoticeMail`` row of its own, sent at most once (its key,
``sending_at``, is committed before the message goes to the mail server; see
``notice_mail_send``). A refused or unreachable mail server is retried with backoff; a
server that stops answering in the middle of a message leaves the copy "not confirmed"
rather than sending it twice.

E-mails carry no patient identifiers (case and visit numbers and a link); the app shows
the rest after login. Recipients mark their in-app notices read here too
(``notification_mark_read``).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from followup import selectors
from followup.dispatch import Dispatcher, dispatch_on_commit
from followup.models import (
    Digest,
    Escalation,
    EscalationNotice,
    MailOutcome,
    NoticeMail,
    Notification,
    NotificationKind,
    Reminder,
    ReminderKind,
    VisitState,
)
from followup.services.clock import centre_today, centre_zone, local_at
from followup.services.reports import patency_reports_resume
from followup.services.schedules import schedules_extend_due
from guidelines.services import resume as guidelines_resume
from venousapp.accounts.models import Centre, Person, Role, User

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(seconds=90)
CLAIM_BATCH = 1_000
SWEEP_LIMIT = 50_000  # rows claimed per model and sweep; the next sweep takes the rest
RESEND_AFTER = dt.timedelta(hours=24)
DIGEST_LINES = 100
MAIL_ERRORS: tuple[type[BaseException], ...] = (smtplib.SMTPException, OSError)
# The mail server answered with an error: the message was not accepted, it can be sent again.
MAIL_REFUSALS: tuple[type[Exception], ...] = (
    smtplib.SMTPResponseException,
    smtplib.SMTPRecipientsRefused,
)
MAIL_MAX_TRIES = 10
SEND_WINDOW = dt.timedelta(seconds=60)  # the longest a send runs (the task's time limit)


def digest_hour() -> int:
    return int(settings.FOLLOWUP_DIGEST_HOUR)


def absolute_url(path: str) -> str:
    base = str(settings.SITE_URL).rstrip("/")
    return f"{base}{path}"


# --- dispatch ---------------------------------------------------------------------------------


def deliver_inline(model: type[models.Model], ids: Sequence[int], now: dt.datetime) -> int:
    """Deliver in this process as of the sweep's ``now`` (``send_due_reminders --inline``,
    tests without a worker)."""
    if model is Reminder:
        reminders_deliver(ids=list(ids), now=now)
    else:
        one_by_one: dict[type[models.Model], Callable[..., str]] = {
            Digest: digest_deliver,
            EscalationNotice: escalation_notice_deliver,
            NoticeMail: notice_mail_send,
        }
        deliver = one_by_one[model]
        for pk in ids:
            try:
                deliver(pk, now=now, dispatcher=deliver_inline)
            except MAIL_ERRORS:
                logger.warning("followup: delivery of %s %s failed", model.__name__, pk)
    return len(ids)


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class SweepResult:
    digests_created: int = 0
    schedules_extended: int = 0
    claimed: dict[str, int] = field(default_factory=dict)
    jobs_requeued: int = 0
    jobs_failed: int = 0

    @property
    def total_claimed(self) -> int:
        return sum(self.claimed.values())

    def as_text(self) -> str:
        parts = [f"{name} {count}" for name, count in self.claimed.items()]
        return (
            f"claimed {self.total_claimed} ({', '.join(parts)}); digests created "
            f"{self.digests_created}; schedules extended {self.schedules_extended}; "
            f"jobs sent again {self.jobs_requeued}, failed (worker lost) {self.jobs_failed}"
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
        local = now.astimezone(centre_zone(centre))
        if local.hour < hour:
            continue
        _, new = Digest.objects.get_or_create(
            centre=centre,
            local_date=local.date(),
            defaults={"due_at": local_at(centre, local.date(), hour)},
        )
        created += new
    return created


def reminders_sweep(
    *,
    now: dt.datetime | None = None,
    dispatcher: Dispatcher | None = None,
    limit: int = SWEEP_LIMIT,
) -> SweepResult:
    """The periodic sweep (every 30 seconds, ``followup.sweep``; ``send_due_reminders``): due
    deliveries are claimed, and background jobs left queued or lost with their worker are
    resumed (``venousapp.jobs``)."""
    now = now or timezone.now()
    result = SweepResult()
    result.digests_created = digests_create(now=now)
    result.schedules_extended = schedules_extend_due(now=now)
    for model in (EscalationNotice, Digest, Reminder, NoticeMail):
        total = 0
        while total < limit:
            ids = claim_due(
                model, now=now, limit=min(CLAIM_BATCH, limit - total), dispatcher=dispatcher
            )
            total += len(ids)
            if len(ids) < CLAIM_BATCH:
                break
        result.claimed[model._meta.model_name or model.__name__] = total
    resumed = [*guidelines_resume.jobs_resume(now=now).values()]
    resumed.append(patency_reports_resume(now=now))
    result.jobs_requeued = sum(r.requeued for r in resumed)
    result.jobs_failed = sum(r.failed for r in resumed)
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


def _record_failure(model: type[models.Model], pks: Iterable[int], error: BaseException) -> None:
    model._default_manager.filter(pk__in=list(pks), sent_at__isnull=True).update(
        tries=models.F("tries") + 1, last_error=repr(error)[:500]
    )


@contextmanager
def _failure_recorded(model: type[models.Model], pks: Iterable[int]) -> Iterator[None]:
    """Every failure of a delivery (time limits included) is recorded on its rows before it
    propagates to the task, which retries it; a database too broken to record it is logged."""
    try:
        yield
    except Exception as error:
        try:
            _record_failure(model, pks, error)
        except DatabaseError:
            logger.exception("followup: could not record the failure of %s", model.__name__)
        raise


def _nurses(centre_ids: Iterable[int]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = defaultdict(list)
    for user in (
        Person.objects.filter(
            centre_id__in=set(centre_ids), is_active=True, groups__name=Role.NURSE
        )
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
    with _failure_recorded(Reminder, ids), transaction.atomic():
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
    today = centre_today(visit.centre, now)
    if reminder.kind == ReminderKind.WINDOW_OPEN:
        return today <= visit.target_on
    return today <= visit.latest_on


def _copy(
    notice: Notification, subject: str, template: str, context: dict[str, object], now: dt.datetime
) -> NoticeMail | None:
    """The e-mail copy of an in-app notice, rendered now and sent by its own task; none for a
    recipient without an address."""
    if not notice.recipient.email:
        return None
    return NoticeMail(
        notice=notice,
        to=notice.recipient.email,
        subject=subject,
        text=render_to_string(f"emails/{template}.txt", context),
        html=render_to_string(f"emails/{template}.html", context),
        due_at=now,
        claimed_at=now,
    )


def _notices_with_copies(
    notices: Sequence[Notification],
    copies: Sequence[NoticeMail | None],
    now: dt.datetime,
    dispatcher: Dispatcher | None,
) -> None:
    """Save in-app notices and their e-mail copies together (inside the caller's
    transaction); the copies are enqueued once it has committed."""
    Notification.objects.bulk_create(notices)
    mails = NoticeMail.objects.bulk_create(
        [copy for copy in copies if copy is not None], batch_size=CLAIM_BATCH
    )
    dispatch_on_commit(NoticeMail, [m.pk for m in mails], now, dispatcher)


def digest_deliver(
    digest_id: int, *, now: dt.datetime | None = None, dispatcher: Dispatcher | None = None
) -> str:
    """The centre's daily worklist: an in-app notice to each of its nurses and its e-mail
    copy."""
    now = now or timezone.now()
    with _failure_recorded(Digest, [digest_id]), transaction.atomic():
        digest = _locked_unsent(Digest, digest_id, "centre")
        if digest is None:
            return "nothing to do"
        assert isinstance(digest, Digest)
        centre = digest.centre
        nurses = _nurses([centre.pk]).get(centre.pk, [])
        counts = selectors.worklist_counts(centre_id=centre.pk, today=digest.local_date)
        if not counts["all"] or not nurses:
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
        notices = [
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
        copies = [_copy(notice, subject, "followup_digest", context, now) for notice in notices]
        _notices_with_copies(notices, copies, now, dispatcher)
        _mark(Digest, [digest.pk], now, item_count=counts["all"])
    return "sent"


def escalation_notice_deliver(
    notice_id: int, *, now: dt.datetime | None = None, dispatcher: Dispatcher | None = None
) -> str:
    """In-app notice to the responsible clinician and its e-mail copy; schedules the next
    notice 24 hours later in case the escalation stays unacknowledged."""
    now = now or timezone.now()
    with _failure_recorded(EscalationNotice, [notice_id]), transaction.atomic():
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
        title = (
            f"{'Reminder: ' if notice.attempt > 0 else ''}abnormal follow-up finding, "
            f"case #{escalation.case_id}"
        )
        in_app = Notification(
            recipient=clinician,
            kind=NotificationKind.ESCALATION,
            title=title,
            body=escalation.summary,
            url=url,
            visit=escalation.visit,
            escalation=escalation,
            created_at=now,
        )
        context = {
            "escalation": escalation,
            "visit": escalation.visit,
            "reasons": escalation.summary.splitlines(),
            "attempt": notice.attempt,
            "url": absolute_url(url),
            "clinician": clinician,
        }
        copy = _copy(in_app, title, "followup_escalation", context, now)
        _notices_with_copies([in_app], [copy], now, dispatcher)
        _mark(EscalationNotice, [notice.pk], now)
        EscalationNotice.objects.bulk_create(
            [
                EscalationNotice(
                    escalation=escalation, attempt=notice.attempt + 1, due_at=now + RESEND_AFTER
                )
            ],
            ignore_conflicts=True,
        )
    return "sent"


# --- rule versions awaiting approval -------------------------------------------------------------


def approval_requested(*, version: Any, submitted_by: User, now: dt.datetime | None = None) -> None:
    """An in-app notice for every other guideline admin who may approve the submitted rule
    version, and its e-mail copy (enqueued after commit; the sweep takes it again if the
    message is lost)."""
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
    notices = [
        Notification(
            recipient=approver,
            kind=NotificationKind.APPROVAL,
            title=title,
            body=version.change_note or "",
            url=url,
            created_at=now,
        )
        for approver in approvers
    ]
    copies = [
        _copy(
            notice,
            title,
            "approval_request",
            {"notice": notice, "url": absolute_url(url)},
            now,
        )
        for notice in notices
    ]
    with transaction.atomic():
        _notices_with_copies(notices, copies, now, None)


# --- e-mail -----------------------------------------------------------------------------------


def _mail_retry_later(mail: NoticeMail, now: dt.datetime, error: BaseException) -> bool:
    """A copy the mail server did not accept: the key is released so a retry sends it; after
    ``MAIL_MAX_TRIES`` it is given up (its in-app notice stands). Returns whether to retry."""
    give_up = mail.tries + 1 >= MAIL_MAX_TRIES
    NoticeMail.objects.filter(pk=mail.pk, sent_at__isnull=True).update(
        sending_at=None,
        claimed_at=now,
        tries=models.F("tries") + 1,
        last_error=repr(error)[:500],
        **({"sent_at": now, "outcome": MailOutcome.FAILED} if give_up else {}),
    )
    return not give_up


def _mail_done(pk: int, now: dt.datetime, outcome: str, error: BaseException | None = None) -> None:
    NoticeMail.objects.filter(pk=pk, sent_at__isnull=True).update(
        sent_at=now, outcome=outcome, last_error=repr(error)[:500] if error else ""
    )


def notice_mail_send(
    mail_id: int, *, now: dt.datetime | None = None, dispatcher: Dispatcher | None = None
) -> str:
    """Send one e-mail copy, at most once.

    ``sending_at`` (the idempotency key) is committed before the message goes out. A run that
    finds it set while a send may still be running does nothing; once that time has passed,
    the copy is recorded as not confirmed instead of being sent again. Errors before the
    server accepted anything (no connection, an error reply) release the key and are raised
    for the task to retry with backoff; an error while the server may have accepted the
    message (a timeout, a dropped connection, the task's time limit) is recorded, not
    retried. The message id is derived from the row, so a receiving server sees one message.
    """
    now = now or timezone.now()
    with transaction.atomic():
        mail = _locked_unsent(NoticeMail, mail_id)
        if mail is None:
            return "nothing to do"
        assert isinstance(mail, NoticeMail)
        if mail.sending_at is not None:
            if mail.sending_at > now - SEND_WINDOW:
                return "in progress"
            _mail_done(mail.pk, now, MailOutcome.UNCONFIRMED)
            return "not confirmed"
        NoticeMail.objects.filter(pk=mail.pk).update(sending_at=now)
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.text,
        to=[mail.to],
        headers={"Message-ID": f"<notice-mail-{mail.pk}@{_site_host()}>"},
    )
    if mail.html:
        message.attach_alternative(mail.html, "text/html")
    connection = get_connection()
    try:
        try:
            connection.open()
        except Exception as error:  # nothing reached the mail server
            return _mail_refused(mail, error)
        try:
            connection.send_messages([message])
        except MAIL_REFUSALS as error:  # an error reply: the message was not accepted
            return _mail_refused(mail, error)
        except Exception as error:  # the server may have accepted it: never send it twice
            _mail_done(mail.pk, timezone.now(), MailOutcome.UNCONFIRMED, error)
            logger.warning("followup: e-mail %s not confirmed by the mail server", mail.pk)
            return "not confirmed"
    finally:
        _close_quietly(connection)
    _mail_done(mail.pk, timezone.now(), MailOutcome.SENT)
    return "sent"


def _mail_refused(mail: NoticeMail, error: Exception) -> str:
    if _mail_retry_later(mail, timezone.now(), error):
        raise error
    logger.error("followup: e-mail %s given up after %s tries", mail.pk, MAIL_MAX_TRIES)
    return "failed"


def _site_host() -> str:
    return urlsplit(str(settings.SITE_URL)).hostname or "localhost"


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:
        logger.warning("followup: closing the mail connection failed", exc_info=True)


# --- read by their recipient ------------------------------------------------------------------


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
