"""Bring a database's rules up to the shipped rule files: the clinical safety revision.

The revision adds PRACTICE-PREGNANCY-DEFER, stops ESVS-2021-VT-AC against a ticked
contraindication to anticoagulation, and updates sources and notes. A database migrated from
scratch already has all of it (0003 loads the same snapshot of the rule files) and nothing
changes here; an existing database gets what ``manage.py load_guidelines`` would do with those
files, without anyone having to remember it: a new rule gets an active v1 with its test
cases; a rule whose file differs from the last version loaded from the files gets a new active
version (the active one is superseded); sources are updated; the rule-set number moves, so
every stored overall status becomes stale and is re-evaluated.

Self-contained like 0003: historical models and 0003's snapshot of the rule files
(``data/0011_rule_files.json``, definitions in the schema's normal form), never the schema or
the loader themselves.
"""

import json
from pathlib import Path

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

RULE_FILES = Path(__file__).resolve().parent / "data" / "0011_rule_files.json"
REASON = "Loaded from the rule files (clinical safety revision, migration 0006)"


def _record(apps, model_name, obj, when, kind, reason):
    historical = apps.get_model("guidelines", f"Historical{model_name}")
    model = apps.get_model("guidelines", model_name)
    values = {field.attname: getattr(obj, field.attname) for field in model._meta.concrete_fields}
    historical.objects.create(
        **values,
        history_date=when,
        history_type=kind,
        history_change_reason=reason,
        history_user_id=None,
    )


def normal_form(definition):
    """A stored definition in the normal form of the snapshot. The schema's normal form has
    gained one field since the first rules were stored, ``maintainer_notes`` (default empty):
    a definition stored before lacks it and is otherwise in that form already."""
    return {"maintainer_notes": "", **definition}


def _sources(apps, now, reason, sources):
    GuidelineSource = apps.get_model("guidelines", "GuidelineSource")
    rows = {row.key: row for row in GuidelineSource.objects.all()}
    changed = False
    for key, values in sources.items():
        row = rows.get(key)
        if row is None:
            rows[key] = row = GuidelineSource.objects.create(key=key, **values)
            _record(apps, "GuidelineSource", row, now, "+", reason)
            changed = True
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
            _record(apps, "GuidelineSource", row, now, "~", reason)
            changed = True
    return rows, changed


def _add_test_cases(apps, version, cases, now, reason):
    RuleTestCase = apps.get_model("guidelines", "RuleTestCase")
    have = set(RuleTestCase.objects.filter(rule_version=version).values_list("name", flat=True))
    for case in cases:
        if case["name"] not in have:
            row = RuleTestCase.objects.create(
                rule_version=version,
                name=case["name"],
                facts=case["facts"],
                expected=case["expected"],
            )
            _record(apps, "RuleTestCase", row, now, "+", reason)


def load_revision(apps, schema_editor):
    sync_rule_files(apps, REASON)


def sync_rule_files(apps, reason):
    """What ``manage.py load_guidelines`` does, with the historical models (see above)."""
    Rule = apps.get_model("guidelines", "Rule")
    RuleVersion = apps.get_model("guidelines", "RuleVersion")
    RuleSetState = apps.get_model("guidelines", "RuleSetState")
    if not Rule.objects.exists():
        return  # nothing loaded yet: 0003 found rules it did not make, or a flushed database

    now = timezone.now()
    today = timezone.localdate(now)
    files = json.loads(RULE_FILES.read_text(encoding="utf-8"))
    test_cases = files["test_cases"]

    sources, changed = _sources(apps, now, reason, files["sources"])
    for definition in files["definitions"]:
        rule_id = definition["id"]
        cases = test_cases.get(rule_id, []) if definition["engine"] == "scored" else []
        rule = Rule.objects.filter(rule_id=rule_id).first()
        if rule is None:
            rule = Rule.objects.create(
                rule_id=rule_id, engine=definition["engine"], topic=definition["topic"]
            )
            _record(apps, "Rule", rule, now, "+", reason)
            number = 1
        else:
            loaded = (
                RuleVersion.objects.filter(rule=rule, author__isnull=True)
                .order_by("-number")
                .first()
            )
            if loaded is not None and normal_form(loaded.definition) == definition:
                continue
            for active in RuleVersion.objects.filter(rule=rule, status="active"):
                active.status = "superseded"
                active.effective_to = today
                active.save()
                _record(apps, "RuleVersion", active, now, "~", reason)
            if rule.retired_at is not None or rule.topic != definition["topic"]:
                rule.retired_at = None
                rule.topic = definition["topic"]
                rule.save()
                _record(apps, "Rule", rule, now, "~", reason)
            number = (
                RuleVersion.objects.filter(rule=rule).aggregate(n=Max("number"))["n"] or 0
            ) + 1
        version = RuleVersion.objects.create(
            rule=rule,
            number=number,
            status="active",
            definition=definition,
            source=sources[definition["source"]],
            verification=definition["verification"],
            effective_from=today,
            change_note=reason,
            published_at=now,
        )
        _record(apps, "RuleVersion", version, now, "+", reason)
        _add_test_cases(apps, version, cases, now, reason)
        changed = True

    if changed:
        state = RuleSetState.objects.order_by("pk").first()
        if state is None:
            RuleSetState.objects.create(version=2)
        else:
            state.version += 1
            state.save()


class Migration(migrations.Migration):
    dependencies = [
        ("guidelines", "0005_reevaluation"),
    ]

    operations = [migrations.RunPython(load_revision, migrations.RunPython.noop)]
