"""The published rule set as one JSON document (sources, active definitions, their test
cases), and such a document imported back: validated as a whole first, then every changed or
new definition a draft awaiting the usual approval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from guidelines.definitions import normalise_definition
from guidelines.models import (
    GuidelineSource,
    Rule,
    RuleSetState,
    RuleTestCase,
    RuleVersion,
    VersionStatus,
)
from guidelines.schema import RuleSetError, Source, validate_ruleset, validate_sources
from guidelines.services.common import _checked_case_data, _now, _require_perm
from venousapp.accounts.models import User
from venousapp.history import save_with_history

EXPORT_FORMAT = "venousapp-ruleset"
EXPORT_FORMAT_VERSION = 1
# validate_ruleset only checks that a definition's source key is known.
_ANY_SOURCE = Source(society="-", title="-", year=2000, citation="-")


def ruleset_export(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """The published rule set as one JSON document: sources, active definitions, their test
    cases. :func:`ruleset_import` reads it back."""
    versions = (
        RuleVersion.objects.filter(status=VersionStatus.ACTIVE)
        .select_related("rule")
        .prefetch_related("test_cases")
        .order_by("rule_id")
    )
    state = RuleSetState.objects.order_by("pk").first()
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _now(now).isoformat(),
        "ruleset_version": state.version if state else None,
        "sources": {s.key: s.as_dict() for s in GuidelineSource.objects.all()},
        "rules": [
            {
                "rule_id": v.rule.rule_id,
                "version": v.number,
                "definition": v.definition,
                "test_cases": [
                    {"name": c.name, "facts": c.facts, "expected": c.expected}
                    for c in v.test_cases.all()
                ],
            }
            for v in versions
        ],
    }


@dataclass(frozen=True)
class ImportLine:
    rule_id: str
    action: str  # created | draft | unchanged | source-created | source-differs
    detail: str


def _import_problems(data: object) -> tuple[list[str], dict[str, Any], list[dict[str, Any]]]:
    """Validate an export document completely before anything is written."""
    if not isinstance(data, Mapping):
        return ["The file must hold a JSON object (an export of this application)."], {}, []
    if data.get("format") != EXPORT_FORMAT:
        return [f"format: expected {EXPORT_FORMAT!r} (a rule-set export)."], {}, []
    if data.get("format_version") != EXPORT_FORMAT_VERSION:
        return [f"format_version: expected {EXPORT_FORMAT_VERSION}."], {}, []
    problems: list[str] = []
    sources = data.get("sources")
    try:
        checked_sources = validate_sources(sources)
    except RuleSetError as error:
        return error.problems, {}, []
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        return ["rules: expected a non-empty list of rules."], {}, []
    entries: list[dict[str, Any]] = []
    for index, entry in enumerate(rules):
        where = f"rules[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("definition"), Mapping):
            problems.append(f"{where}: expected an object with a 'definition'.")
            continue
        definition = entry["definition"]
        rule_id = definition.get("id")
        where = f"rules[{index}] ({rule_id})"
        if entry.get("rule_id", rule_id) != rule_id:
            problems.append(f"{where}: rule_id {entry.get('rule_id')!r} differs from the id.")
        cases = entry.get("test_cases", [])
        if not isinstance(cases, list):
            problems.append(f"{where}.test_cases: expected a list.")
            cases = []
        checked_cases = []
        for number, case in enumerate(cases):
            try:
                if not isinstance(case, Mapping):
                    raise ValidationError("expected an object with name, facts and expected")
                checked_cases.append(
                    _checked_case_data(case.get("name"), case.get("facts"), case.get("expected"))
                )
            except ValidationError as error:
                problems += [f"{where}.test_cases[{number}]: {m}" for m in error.messages]
        if cases and definition.get("engine") == "info":
            problems.append(f"{where}.test_cases: information rules take no test cases.")
        entries.append({"definition": definition, "test_cases": checked_cases})
    known_sources = {s.key for s in GuidelineSource.objects.all()} | set(checked_sources)
    # The imported definitions, plus every active rule they do not replace, must form a
    # valid rule set (schema, unique ids, known sources, no dependency cycle).
    imported_ids = {e["definition"].get("id") for e in entries}
    others = list(
        RuleVersion.objects.filter(status=VersionStatus.ACTIVE)
        .exclude(rule__rule_id__in=[i for i in imported_ids if isinstance(i, str)])
        .values_list("definition", flat=True)
    )
    try:
        validate_ruleset(
            [e["definition"] for e in entries] + others,
            sources=dict.fromkeys(known_sources, _ANY_SOURCE),
        )
    except RuleSetError as error:
        problems += error.problems
    engines = dict(Rule.objects.values_list("rule_id", "engine"))
    for entry in entries:
        definition = entry["definition"]
        rule_id = definition.get("id")
        if rule_id in engines and definition.get("engine") != engines[rule_id]:
            problems.append(
                f"{rule_id}: engine kind {definition.get('engine')!r} differs from "
                f"the stored rule ({engines[rule_id]!r})."
            )
    return problems, dict(checked_sources), entries


@transaction.atomic
def ruleset_import(*, data: object, user: User, now: dt.datetime | None = None) -> list[ImportLine]:
    """Import an export document. Everything is validated first (nothing is written when any
    problem is found); changed or new definitions become drafts by ``user`` awaiting the
    usual approval, never active directly. Missing sources are created; existing sources are
    never changed by an import (a difference is reported)."""
    _require_perm(
        user, "guidelines.add_ruleversion", "guidelines.add_rule", "guidelines.add_guidelinesource"
    )
    problems, sources, entries = _import_problems(data)
    if problems:
        raise ValidationError({"file": problems})
    report: list[ImportLine] = []
    existing_sources = {s.key: s for s in GuidelineSource.objects.all()}
    for key, source in sources.items():
        row = existing_sources.get(key)
        values = source.model_dump()
        if row is None:
            save_with_history(
                GuidelineSource(
                    key=key,
                    society=source.society,
                    title=source.title,
                    year=source.year,
                    citation=source.citation,
                    doi=source.doi or "",
                    url=source.url or "",
                ),
                user=user,
                reason="Imported",
            )
            report.append(ImportLine(key, "source-created", "New guideline source created."))
        elif row.as_dict() != values:
            report.append(
                ImportLine(
                    key,
                    "source-differs",
                    "Differs from the stored source; not changed by an import.",
                )
            )
    for entry in entries:
        normal = normalise_definition(entry["definition"])
        rule = Rule.objects.filter(rule_id=normal["id"]).first()
        created = rule is None
        if rule is None:
            rule = Rule(rule_id=normal["id"], engine=normal["engine"], topic=normal["topic"])
            save_with_history(rule, user=user, reason="Imported")
        active = rule.versions.filter(status=VersionStatus.ACTIVE).first()
        if active is not None and normalise_definition(active.definition) == normal:
            report.append(
                ImportLine(
                    rule.rule_id,
                    "unchanged",
                    f"Same as the active v{active.number}; nothing created.",
                )
            )
            continue
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        number = (rule.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        draft = RuleVersion(
            rule=rule,
            number=number,
            status=VersionStatus.DRAFT,
            definition=normal,
            source=GuidelineSource.objects.get(key=normal["source"]),
            verification=normal["verification"],
            author=user,
            change_note="Imported from a rule-set file",
        )
        save_with_history(draft, user=user, reason="Imported")
        for case in entry["test_cases"]:
            save_with_history(
                RuleTestCase(rule_version=draft, **case), user=user, reason="Imported"
            )
        report.append(
            ImportLine(
                rule.rule_id,
                "created" if created else "draft",
                f"{'New rule; ' if created else ''}draft v{number} created with "
                f"{len(entry['test_cases'])} test case(s); it needs a second admin's approval.",
            )
        )
    return report
