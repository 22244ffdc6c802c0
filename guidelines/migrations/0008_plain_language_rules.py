"""Rule texts in plain clinical language: the maintainers' notes (how a source was read into
the logic, with references to the project's clinical reference) move to their own field,
which only guideline admins see; population texts and criterion labels lose the notation.

Loaded like 0006: an existing database gets new active versions of the rules whose files
changed; a fresh one has them already.
"""

import importlib

from django.db import migrations

REASON = "Loaded from the rule files (plain-language notes, migration 0008)"


def load(apps, schema_editor):
    revision = importlib.import_module("guidelines.migrations.0006_safety_revision")
    revision.sync_rule_files(apps, REASON)


class Migration(migrations.Migration):
    dependencies = [("guidelines", "0007_reevaluation_deploy_trigger")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
