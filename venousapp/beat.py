"""The periodic tasks the apps keep in django-celery-beat: each app makes sure its entries
exist after every ``migrate`` (post_migrate), and an entry an administrator edited or disabled
is left as she set it."""

from __future__ import annotations

from typing import Any


def periodic_task_ensure(
    *, name: str, task: str, every: int, period: str, description: str, apps: Any = None
) -> bool:
    """Create the entry ``name`` running ``task`` every ``every`` ``period`` (django-celery-beat's
    IntervalSchedule periods: "days", "hours", "minutes", "seconds") if it is missing. ``apps``
    is a migration's model state, or None for the real models. Returns whether it was created."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    if task_model.objects.filter(name=name).exists():
        return False
    interval, _ = interval_model.objects.get_or_create(every=every, period=period)
    task_model.objects.create(
        name=name, task=task, interval=interval, enabled=True, description=description
    )
    return True
