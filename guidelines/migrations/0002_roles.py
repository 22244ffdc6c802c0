from django.db import migrations


def grant_roles(apps, schema_editor):
    from venousapp.accounts.roles import grant_app

    grant_app(apps, "guidelines")


class Migration(migrations.Migration):
    dependencies = [
        ("guidelines", "0001_initial"),
        ("cases", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
