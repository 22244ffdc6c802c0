"""The one django-celery-beat entry of the follow-up app: the reminder sweep."""

from __future__ import annotations

from typing import Any

from venousapp.beat import periodic_task_ensure

SWEEP_TASK = "followup.sweep"
SWEEP_NAME = "followup: reminder sweep"
SWEEP_EVERY_SECONDS = 30  # a claim lost with its worker is taken again within two minutes


def sweep_schedule_ensure(*, apps: Any = None) -> bool:
    """Create the periodic sweep if it is missing (an edited or disabled entry is left as
    the administrator set it). Returns whether it was created."""
    return periodic_task_ensure(
        name=SWEEP_NAME,
        task=SWEEP_TASK,
        every=SWEEP_EVERY_SECONDS,
        period="seconds",
        description="Claims due visit reminders, daily digests and escalation notices "
        "(followup.notifications.reminders_sweep).",
        apps=apps,
    )
