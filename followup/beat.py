"""The one django-celery-beat entry of the follow-up app: the reminder sweep."""

from __future__ import annotations

from typing import Any

SWEEP_TASK = "followup.sweep"
SWEEP_NAME = "followup: reminder sweep"
SWEEP_EVERY_MINUTES = 5


def sweep_schedule_ensure(*, apps: Any = None) -> bool:
    """Create the periodic sweep if it is missing (an edited or disabled entry is left as
    the administrator set it). Returns whether it was created."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    if task_model.objects.filter(name=SWEEP_NAME).exists():
        return False
    interval, _ = interval_model.objects.get_or_create(every=SWEEP_EVERY_MINUTES, period="minutes")
    task_model.objects.create(
        name=SWEEP_NAME,
        task=SWEEP_TASK,
        interval=interval,
        enabled=True,
        description="Claims due visit reminders, daily digests and escalation notices "
        "(followup.notifications.reminders_sweep).",
    )
    return True
