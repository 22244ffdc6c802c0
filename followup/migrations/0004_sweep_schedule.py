"""The reminder sweep as one django-celery-beat entry.

Superseded by ``followup.apps.ensure_reference_data`` (post_migrate), which creates the entry
after every ``migrate`` (and ``flush``) when it is missing, as this migration did. The migration
used to call ``followup.beat``; it keeps its place in the graph and does nothing on the way
forward, so that ``migrate`` never depends on what that module becomes. Backwards it still
removes the entry, by the name it had when this migration was written.
"""

from django.db import migrations

SWEEP_NAME = "followup: reminder sweep"


def remove_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0003_default_protocols"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, remove_sweep)]
