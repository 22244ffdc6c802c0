"""Each case carries its patient's centre, so that a centre's case list is read and ordered
through indexes on the cases alone.

The column is added empty, filled from the patients in one statement (a derived column, kept
out of the history like the stored status, so no history rows are due) and then required.

Sorted by patient, the list reads the patients through their index (centre, identifier); near
the end of a long list PostgreSQL's default histogram (100 buckets) overestimates the rows left
and scans the whole table instead. A finer one on the identifier keeps that estimate close.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models


def identifier_statistics(target):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE cases_patient ALTER COLUMN identifier SET STATISTICS {target}"
            )

    return run


def fill_centre(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Patient = apps.get_model("cases", "Patient")
    centre = Patient.objects.filter(pk=models.OuterRef("patient_id")).values("centre_id")
    Case.objects.update(centre_id=models.Subquery(centre))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("cases", "0007_coded_values_vocabulary"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="centre",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.centre",
                verbose_name="centre",
            ),
        ),
        migrations.RunPython(fill_centre, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(identifier_statistics(1000), identifier_statistics(-1)),
        migrations.AlterField(
            model_name="case",
            name="centre",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.centre",
                verbose_name="centre",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["centre", "case_date", "id"], name="case_centre_date_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["centre", "id"], name="case_centre_id_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["centre", "lesion_entity", "case_date", "id"],
                name="case_centre_entity_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                models.F("centre"),
                django.db.models.functions.comparison.Coalesce("overall_status", models.Value("")),
                models.F("case_date"),
                models.F("id"),
                name="case_centre_status_idx",
            ),
        ),
    ]
