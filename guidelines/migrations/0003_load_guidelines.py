"""Load the shipped guideline rules, the developers' test cases and the rule-set state
singleton.

The rows come from ``data/0011_rule_files.json``: the shipped rule files (guidelines/rules/
*.json with sources.json, and guidelines/rule_test_cases.json) as they stood at migration 0011,
the last migration to load them, each definition in the schema's normal form. These migrations
used to read the files when they ran, so a fresh database got whatever the files said that day;
the snapshot is what such a database got at 0011. Later changes to the files reach a database
through ``manage.py load_guidelines`` or a new migration that carries its own snapshot.

Self-contained on purpose: historical models, the standard library and Django only, never the
loader, the schema or the services (they change after this migration). Every row gets its "+"
history entry, so the audit trail starts here. A database that already holds rules is left
alone.
"""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

RULE_FILES = Path(__file__).resolve().parent / "data" / "0011_rule_files.json"
REASON = "Loaded from the shipped rule files (migration 0003)"


def _record(apps, model_name, obj, when):
    historical = apps.get_model("guidelines", f"Historical{model_name}")
    model = apps.get_model("guidelines", model_name)
    values = {field.attname: getattr(obj, field.attname) for field in model._meta.concrete_fields}
    historical.objects.create(
        **values,
        history_date=when,
        history_type="+",
        history_change_reason=REASON,
        history_user_id=None,
    )


def load_guidelines(apps, schema_editor):
    GuidelineSource = apps.get_model("guidelines", "GuidelineSource")
    Rule = apps.get_model("guidelines", "Rule")
    RuleVersion = apps.get_model("guidelines", "RuleVersion")
    RuleTestCase = apps.get_model("guidelines", "RuleTestCase")
    RuleSetState = apps.get_model("guidelines", "RuleSetState")

    now = timezone.now()
    RuleSetState.objects.get_or_create(pk=1, defaults={"version": 1})
    if Rule.objects.exists():
        return

    files = json.loads(RULE_FILES.read_text(encoding="utf-8"))
    test_cases = files["test_cases"]

    source_rows = {}
    for key, source in files["sources"].items():
        row = GuidelineSource.objects.create(key=key, **source)
        _record(apps, "GuidelineSource", row, now)
        source_rows[key] = row

    for definition in files["definitions"]:
        rule = Rule.objects.create(
            rule_id=definition["id"], engine=definition["engine"], topic=definition["topic"]
        )
        _record(apps, "Rule", rule, now)
        version = RuleVersion.objects.create(
            rule=rule,
            number=1,
            status="active",
            definition=definition,
            source=source_rows[definition["source"]],
            verification=definition["verification"],
            effective_from=timezone.localdate(now),
            change_note=REASON,
            published_at=now,
        )
        _record(apps, "RuleVersion", version, now)
        if definition["engine"] != "scored":
            continue
        for case in test_cases.get(definition["id"], []):
            row = RuleTestCase.objects.create(
                rule_version=version,
                name=case["name"],
                facts=case["facts"],
                expected=case["expected"],
            )
            _record(apps, "RuleTestCase", row, now)


class Migration(migrations.Migration):
    dependencies = [
        ("guidelines", "0002_roles"),
    ]

    operations = [migrations.RunPython(load_guidelines, migrations.RunPython.noop)]
