"""The impact preview of a rule version as a background job: what publishing it would change
over the stored cases, computed in the request when they are few, else by a Celery task whose
progress the page polls.

The comparison itself (two rule sets evaluated over the stored cases) is
``guidelines.impact``, outside this package because it writes nothing and the re-evaluation
streams the cases through it too; this module owns the :class:`ImpactPreview` job rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from guidelines import impact
from guidelines.models import EngineKind, ImpactPreview, RuleVersion
from guidelines.ruleset import current_ruleset, ruleset_with
from guidelines.schema import RuleSetError
from guidelines.services.common import _definition_problems_error, _require_perm
from venousapp import jobs
from venousapp.accounts.models import User


def impact_preview_start(*, version: RuleVersion, user: User) -> ImpactPreview:
    """Start an impact preview of ``version``: inline for a few hundred stored cases
    (``GUIDELINES_IMPACT_INLINE_MAX``), else as a Celery task (enqueued after commit) whose
    progress the page polls.

    Deliberately not one transaction: the preview row and its progress must be visible to
    the polling page (and a failure must stay recorded) while the computation runs."""
    _require_perm(user, "guidelines.view_ruleversion", "cases.view_case")
    if version.rule.engine != EngineKind.SCORED:
        raise ValidationError("Information rules are not evaluated; there is no impact to show.")
    try:
        ruleset_with(version.definition)
    except RuleSetError as error:
        raise _definition_problems_error(error.problems) from None
    total = impact.stored_cases().count()
    return jobs.job_start(
        ImpactPreview(rule_version=version, requested_by=user, total=total),
        inline=jobs.runs_inline(total, "GUIDELINES_IMPACT_INLINE_MAX"),
        run=lambda pk: impact_preview_run(preview_id=pk),
    )


def impact_preview_run(*, preview_id: int, now: Callable[[], dt.datetime] = timezone.now) -> bool:
    """Compute one queued preview (``venousapp.jobs.job_run``); returns False when it was not
    claimable."""

    def work(pk: int, progress: Callable[[int, int], None]) -> dict[str, Any]:
        preview = ImpactPreview.objects.select_related("rule_version__rule", "requested_by").get(
            pk=pk
        )
        before = current_ruleset()
        comparison = impact.ruleset_compare(
            before=before,
            after=ruleset_with(preview.rule_version.definition),
            rule_id=preview.rule_version.rule.rule_id,
            centre_id=preview.requested_by.centre_id,
            progress=progress,
        )
        result = comparison.as_dict()
        result["ruleset_version"] = before.version
        return {"result": result, "done": comparison.total, "total": comparison.total}

    return jobs.job_run(ImpactPreview, preview_id, work, now=now)
