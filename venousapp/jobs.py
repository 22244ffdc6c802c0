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

A job model extends ``venousapp.models.BackgroundJob`` and names its Celery task
(``task_name``). :func:`job_start` is the one way a service starts a job: in the request when it
is small (:func:`runs_inline`, with the limit in a ``*_INLINE_MAX`` setting), else by the task
once the row is committed. :func:`job_run` is the one way a task runs it: claim, work with
progress, done or failed. Services find a task by its name (:func:`task`), so no service
imports the tasks module that imports it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from venousapp.models import BackgroundJob, JobStatus

logger = logging.getLogger(__name__)

REQUEUE_AFTER = dt.timedelta(seconds=90)
RESUME_BATCH = 100
LOST_WORKER = "The worker computing this stopped before it finished; start it again."
ERROR_MAX = 2000

Job = TypeVar("Job", bound=BackgroundJob)


def job_run(
    model: type[Job],
    pk: int,
    work: Callable[[int, Callable[[int, int], None]], dict[str, Any]],
    *,
    now: Callable[[], dt.datetime] = timezone.now,
) -> bool:
    """Run one queued job: claim it with a conditional UPDATE (a redelivered task finds it
    claimed and does nothing: returns False), call ``work(pk, progress)`` and store the
    fields it returns with the job done, or the error with the job failed (and re-raise, so
    the worker logs it). ``progress(done, total)`` writes the progress outside any
    transaction, so the polling page sees it."""
    rows = model._default_manager.filter(pk=pk)
    if not rows.filter(status=JobStatus.QUEUED).update(status=JobStatus.RUNNING, started_at=now()):
        return False

    def progress(done: int, total: int) -> None:
        rows.update(done=min(done, total), total=total)

    try:
        fields = work(pk, progress)
    except Exception as error:
        rows.update(status=JobStatus.FAILED, error=str(error)[:ERROR_MAX], finished_at=now())
        raise
    rows.update(status=JobStatus.DONE, finished_at=now(), **fields)
    return True


def task(name: str) -> Any:
    """The Celery task registered as ``name``: the app's tasks modules are imported by the
    worker and by each app's ``ready``."""
    return current_app.tasks[name]


def runs_inline(total: int, limit: str) -> bool:
    """The one "inline below N, else Celery" decision: ``total`` items are worked through in
    the request when they are at most the setting named ``limit`` (a ``*_INLINE_MAX``)."""
    return total <= int(getattr(settings, limit))


def job_start(job: Job, *, inline: bool, run: Callable[[int], object]) -> Job:
    """Save ``job`` and have it done: by ``run(pk)`` now, in this process, when ``inline``
    (the job is returned as it ended), else by its task once the row is committed."""
    job.enqueued_at = None if inline else timezone.now()
    job.save()
    if inline:
        run(job.pk)
        job.refresh_from_db()
    else:
        enqueue_on_commit(job)
    return job


def enqueue_on_commit(job: BackgroundJob) -> None:
    """Send the job's task once the job row is committed; if the broker is down, Django logs
    the error and ``jobs_resume`` sends it again later."""
    pk, name = job.pk, job.task_name
    transaction.on_commit(lambda: task(name).delay(pk), robust=True)


def _send(task: Any, ids: list[int]) -> None:
    for pk in ids:
        task.delay(pk)


@dataclass(frozen=True)
class Resumed:
    requeued: int
    failed: int


def jobs_resume(model: type[BackgroundJob], *, now: dt.datetime | None = None) -> Resumed:
    """Send again the jobs of ``model`` left queued, and fail those whose worker was lost
    (running longer than its task's ``time_limit``)."""
    now = now or timezone.now()
    runner = task(model.task_name)
    manager = model._default_manager
    with transaction.atomic():
        ids = list(
            manager.select_for_update(skip_locked=True)
            .filter(status=JobStatus.QUEUED, enqueued_at__lt=now - REQUEUE_AFTER)
            .order_by("enqueued_at")
            .values_list("pk", flat=True)[:RESUME_BATCH]
        )
        manager.filter(pk__in=ids).update(enqueued_at=now)
        transaction.on_commit(lambda: _send(runner, ids), robust=True)
    lost_before = now - dt.timedelta(seconds=runner.time_limit)
    failed = manager.filter(status=JobStatus.RUNNING, started_at__lt=lost_before).update(
        status=JobStatus.FAILED, error=LOST_WORKER, finished_at=now
    )
    if ids or failed:
        logger.warning(
            "jobs: %s %s sent again, %s failed (worker lost)",
            len(ids),
            model._meta.verbose_name_plural,
            failed,
        )
    return Resumed(requeued=len(ids), failed=failed)
