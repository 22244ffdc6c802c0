"""What the periodic sweep (``followup.sweep``) asks of this app: its background jobs left
queued sent again, those whose worker was lost failed."""

from __future__ import annotations

import datetime as dt

from guidelines.models import ImpactPreview, ReEvaluation
from venousapp import jobs


def jobs_resume(*, now: dt.datetime | None = None) -> dict[str, jobs.Resumed]:
    """Impact previews and re-evaluations left queued are sent again; those whose worker
    was lost are marked failed (``venousapp.jobs``)."""
    return {
        "impact_previews": jobs.jobs_resume(ImpactPreview, now=now),
        "reevaluations": jobs.jobs_resume(ReEvaluation, now=now),
    }
