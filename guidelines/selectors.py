"""Reads of the guideline app for other apps: evaluations of facts documents, and how far the
stored evaluations of the cases are behind the published rule set."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from cases.models import Case, overall_label
from guidelines.engine import ENGINE_VERSION, RuleSet, evaluate
from guidelines.models import ReEvaluation
from guidelines.presentation import Panel, panel
from guidelines.ruleset import current_ruleset, current_ruleset_numbered
from venousapp.models import JobStatus

# A job still queued or running after this long is not coming back (a lost message, a killed
# worker; the Celery task's hard time limit is shorter): the pages stop waiting for it.
REEVALUATION_ABANDONED_AFTER = dt.timedelta(hours=1)


def recommendations_evaluate(
    *, facts: dict[str, Any], ruleset: RuleSet | None = None
) -> tuple[dict[str, Any], RuleSet]:
    """The evaluation of ``facts`` and the rule set it was made with."""
    ruleset = ruleset or current_ruleset()
    return evaluate(facts, ruleset), ruleset


def recommendations_panel(*, facts: dict[str, Any], ruleset: RuleSet | None = None) -> Panel:
    result, ruleset = recommendations_evaluate(facts=facts, ruleset=ruleset)
    return panel(result, ruleset)


def overall_evaluate(*, facts: dict[str, Any]) -> tuple[str, int, int]:
    """The overall status code of ``facts`` under the published rule set, that rule set's
    number (read afresh, not as the request first saw it) and the engine version, to be
    stored with it."""
    ruleset, number = current_ruleset_numbered(fresh=True)
    return evaluate(facts, ruleset)["overall"], number, ENGINE_VERSION


def up_to_date_q(number: int) -> Q:
    """Cases whose stored status was computed with rule set ``number`` by this engine."""
    return Q(evaluated_ruleset=number, evaluated_engine=ENGINE_VERSION)


@dataclass(frozen=True)
class OverallStatus:
    code: str
    label: str
    live: bool  # evaluated now: the stored status was computed with another rule set


def overall_status(
    *,
    stored: str | None,
    evaluated_ruleset: int | None,
    evaluated_engine: int | None,
    facts: Callable[[], dict[str, Any]],
) -> OverallStatus:
    """A case's overall status for a list: the stored one while its rule set is the
    published one and its engine this one, else evaluated now (``facts`` is only called
    then). Inside a request the rule set is looked up once, however many cases are shown."""
    ruleset, number = current_ruleset_numbered()
    if stored is not None and evaluated_ruleset == number and evaluated_engine == ENGINE_VERSION:
        return OverallStatus(stored, overall_label(stored), live=False)
    code = evaluate(facts(), ruleset)["overall"]
    return OverallStatus(code, overall_label(code), live=True)


@dataclass(frozen=True)
class StoredEvaluations:
    """How many stored cases (all centres) carry an evaluation of the published rule set."""

    ruleset: int
    up_to_date: int
    stale: int
    job: ReEvaluation | None  # the re-evaluation in progress, if any
    last: ReEvaluation | None  # the latest re-evaluation, finished or not


def reevaluation_in_progress(*, now: dt.datetime | None = None) -> ReEvaluation | None:
    since = (now or timezone.now()) - REEVALUATION_ABANDONED_AFTER
    return (
        ReEvaluation.objects.filter(
            status__in=[JobStatus.QUEUED, JobStatus.RUNNING], created_at__gte=since
        )
        .order_by("-created_at", "-id")
        .first()
    )


def stored_evaluations(*, now: dt.datetime | None = None) -> StoredEvaluations:
    """Four queries at most: the rule-set number, one count over the cases, the job in
    progress (a partial index) and the latest job."""
    _ruleset, number = current_ruleset_numbered()
    counts = Case.objects.aggregate(
        total=Count("pk"), up_to_date=Count("pk", filter=up_to_date_q(number))
    )
    return StoredEvaluations(
        ruleset=number,
        up_to_date=counts["up_to_date"],
        stale=counts["total"] - counts["up_to_date"],
        job=reevaluation_in_progress(now=now),
        last=ReEvaluation.objects.order_by("-created_at", "-id").first(),
    )
