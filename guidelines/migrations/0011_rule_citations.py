"""The rule files cite the project's docs pages and the primary sources instead of sections of
a document outside the repository: the maintainers' notes (``maintainer_notes``) and
references (``brief_ref``) of the rules changed, nothing else.

A database migrated from scratch already has the new texts (0003 loads the same snapshot of
the rule files), and nothing changes here. An existing database gets a new active version of
each rule whose active version is the one last loaded from the files and differs from the
files only in those two fields; its test cases come along, and the rule-set number moves once,
so every process compiles the rules again. The active versions then equal the files, so the
rule pages do not call them locally modified. A version a guideline admin published is left as
it is: a change of citations never supersedes a decision made at this site.

Self-contained like 0003: historical models and 0003's snapshot of the rule files as they
stood at this migration (``data/0011_rule_files.json``, definitions in the schema's normal
form), never the schema or the files themselves.
"""

import importlib
import json

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

REASON = "Loaded from the rule files (citations of docs/ and primary sources, migration 0011)"
CITATION_FIELDS = ("maintainer_notes", "brief_ref")


def _without_citations(definition):
    return {key: value for key, value in definition.items() if key not in CITATION_FIELDS}


def load(apps, schema_editor):
    revision = importlib.import_module("guidelines.migrations.0006_safety_revision")
    Rule = apps.get_model("guidelines", "Rule")
    RuleVersion = apps.get_model("guidelines", "RuleVersion")
    RuleTestCase = apps.get_model("guidelines", "RuleTestCase")
    RuleSetState = apps.get_model("guidelines", "RuleSetState")

    now = timezone.now()
    today = timezone.localdate(now)
    changed = False
    files = json.loads(revision.RULE_FILES.read_text(encoding="utf-8"))
    for definition in files["definitions"]:
        rule = Rule.objects.filter(rule_id=definition["id"]).first()
        active = (
            None
            if rule is None
            else RuleVersion.objects.filter(rule=rule, status="active").first()
        )
        if active is None or active.author_id is not None:
            continue
        stored = revision.normal_form(active.definition)
        if stored == definition or _without_citations(stored) != _without_citations(definition):
            continue
        active.status = "superseded"
        active.effective_to = today
        active.save()
        revision._record(apps, "RuleVersion", active, now, "~", REASON)
        number = RuleVersion.objects.filter(rule=rule).aggregate(n=Max("number"))["n"] + 1
        version = RuleVersion.objects.create(
            rule=rule,
            number=number,
            status="active",
            definition=definition,
            source_id=active.source_id,
            verification=definition["verification"],
            effective_from=today,
            change_note=REASON,
            published_at=now,
        )
        revision._record(apps, "RuleVersion", version, now, "+", REASON)
        for case in RuleTestCase.objects.filter(rule_version=active).order_by("pk"):
            row = RuleTestCase.objects.create(
                rule_version=version, name=case.name, facts=case.facts, expected=case.expected
            )
            revision._record(apps, "RuleTestCase", row, now, "+", REASON)
        changed = True

    if changed:
        state = RuleSetState.objects.order_by("pk").first()
        if state is None:
            RuleSetState.objects.create(version=2)
        else:
            state.version += 1
            state.save()


class Migration(migrations.Migration):
    dependencies = [("guidelines", "0010_hook_card_feedback")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
