"""The sweep every 30 seconds (was 5 minutes), so a delivery lost with its worker is taken
again within two minutes."""

from django.db import migrations


def speed_up(apps, schema_editor):
    from followup.beat import sweep_schedule_speed_up

    sweep_schedule_speed_up(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0009_notice_mail"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(speed_up, migrations.RunPython.noop)]
