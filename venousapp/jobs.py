"""Background jobs handed over through the database (impact previews, re-evaluations of the
stored cases, patency reports).

The job row is the work; the Celery message is only a hint that it is there. The message is
sent once the row is committed, and a broker that is down fails neither the request nor its
saved work (``enqueue_on_commit``). The periodic sweep (``followup.sweep``, every 30
seconds) calls ``jobs_resume`` for each job model: a job still queued ``REQUEUE_AFTER``
after its last message is sent again (its task claims it with a conditional UPDATE, so a
second message does nothing), and a job running longer than its task's hard time limit lost
its worker and is marked failed, so the page offers to start it again. Nothing stays
"queued" or "running" for ever.

A job model has ``status`` (queued, running, done, failed), ``enqueued_at``, ``started_at``,
``finished_at`` and ``error``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

REQUEUE_AFTER = dt.timedelta(seconds=90)
RESUME_BATCH = 100
LOST_WORKER = "The worker computing this stopped before it finished; start it again."


def enqueue_on_commit(task: Any, job: models.Model) -> None:
    """Send ``task(job.pk)`` once the job row is committed; if the broker is down, Django
    logs the error and ``jobs_resume`` sends it again later."""
    pk = job.pk
    transaction.on_commit(lambda: task.delay(pk), robust=True)


def _send(task: Any, ids: list[int]) -> None:
    for pk in ids:
        task.delay(pk)


@dataclass(frozen=True)
class Resumed:
    requeued: int
    failed: int


def jobs_resume(
    model: type[models.Model],
    *,
    task: Any,
    statuses: Any,
    now: dt.datetime | None = None,
) -> Resumed:
    """Send again the jobs of ``model`` left queued, and fail those whose worker was lost
    (running longer than ``task.time_limit``). ``statuses``: the model's status choices
    (``QUEUED``, ``RUNNING``, ``FAILED``)."""
    now = now or timezone.now()
    manager = model._default_manager
    with transaction.atomic():
        ids = list(
            manager.select_for_update(skip_locked=True)
            .filter(status=statuses.QUEUED, enqueued_at__lt=now - REQUEUE_AFTER)
            .order_by("enqueued_at")
            .values_list("pk", flat=True)[:RESUME_BATCH]
        )
        manager.filter(pk__in=ids).update(enqueued_at=now)
        transaction.on_commit(lambda: _send(task, ids), robust=True)
    lost_before = now - dt.timedelta(seconds=task.time_limit)
    failed = manager.filter(status=statuses.RUNNING, started_at__lt=lost_before).update(
        status=statuses.FAILED, error=LOST_WORKER, finished_at=now
    )
    if ids or failed:
        logger.warning(
            "jobs: %s %s sent again, %s failed (worker lost)",
            len(ids),
            model._meta.verbose_name_plural,
            failed,
        )
    return Resumed(requeued=len(ids), failed=failed)
