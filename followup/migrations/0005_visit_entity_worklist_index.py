"""Visits carry their schedule's follow-up entity, and the worklist index covers what the
worklist filters and sorts on (index-only scans however many visits a centre has)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_entity(apps, schema_editor):
    schedule = apps.get_model("followup", "Schedule")
    visit = apps.get_model("followup", "Visit")
    visit.objects.update(entity=Subquery(
        schedule.objects.filter(pk=OuterRef("schedule_id")).values("entity")[:1]))
    historical = apps.get_model("followup", "HistoricalVisit")
    historical.objects.update(entity=Subquery(
        schedule.objects.filter(pk=OuterRef("schedule_id")).values("entity")[:1]))


ENTITIES = [
    ("nivl", "NIVL"),
    ("acute_thrombotic", "Acute thrombotic (stent after thrombus removal)"),
    ("post_thrombotic", "Post-thrombotic"),
    ("ivc_reconstruction", "IVC reconstruction"),
]


class Migration(migrations.Migration):
    dependencies = [("followup", "0004_sweep_schedule")]

    operations = [
        migrations.RemoveIndex(model_name="visit", name="visit_worklist"),
        migrations.AddField(
            model_name="visit",
            name="entity",
            field=models.CharField(choices=ENTITIES, default="", max_length=24,
                                   verbose_name="follow-up entity"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalvisit",
            name="entity",
            field=models.CharField(choices=ENTITIES, default="", max_length=24,
                                   verbose_name="follow-up entity"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_entity, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="visit",
            index=models.Index(
                condition=models.Q(("state", "planned")),
                fields=["centre", "notice_on"],
                include=("earliest_on", "target_on", "latest_on", "entity", "id"),
                name="visit_worklist_open",
            ),
        ),
    ]
