"""The engine version next to the rule-set number of a stored overall status.

Statuses stored before this migration were computed by engine version 1; they are marked so,
which makes them stale for the current engine and due for re-evaluation.
"""

from django.conf import settings
from django.db import migrations, models


def mark_version_1(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Case.objects.filter(evaluated_ruleset__isnull=False).update(evaluated_engine=1)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_case_stored_evaluation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='case',
            name='case_evaluation_complete_or_absent',
        ),
        migrations.AddField(
            model_name='case',
            name='evaluated_engine',
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True, verbose_name='evaluated with engine version'),
        ),
        migrations.RunPython(mark_version_1, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('evaluated_at__isnull', True), ('evaluated_engine__isnull', True), ('evaluated_ruleset__isnull', True), ('overall_status__isnull', True)), models.Q(('evaluated_at__isnull', False), ('evaluated_engine__isnull', False), ('evaluated_ruleset__isnull', False), ('overall_status__in', ['contraindicated_defer', 'insufficient_data', 'etr_candidate', 'stent_conflict', 'stent_indicated', 'anticoagulation_only', 'conservative'])), _connector='OR'), name='case_evaluation_complete_or_absent'),
        ),
    ]
