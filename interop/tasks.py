"""Celery tasks of the hospital interfaces: thin wrappers (the work is in cds_hooks)."""

from celery import shared_task

from interop import cds_hooks


@shared_task(name="interop.calls_prune", acks_late=True, time_limit=600, soft_time_limit=540)
def calls_prune() -> int:
    """The daily removal of the CDS Hooks calls past their retention (``cds_hooks.calls_prune``)."""
    return cds_hooks.calls_prune()
