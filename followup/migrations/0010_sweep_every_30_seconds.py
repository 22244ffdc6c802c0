"""The sweep every 30 seconds (was 5 minutes), so a delivery lost with its worker is taken
again within two minutes.

Self-contained: the entry's name and the two intervals as they were when this migration was
written, with the historical models; ``followup.beat`` may change after it.
"""

from django.db import migrations

SWEEP_NAME = "followup: reminder sweep"
SWEEP_EVERY_SECONDS = 30
PREVIOUS_EVERY_MINUTES = 5


def sweep_schedule_speed_up(*, apps):
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


def speed_up(apps, schema_editor):
    sweep_schedule_speed_up(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0009_notice_mail"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(speed_up, migrations.RunPython.noop)]
