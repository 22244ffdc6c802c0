"""Celery tasks of the follow-up app: thin, they take ids (the work is in
``followup.notifications``, and in ``followup.services.reports`` for the patency analytics),
acknowledge late so a killed worker's message is redelivered (settings:
``CELERY_TASK_REJECT_ON_WORKER_LOST``), and retry every failure (a mail server that refused,
the database, a time limit) with exponential backoff; the failure is recorded on its row
first. Running any of them twice is harmless (see notifications.py; a patency report is
claimed with a conditional UPDATE)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from followup import notifications
from followup.services.reports import patency_report_run

# A delivery that failed (the mail server, the database: SQLite "database is locked" under
# `make run`, a dropped connection; the soft time limit) rolled back and is tried again.
_DELIVERY_RETRY: dict[str, Any] = {
    "autoretry_for": (*notifications.MAIL_ERRORS, OperationalError, SoftTimeLimitExceeded),
    "retry_backoff": True,  # 1, 2, 4, 8 ... seconds (with jitter), at most 10 minutes
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
# One message (a digest, an escalation notice, one e-mail): a minute at most
# (notifications.SEND_WINDOW).
_ONE_MESSAGE: dict[str, Any] = {
    "acks_late": True,
    "time_limit": 60,
    "soft_time_limit": 45,
    **_DELIVERY_RETRY,
}


@shared_task(name="followup.sweep", acks_late=True, time_limit=240, soft_time_limit=200)
def sweep(now: str | None = None) -> dict[str, Any]:
    """The periodic sweep (django-celery-beat, every 30 seconds). ``now`` (ISO 8601) lets a
    caller sweep as of another time; the beat entry passes nothing."""
    when = dt.datetime.fromisoformat(now) if now else None
    result = notifications.reminders_sweep(now=when)
    return {
        "claimed": result.claimed,
        "digests_created": result.digests_created,
        "schedules_extended": result.schedules_extended,
        "jobs_requeued": result.jobs_requeued,
        "jobs_failed": result.jobs_failed,
    }


@shared_task(
    name="followup.deliver_reminders",
    acks_late=True,
    time_limit=120,
    soft_time_limit=100,
    **_DELIVERY_RETRY,
)
def deliver_reminders(reminder_ids: list[int]) -> int:
    return notifications.reminders_deliver(ids=reminder_ids)


@shared_task(name="followup.deliver_digest", **_ONE_MESSAGE)
def deliver_digest(digest_id: int) -> str:
    return notifications.digest_deliver(digest_id=digest_id)


@shared_task(name="followup.deliver_escalation_notice", **_ONE_MESSAGE)
def deliver_escalation_notice(notice_id: int) -> str:
    return notifications.escalation_notice_deliver(notice_id=notice_id)


@shared_task(name="followup.patency_report", acks_late=True, time_limit=900, soft_time_limit=870)
def patency_report(report_id: int) -> bool:
    """Compute one queued patency report; a redelivered message finds it claimed and stops."""
    return patency_report_run(report_id=report_id)


@shared_task(name="followup.deliver_notice_mail", **_ONE_MESSAGE)
def deliver_notice_mail(mail_id: int) -> str:
    return notifications.notice_mail_send(mail_id)
