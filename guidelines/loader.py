"""Load the shipped rule files into the database (``manage.py load_guidelines``).

Reads ``guidelines/rules/sources.json`` and the rule files (``engine.load_rule_files``),
validates them as one rule set (``schema.validate_ruleset``) and the developers' test cases
(``guidelines/rule_test_cases.json``), then upserts:

* a :class:`GuidelineSource` per source key (changed fields are updated, with history);
* a :class:`Rule` per definition, and a :class:`RuleVersion`:
  - a new rule gets v1, active, with the file's test cases;
  - when the file's definition equals the last version loaded from the files (versions
    without an author), nothing changes, even if a guideline admin has published another
    version since: the files never silently undo a published decision;
  - when the file's definition changed, it becomes a new active version (author empty,
    "Loaded from the rule files") and the active one is superseded; this is printed.

Idempotent: a second run reports every rule unchanged and writes nothing. The data migration
``0003_load_guidelines`` does the first load on ``migrate``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from guidelines.definitions import TEST_CASES_PATH, normalise_definition, read_test_cases
from guidelines.engine import RULES_DIR, load_rule_files
from guidelines.models import (
    EngineKind,
    GuidelineSource,
    Rule,
    RuleSetState,
    RuleTestCase,
    RuleVersion,
    VersionStatus,
)
from guidelines.schema import RuleSetError, validate_ruleset, validate_sources
from guidelines.services.authoring import ruleset_state_bump

REASON = "Loaded from the rule files"


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    sources_created: list[str] = field(default_factory=list)
    sources_updated: list[str] = field(default_factory=list)
    test_cases_added: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.updated
            or self.sources_created
            or self.sources_updated
            or self.test_cases_added
        )


@dataclass(frozen=True)
class RuleFiles:
    sources: dict[str, dict[str, Any]]
    definitions: list[dict[str, Any]]  # normal form, in file order
    test_cases: dict[str, list[dict[str, Any]]]


def read_rule_files(
    directory: Path = RULES_DIR, test_cases_path: Path = TEST_CASES_PATH
) -> RuleFiles:
    """Read and validate everything; RuleSetError lists every problem."""
    raw_sources = json.loads((directory / "sources.json").read_text(encoding="utf-8"))
    sources = validate_sources(raw_sources)
    definitions = validate_ruleset(load_rule_files(directory), sources=sources)
    test_cases = read_test_cases(test_cases_path) if test_cases_path.exists() else {}
    scored = {d["id"] for d in definitions if d["engine"] == EngineKind.SCORED}
    stray = sorted(set(test_cases) - scored)
    if stray:
        raise RuleSetError(
            [f"{test_cases_path.name}: {rid!r} is not a scored rule of the files" for rid in stray]
        )
    return RuleFiles(
        sources={key: source.model_dump() for key, source in sources.items()},
        definitions=[normalise_definition(d) for d in definitions],
        test_cases=test_cases,
    )


def _record(instance: Any) -> None:
    instance._history_user = None
    instance._change_reason = REASON
    instance.full_clean()
    instance.save()


def _sync_sources(files: RuleFiles, report: LoadReport) -> dict[str, GuidelineSource]:
    rows = {s.key: s for s in GuidelineSource.objects.all()}
    for key, data in files.sources.items():
        values = {**data, "doi": data["doi"] or "", "url": data["url"] or ""}
        row = rows.get(key)
        if row is None:
            row = GuidelineSource(key=key, **values)
            _record(row)
            rows[key] = row
            report.sources_created.append(key)
            report.lines.append(f"source {key}: created")
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            _record(row)
            report.sources_updated.append(key)
            report.lines.append(f"source {key}: updated")
    return rows


def _add_test_cases(version: RuleVersion, cases: list[dict[str, Any]]) -> int:
    """Add the file's test cases that the version does not hold yet (by name)."""
    have = set(version.test_cases.values_list("name", flat=True))
    added = 0
    for case in cases:
        if case["name"] not in have:
            _record(RuleTestCase(rule_version=version, **case))
            added += 1
    return added


@transaction.atomic
def guidelines_load(
    *,
    directory: Path = RULES_DIR,
    test_cases_path: Path = TEST_CASES_PATH,
    now: dt.datetime | None = None,
) -> LoadReport:
    """Upsert sources, rules and rule versions from the files; see the module docstring."""
    when = now or timezone.now()
    files = read_rule_files(directory, test_cases_path)
    report = LoadReport()
    if not RuleSetState.objects.exists():
        RuleSetState.objects.create(version=1)
    sources = _sync_sources(files, report)
    rules = {r.rule_id: r for r in Rule.objects.select_for_update()}
    for definition in files.definitions:
        rule_id = definition["id"]
        cases = files.test_cases.get(rule_id, []) if definition["engine"] == "scored" else []
        rule = rules.get(rule_id)
        if rule is None:
            rule = Rule(rule_id=rule_id, engine=definition["engine"], topic=definition["topic"])
            _record(rule)
            version = _new_active(rule, definition, sources, number=1, now=when)
            report.test_cases_added += _add_test_cases(version, cases)
            report.created.append(rule_id)
            report.lines.append(f"{rule_id}: created v1 (active)")
            continue
        if rule.engine != definition["engine"]:
            raise RuleSetError(
                [
                    f"{rule_id}: the files say {definition['engine']!r}, the "
                    f"database {rule.engine!r}; the engine kind cannot change"
                ]
            )
        loaded = rule.versions.filter(author=None).order_by("-number").first()
        if loaded is not None and normalise_definition(loaded.definition) == definition:
            report.unchanged.append(rule_id)
            if loaded.status == VersionStatus.ACTIVE:
                added = _add_test_cases(loaded, cases)
                if added:
                    report.test_cases_added += added
                    report.lines.append(
                        f"{rule_id}: {added} test case(s) added to v{loaded.number}"
                    )
            continue
        active = rule.versions.filter(status=VersionStatus.ACTIVE).first()
        number = (
            rule.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        if active is not None:
            active.status = VersionStatus.SUPERSEDED
            active.effective_to = timezone.localdate(when)
            _record(active)
        version = _new_active(rule, definition, sources, number=number, now=when)
        report.test_cases_added += _add_test_cases(version, cases)
        if rule.retired_at is not None or rule.topic != definition["topic"]:
            rule.retired_at = None
            rule.topic = definition["topic"]
            _record(rule)
        report.updated.append(rule_id)
        was = f"v{active.number} superseded by " if active else ""
        by = f" (v{active.number} was by {active.author})" if active and active.author else ""
        report.lines.append(f"{rule_id}: {was}v{number} (rule file changed){by}")
    if report.created or report.updated or report.sources_created or report.sources_updated:
        ruleset_state_bump(now=when)
    return report


def _new_active(
    rule: Rule,
    definition: dict[str, Any],
    sources: dict[str, GuidelineSource],
    *,
    number: int,
    now: dt.datetime,
) -> RuleVersion:
    version = RuleVersion(
        rule=rule,
        number=number,
        status=VersionStatus.ACTIVE,
        definition=definition,
        source=sources[definition["source"]],
        verification=definition["verification"],
        effective_from=timezone.localdate(now),
        change_note=REASON,
        published_at=now,
    )
    _record(version)
    return version
