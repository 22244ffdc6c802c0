"""Load the shipped guideline rules (guidelines/rules/*.json), the developers' test cases
(guidelines/rule_test_cases.json) and the rule-set state singleton.

Self-contained on purpose: it uses the historical models and the pure schema validation
only, never the loader or the services (they import the live models, which change after this
migration). Every row gets its "+" history entry, so the audit trail starts here. A database
that already holds rules is left alone; later changes to the files are loaded with
``manage.py load_guidelines``.
"""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

APP_DIR = Path(__file__).resolve().parent.parent
RULES_DIR = APP_DIR / "rules"
TEST_CASES_FILE = APP_DIR / "rule_test_cases.json"
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
    from guidelines.schema import validate_definition, validate_ruleset, validate_sources

    GuidelineSource = apps.get_model("guidelines", "GuidelineSource")
    Rule = apps.get_model("guidelines", "Rule")
    RuleVersion = apps.get_model("guidelines", "RuleVersion")
    RuleTestCase = apps.get_model("guidelines", "RuleTestCase")
    RuleSetState = apps.get_model("guidelines", "RuleSetState")

    now = timezone.now()
    RuleSetState.objects.get_or_create(pk=1, defaults={"version": 1})
    if Rule.objects.exists():
        return

    raw_sources = json.loads((RULES_DIR / "sources.json").read_text(encoding="utf-8"))
    sources = validate_sources(raw_sources)
    definitions = []
    for path in sorted(RULES_DIR.glob("*.json")):
        if path.name != "sources.json":
            definitions += json.loads(path.read_text(encoding="utf-8"))
    validate_ruleset(definitions, sources=sources)  # raises RuleSetError naming each problem
    test_cases = json.loads(TEST_CASES_FILE.read_text(encoding="utf-8"))["rules"]

    source_rows = {}
    for key, source in sources.items():
        row = GuidelineSource.objects.create(
            key=key,
            society=source.society,
            title=source.title,
            year=source.year,
            citation=source.citation,
            doi=source.doi or "",
            url=source.url or "",
        )
        _record(apps, "GuidelineSource", row, now)
        source_rows[key] = row

    for raw in definitions:
        definition = validate_definition(raw).model_dump(by_alias=True, exclude_none=True)
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
