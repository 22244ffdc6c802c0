"""Claimed deliveries handed to Celery once the claim has committed.

The sweep (``followup.notifications``) dispatches what it claims through here, and so does a
service that claims a first delivery itself (an escalation's first notice,
``followup.services.escalations``). The tasks are found by name (``venousapp.jobs.task``):
``followup.tasks`` imports the delivery code, which must not import it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.db import models, transaction

from followup.models import Digest, EscalationNotice, NoticeMail, Reminder
from venousapp import jobs

REMINDER_CHUNK = 500  # reminder ids per delivery task (in-app only, one transaction)


def _enqueue(model: type[models.Model], ids: Sequence[int], now: dt.datetime) -> int:
    """Send the claimed ids to Celery (called after the claim has committed); the tasks
    deliver as of the time they run."""
    if model is Reminder:
        chunks = [list(ids[i : i + REMINDER_CHUNK]) for i in range(0, len(ids), REMINDER_CHUNK)]
        deliver_reminders = jobs.task("followup.deliver_reminders")
        for chunk in chunks:
            deliver_reminders.delay(chunk)
        return len(chunks)
    task_names: dict[type[models.Model], str] = {
        Digest: "followup.deliver_digest",
        EscalationNotice: "followup.deliver_escalation_notice",
        NoticeMail: "followup.deliver_notice_mail",
    }
    task = jobs.task(task_names[model])
    for pk in ids:
        task.delay(pk)
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
    stale claim again after ``followup.notifications.CLAIM_TIMEOUT``."""
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: (dispatcher or _enqueue)(model, ids, now), robust=True)
