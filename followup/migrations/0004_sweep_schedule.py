"""The reminder sweep as one django-celery-beat entry (every 5 minutes)."""

from django.db import migrations


def create_sweep(apps, schema_editor):
    from followup.beat import sweep_schedule_ensure

    sweep_schedule_ensure(apps=apps)


def remove_sweep(apps, schema_editor):
    from followup.beat import SWEEP_NAME

    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0003_default_protocols"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_sweep, remove_sweep)]
