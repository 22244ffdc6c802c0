"""Version 1 of the four default surveillance protocols (docs/followup.md#default-protocols).

The history rows get the change reason this migration has written since it was first applied
(with the former clinical reference's section number), so that a fresh database holds the same
rows as an upgraded one.
"""

from django.db import migrations


def create_protocols(apps, schema_editor):
    from followup.services.protocols import protocols_ensure_defaults

    protocols_ensure_defaults(apps=apps, reason="default protocol (brief §8.2)")


class Migration(migrations.Migration):
    dependencies = [("followup", "0002_roles")]

    operations = [migrations.RunPython(create_protocols, migrations.RunPython.noop)]
