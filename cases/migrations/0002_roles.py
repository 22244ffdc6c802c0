from django.db import migrations


def grant_roles(apps, schema_editor):
    from venousapp.accounts.roles import grant_app

    grant_app(apps, "cases")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
