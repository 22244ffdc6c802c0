"""Version 1 of the four default surveillance protocols (docs/followup.md#default-protocols)."""

from django.db import migrations


def create_protocols(apps, schema_editor):
    from followup.services.protocols import protocols_ensure_defaults

    protocols_ensure_defaults(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("followup", "0002_roles")]

    operations = [migrations.RunPython(create_protocols, migrations.RunPython.noop)]
