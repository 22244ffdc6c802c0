"""The one django-celery-beat entry of the follow-up app: the reminder sweep."""

from __future__ import annotations

from typing import Any

SWEEP_TASK = "followup.sweep"
SWEEP_NAME = "followup: reminder sweep"
SWEEP_EVERY_SECONDS = 30  # a claim lost with its worker is taken again within two minutes
PREVIOUS_EVERY_MINUTES = 5


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
    interval, _ = interval_model.objects.get_or_create(every=SWEEP_EVERY_SECONDS, period="seconds")
    task_model.objects.create(
        name=SWEEP_NAME,
        task=SWEEP_TASK,
        interval=interval,
        enabled=True,
        description="Claims due visit reminders, daily digests and escalation notices "
        "(followup.notifications.reminders_sweep).",
    )
    return True


def sweep_schedule_speed_up(*, apps: Any) -> bool:
    """Move the sweep from the former default (every 5 minutes) to every 30 seconds; an
    interval an administrator chose is left alone. Returns whether it was moved."""
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = interval_model.objects.get_or_create(every=SWEEP_EVERY_SECONDS, period="seconds")
    return bool(
        task_model.objects.filter(
            name=SWEEP_NAME,
            interval__every=PREVIOUS_EVERY_MINUTES,
            interval__period="minutes",
        ).update(interval=interval)
    )
