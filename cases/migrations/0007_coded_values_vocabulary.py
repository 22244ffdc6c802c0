"""Coded case values are checked against their vocabulary on every write, and the thrombolysis
checklists stored before that are brought to it.

The model accepted any string in a case's thrombolysis checklist; the guideline engine skips
strings that are not checklist codes, so such a tick never counted, and the API refused the
case when it was sent back. ``recent_major_event`` (stored by the demo data) is the relative
contraindication "major event within 7–10 days" of the SIR 2014 checklist and is read as
``major_event_10d``; any other unknown item is removed. A checklist left empty by that is
marked as not assessed, so that it reads "unknown" until a clinician goes through it again,
not "no contraindication". Every changed case gets a history row (the row before it keeps
what was stored), and its stored overall status is cleared: the status was computed without
the tick, and a cleared status is re-evaluated after ``migrate`` like any stale one.

The checklist codes are written out here, as they were when this migration was written, so
that it does the same whatever the vocabulary becomes (codes are retired, never deleted).
"""

from django.db import migrations, models
from django.utils import timezone

import cases.models

CHECKLIST_CODES = frozenset(
    {
        "active_bleeding_or_dic",
        "cerebrovascular_event_3m",
        "neurosurgery_or_intracranial_trauma_3m",
        "anticoagulation_contraindicated",
        "major_event_10d",
        "intracranial_lesion_or_seizure",
        "uncontrolled_hypertension",
        "gi_bleeding_or_eye_surgery_3m",
        "serious_reaction",
        "severe_thrombocytopenia",
        "shunt_or_left_heart_thrombus",
        "severe_dyspnoea_or_acute_illness",
        "infected_thrombus",
        "renal_failure",
        "pregnancy_or_lactation",
        "severe_hepatic_dysfunction",
        "bacterial_endocarditis",
        "diabetic_haemorrhagic_retinopathy",
    }
)
READ_AS = {"recent_major_event": "major_event_10d"}
EVALUATION_FIELDS = ["overall_status", "evaluated_ruleset", "evaluated_engine", "evaluated_at"]
REASON_LENGTH = 100  # history_change_reason's max_length


def checklist_of(stored):
    """(the checklist codes of a stored value, what was changed to get them)."""
    if isinstance(stored, list):
        items, changes = stored, []
    else:  # only the admin's JSON editor could have stored one
        items = [stored] if isinstance(stored, str) else []
        changes = [f"{stored!r} made a list"]
    codes, removed = [], []
    for item in items:
        code = READ_AS.get(item, item) if isinstance(item, str) else None
        if code not in CHECKLIST_CODES:
            removed.append(item if isinstance(item, str) else repr(item))
            continue
        if code != item:
            changes.append(f"{item} read as {code}")
        if code not in codes:
            codes.append(code)
    if removed:
        changes.append(f"removed unknown {', '.join(removed)}")
    return codes, changes


def _reason(changes):
    reason = f"Checklist codes (migration 0007): {'; '.join(changes)}."
    return reason if len(reason) <= REASON_LENGTH else reason[: REASON_LENGTH - 1] + "…"


def codes_to_vocabulary(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    HistoricalCase = apps.get_model("cases", "HistoricalCase")
    recorded = [
        field.attname
        for field in HistoricalCase._meta.concrete_fields
        if not field.name.startswith("history_")
    ]
    now = timezone.now()
    for case in Case.objects.exclude(thrombolysis_contraindications=[]).order_by("pk"):
        stored = case.thrombolysis_contraindications
        codes, changes = checklist_of(stored)
        if not changes:
            continue
        if case.contraindications_assessed and not codes:
            changes.append("to be assessed again")
            case.contraindications_assessed = False
        case.thrombolysis_contraindications = codes
        for name in EVALUATION_FIELDS:
            setattr(case, name, None)
        case.save(
            update_fields=[
                "thrombolysis_contraindications",
                "contraindications_assessed",
                "updated_at",
                *EVALUATION_FIELDS,
            ]
        )
        HistoricalCase.objects.create(
            **{name: getattr(case, name) for name in recorded},
            history_date=now,
            history_type="~",
            history_change_reason=_reason(changes),
            history_user_id=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_contact_details"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="ceap",
            field=models.CharField(
                blank=True,
                help_text="e.g. C3,4b,s Esi Ad Po (CIV,EIV,CFV)",
                max_length=120,
                validators=[cases.models.validate_ceap],
                verbose_name="CEAP 2020",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="thrombolysis_contraindications",
            field=models.JSONField(
                blank=True,
                default=list,
                validators=[cases.models.validate_contraindication_codes],
                verbose_name="thrombolysis contraindications",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcase",
            name="ceap",
            field=models.CharField(
                blank=True,
                help_text="e.g. C3,4b,s Esi Ad Po (CIV,EIV,CFV)",
                max_length=120,
                validators=[cases.models.validate_ceap],
                verbose_name="CEAP 2020",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcase",
            name="thrombolysis_contraindications",
            field=models.JSONField(
                blank=True,
                default=list,
                validators=[cases.models.validate_contraindication_codes],
                verbose_name="thrombolysis contraindications",
            ),
        ),
        migrations.RunPython(codes_to_vocabulary, migrations.RunPython.noop),
    ]
