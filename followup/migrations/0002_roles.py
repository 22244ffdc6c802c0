"""The role groups and their follow-up permissions.

Superseded by ``venousapp.accounts.roles.sync_roles``, which ``venousapp/accounts/apps.py``
connects to post_migrate: after every ``migrate`` (and ``flush``) it creates the role groups
and grants each the permissions ``ROLE_PERMISSIONS`` names, which is everything this migration
granted. The migration used to call that module; it keeps its place in the graph and does
nothing, so that ``migrate`` never depends on what the roles module becomes.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0001_initial"),
        ("planning", "0002_roles"),
    ]

    operations = [
        migrations.RunPython(
            migrations.RunPython.noop, migrations.RunPython.noop, elidable=True
        )
    ]
