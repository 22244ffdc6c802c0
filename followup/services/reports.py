"""Patency analytics: the Kaplan–Meier curves of a centre, computed inline for a small cohort
and by a Celery worker for a large one (``patency_analytics``), like the guidelines' impact
preview: the worker's ``PatencyReport`` row carries its progress and result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from followup import patency, selectors
from followup.models import PatencyReport
from venousapp import jobs
from venousapp.accounts.models import Person
from venousapp.models import JobStatus

# A report queued or running for longer than the task's time limit was lost (its message or
# its worker): a new one is started rather than polled forever.
PATENCY_RUNNING_SECONDS = 20 * 60


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
    *, user: Person, entity: str = "", refresh: bool = False, now: dt.datetime | None = None
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
    *, user: Person, entity: str = "", now: dt.datetime | None = None
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
