"""Celery tasks of the guidelines app: thin wrappers taking ids (the work is in services)."""

from celery import shared_task

from guidelines.services import impact_previews, reevaluation


@shared_task(
    name="guidelines.impact_preview",
    time_limit=900,
    soft_time_limit=870,
    acks_late=True,
)
def impact_preview_task(preview_id: int) -> bool:
    """Compute one queued impact preview; a redelivered message finds it claimed and stops."""
    return impact_previews.impact_preview_run(preview_id=preview_id)


@shared_task(
    name="guidelines.reevaluate_cases",
    time_limit=1800,
    soft_time_limit=1740,
    acks_late=True,
)
def reevaluation_task(job_id: int) -> bool:
    """Run one queued re-evaluation; a redelivered message finds it claimed and stops."""
    return reevaluation.reevaluation_run(job_id=job_id)
