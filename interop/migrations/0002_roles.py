from django.db import migrations

# Guideline admins register the hospital systems that may call the CDS Hooks service;
# clinicians import FHIR bundles into case drafts.
ROLE_PERMISSIONS = {
    "guideline_admin": ["view_cdsclient", "add_cdsclient", "change_cdsclient"],
    "clinician": ["view_casedraft", "add_casedraft", "change_casedraft"],
}


def grant_roles(apps, schema_editor):
    from venousapp.accounts.roles import grant

    grant(apps, "interop", ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0001_initial"),
        ("guidelines", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
