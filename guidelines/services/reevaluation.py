"""Re-evaluation of the stored cases: their stored overall statuses brought up to the
published rule set and engine, after a publish (``authoring.ruleset_state_bump``), after a
deploy's ``migrate`` or by hand (``manage.py reevaluate_cases``, the admin page)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, models
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from cases.facts import case_facts
from cases.models import Case
from cases.services import case_evaluations_store
from guidelines import impact
from guidelines.engine import ENGINE_VERSION, evaluate
from guidelines.models import ReEvaluation, ReEvaluationTrigger
from guidelines.ruleset import current_ruleset_numbered
from guidelines.selectors import reevaluation_in_progress, up_to_date_q
from guidelines.services.common import _require_perm
from venousapp import jobs
from venousapp.accounts.models import User
from venousapp.models import JobStatus

logger = logging.getLogger(__name__)

# Passes of one re-evaluation over the cases still stale (a publish or an edit while it ran);
# bounded so a case that cannot be written never keeps a worker busy.
REEVALUATION_MAX_PASSES = 5


def _stale_cases(ruleset: int) -> models.QuerySet[Case]:
    """Stored cases whose status was computed with another rule set or engine version, or
    never (NULL)."""
    return impact.stored_cases().exclude(up_to_date_q(ruleset))


def reevaluation_start(
    *,
    trigger: str,
    user: User | None = None,
    inline: bool | None = None,
    everything: bool = False,
) -> ReEvaluation:
    """Start a re-evaluation of the stored cases that are not up to date: inline when they are
    few (or ``inline``), else as a Celery task enqueued after commit. ``everything``
    re-evaluates every stored case, up to date or not, in this process.

    Deliberately not one transaction, like the impact preview: the job row and its progress
    must be visible to the polling page while the cases are evaluated."""
    if user is not None:
        _require_perm(user, "guidelines.approve_ruleversion")
    _ruleset, number = current_ruleset_numbered(fresh=True)
    due = impact.stored_cases() if everything else _stale_cases(number)
    stale = due.count()
    if inline is None:
        inline = jobs.runs_inline(stale, "GUIDELINES_REEVALUATION_INLINE_MAX")
    return jobs.job_start(
        ReEvaluation(trigger=trigger, requested_by=user, ruleset=number, total=stale),
        inline=everything or inline,
        run=lambda pk: reevaluation_run(job_id=pk, everything=everything),
    )


def reevaluation_run(
    *,
    job_id: int,
    chunk_size: int = impact.CHUNK_SIZE,
    now: Callable[[], dt.datetime] = timezone.now,
    everything: bool = False,
) -> bool:
    """Run one queued re-evaluation (claimed with a conditional UPDATE, so a redelivered task
    does not run it twice); returns False when it was not claimable.

    Each pass evaluates the cases that are stale for the rule set published when the pass
    began, chunk by chunk, storing their statuses and the job's progress per chunk. Every
    chunk is evaluated with the rule set published when it is read, and passes repeat until
    no case is stale: after a publish during the run, the chunks already stored are taken
    again with the newer rule set (and the job that publish started finds nothing left).
    ``everything``: the first pass takes every stored case, up to date or not.
    """

    def work(pk: int, progress: Callable[[int, int], None]) -> dict[str, Any]:
        job_rows = ReEvaluation.objects.filter(pk=pk)
        for index in range(REEVALUATION_MAX_PASSES):
            _ruleset, number = current_ruleset_numbered(fresh=True)
            stale = impact.stored_cases() if everything and index == 0 else _stale_cases(number)
            count = stale.count()
            if not count:
                break
            job_rows.update(total=F("done") + count)
            for chunk in impact.case_chunks(stale, chunk_size):
                ruleset, number = current_ruleset_numbered(fresh=True)
                evaluations = [
                    (case, evaluate(case_facts(case), ruleset)["overall"]) for case in chunk
                ]
                changed = sum(
                    1 for case, code in evaluations if case.overall_status not in (None, code)
                )
                case_evaluations_store(
                    evaluations=evaluations, ruleset=number, engine=ENGINE_VERSION, now=now()
                )
                # A case added during the pass may join the stream: total grows with done.
                job_rows.update(
                    ruleset=number,
                    done=F("done") + len(chunk),
                    total=Greatest(F("total"), F("done") + len(chunk)),
                    changed=F("changed") + changed,
                )
        return {}

    return jobs.job_run(ReEvaluation, job_id, work, now=now)


def reevaluation_after_migrate() -> ReEvaluation | None:
    """Start the re-evaluation a deploy calls for, after ``migrate``: when stored overall
    statuses were computed with another rule set or engine version (a data migration loaded
    changed rules, or the evaluation logic changed), and no re-evaluation is under way.

    Never fails the migration: a broken broker or database problem is logged and recorded on
    the job; the lists evaluate stale cases live meanwhile and ``manage.py reevaluate_cases``
    finishes the work by hand."""
    try:
        _ruleset, number = current_ruleset_numbered(fresh=True)
        if not _stale_cases(number).exists() or reevaluation_in_progress() is not None:
            return None
    except DatabaseError:  # an app migrated back or a partial migrate: nothing to do yet
        logger.warning("Stored overall statuses not checked after migrate", exc_info=True)
        return None
    try:
        return reevaluation_start(trigger=ReEvaluationTrigger.DEPLOY)
    except Exception as error:
        logger.exception("The re-evaluation after migrate could not be started")
        ReEvaluation.objects.filter(
            trigger=ReEvaluationTrigger.DEPLOY, status=JobStatus.QUEUED
        ).update(status=JobStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now())
        return None
