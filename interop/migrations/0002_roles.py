"""Guideline admins register the hospital systems that may call the CDS Hooks service;
clinicians import FHIR bundles into case drafts.

The role groups' post_migrate sync (``venousapp.accounts.roles``) knows the apps below interop
only, so these grants live here alone. Self-contained: what the roles module's ``grant`` did
when this migration was written, with the historical models.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "guideline_admin": ["view_cdsclient", "add_cdsclient", "change_cdsclient"],
    "clinician": ["view_casedraft", "add_casedraft", "change_casedraft"],
}


def grant_roles(apps, schema_editor):
    # Permissions are normally created after `migrate` finishes; create them now so the
    # groups can hold them within the same migration run. The historical app config has no
    # models module, which create_permissions takes for an app without models.
    app_config = apps.get_app_config("interop")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="interop", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0001_initial"),
        ("guidelines", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
