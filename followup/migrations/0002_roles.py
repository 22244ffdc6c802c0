from django.db import migrations


def grant_roles(apps, schema_editor):
    from venousapp.accounts.roles import grant_app

    grant_app(apps, "followup")


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0001_initial"),
        ("planning", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
