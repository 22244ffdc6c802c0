"""Writes of the guideline-admin workflow: drafts, test cases, publication, retirement,
restore, export/import, the impact preview and the re-evaluation of the stored cases.

The life of a rule version: ``draft`` (its author edits it and its test cases) → ``pending``
(the author asked for publication; refused while a test case fails or none exists) →
``active`` (a *second* guideline admin approved it; the previous active version becomes
``superseded``) → ``superseded`` or ``retired``. A restore copies an earlier version into a
new draft, which goes through the same approval. Every publish, retire or restore-approval
bumps :class:`RuleSetState`, so every process recompiles its cached rule set
(``guidelines/ruleset.py``), and once committed starts a :class:`ReEvaluation` of the stored
cases.

Functions are keyword-only, atomic, raise ``ValidationError`` with messages meant for the
guideline admin (``PermissionDenied`` for a missing role permission), and leave a history
row with the acting user for every change (``venousapp.history``; API calls authenticated
outside the session would otherwise be anonymous in the trail).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

from cases.facts import case_facts
from cases.models import Case
from cases.services import case_evaluations_store
from guidelines import impact, signals, vocabulary
from guidelines.definitions import EXPECTED_VALUES, normalise_definition
from guidelines.engine import ENGINE_VERSION, evaluate, evaluate_rule
from guidelines.models import (
    EngineKind,
    GuidelineSource,
    ImpactPreview,
    ReEvaluation,
    ReEvaluationTrigger,
    Rule,
    RuleSetState,
    RuleTestCase,
    RuleVersion,
    VersionStatus,
)
from guidelines.ruleset import current_ruleset, current_ruleset_numbered, ruleset_with
from guidelines.schema import RuleSetError, Source, validate_ruleset, validate_sources
from guidelines.selectors import reevaluation_in_progress, up_to_date_q
from venousapp import jobs
from venousapp.accounts.models import User
from venousapp.history import delete_with_history, save_with_history
from venousapp.models import JobStatus

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "venousapp-ruleset"
EXPORT_FORMAT_VERSION = 1
# Passes of one re-evaluation over the cases still stale (a publish or an edit while it ran);
# bounded so a case that cannot be written never keeps a worker busy.
REEVALUATION_MAX_PASSES = 5
# validate_ruleset only checks that a definition's source key is known.
_ANY_SOURCE = Source(society="-", title="-", year=2000, citation="-")


# ---------------------------------------------------------------------------------------------
# Helpers


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _require_perm(user: User, *perms: str) -> None:
    missing = [perm for perm in perms if not user.has_perm(perm)]
    if missing:
        raise PermissionDenied(f"Your role lacks the permission {missing[0]}.")


def _require_draft_author(version: RuleVersion, user: User) -> None:
    """Drafts are edited by their author only: the approver must be someone who did not
    write the version (four-eyes principle)."""
    _require_perm(user, "guidelines.change_ruleversion")
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            f"v{version.number} is {version.get_status_display().lower()}; only drafts can be "
            "changed. Create a new draft to change it."
        )
    if version.author_id != user.pk:
        raise ValidationError(
            f"Only the author of v{version.number} can change it; create your own draft."
        )


def ruleset_state_bump(*, now: dt.datetime | None = None) -> int:
    """Move the published rule-set number (one conditional UPDATE with F()), so every
    process recompiles its cached rule set at its next evaluation; returns the new number."""
    when = _now(now)
    state = RuleSetState.objects.order_by("pk").first()
    if state is None:
        state = RuleSetState.objects.create(version=1)
    RuleSetState.objects.filter(pk=state.pk).update(version=F("version") + 1, changed_at=when)
    state.refresh_from_db(fields=["version"])
    # The stored case statuses are stale from now on. robust: the change is committed by
    # then; a failing re-evaluation is recorded on its job row and must not turn a done
    # publish into an error page.
    transaction.on_commit(
        lambda: reevaluation_start(trigger=ReEvaluationTrigger.RULESET_CHANGE), robust=True
    )
    return state.version


def _definition_problems_error(problems: list[str], field: str = "definition") -> ValidationError:
    return ValidationError({field: problems})


def _checked_definition(rule: Rule, definition: object) -> tuple[dict[str, Any], GuidelineSource]:
    """The normal form of a definition for ``rule``, its source row; ValidationError with one
    message per schema problem (each naming its path) otherwise."""
    try:
        normal = normalise_definition(definition)
    except RuleSetError as error:
        raise _definition_problems_error(error.problems) from None
    problems = []
    if normal["id"] != rule.rule_id:
        problems.append(f"id: the id of this rule is {rule.rule_id!r}; it cannot change")
    if normal["engine"] != rule.engine:
        problems.append(f"engine: this rule is {rule.engine!r}; the engine kind cannot change")
    source = GuidelineSource.objects.filter(key=normal["source"]).first()
    if source is None:
        problems.append(f"source: {normal['source']!r} is not a guideline source")
    if problems or source is None:
        raise _definition_problems_error(problems)
    try:  # the whole published set with this definition (dependency cycles, sources)
        ruleset_with(normal)
    except RuleSetError as error:
        raise _definition_problems_error(error.problems) from None
    return normal, source


def _copy_test_cases(source: RuleVersion, target: RuleVersion, *, user: User | None) -> None:
    for case in source.test_cases.all():
        save_with_history(
            RuleTestCase(
                rule_version=target, name=case.name, facts=case.facts, expected=case.expected
            ),
            user=user,
            reason=f"Copied from v{source.number}",
        )


# ---------------------------------------------------------------------------------------------
# Drafts


@transaction.atomic
def rule_version_create_draft(
    *,
    rule: Rule,
    author: User,
    base: RuleVersion | None = None,
    change_note: str = "",
    now: dt.datetime | None = None,
) -> RuleVersion:
    """A new draft copying ``base`` (default: the active version, else the newest one)
    with its test cases; numbered max + 1."""
    _require_perm(author, "guidelines.add_ruleversion")
    rule = Rule.objects.select_for_update().get(pk=rule.pk)  # serialises version numbers
    if base is None:
        base = (
            rule.versions.filter(status=VersionStatus.ACTIVE).first()
            or rule.versions.order_by("-number").first()
        )
    if base is None:
        raise ValidationError(f"{rule.rule_id} has no version to start a draft from.")
    if base.rule_id != rule.pk:
        raise ValidationError("The base version belongs to another rule.")
    number = (rule.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    try:
        definition = normalise_definition(base.definition)
    except RuleSetError:
        # An old version may not validate against today's vocabulary; keep it as it was so
        # the editor can show the problems.
        definition = base.definition
    draft = RuleVersion(
        rule=rule,
        number=number,
        status=VersionStatus.DRAFT,
        definition=definition,
        source=base.source,
        verification=base.verification,
        author=author,
        change_note=change_note or f"Draft based on v{base.number}",
    )
    save_with_history(draft, user=author, reason=f"Draft created from v{base.number}")
    _copy_test_cases(base, draft, user=author)
    return draft


@transaction.atomic
def rule_version_update(
    *,
    version: RuleVersion,
    user: User,
    definition: Mapping[str, Any] | None = None,
    change_note: str | None = None,
) -> RuleVersion:
    """Change a draft's definition (validated against the schema and as part of the published
    set) and/or its change note."""
    _require_draft_author(version, user)
    fields = []
    if definition is not None:
        normal, source = _checked_definition(version.rule, definition)
        version.definition = normal
        version.source = source
        version.verification = normal["verification"]
        fields += ["definition", "source", "verification"]
    if change_note is not None:
        version.change_note = change_note
        fields.append("change_note")
    if fields:
        save_with_history(version, user=user, reason="Draft edited", update_fields=fields)
        # Results of earlier runs no longer describe this definition.
        for case in version.test_cases.exclude(last_run_at=None):
            case.last_value, case.last_run_at = "", None
            save_with_history(
                case,
                user=user,
                reason="Definition changed",
                update_fields=["last_value", "last_run_at"],
                clean=False,
            )
    return version


# ---------------------------------------------------------------------------------------------
# Test cases


def _checked_case_data(name: object, facts: object, expected: object) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "Give the test case a name."
    elif len(name.strip()) > 200:
        errors["name"] = "At most 200 characters."
    if not isinstance(facts, Mapping):
        errors["facts"] = 'The facts must be a JSON object, e.g. {"lesion_entity": "nivl"}.'
    if expected not in EXPECTED_VALUES:
        errors["expected"] = (
            f"{expected!r} is not a rule value (recommend, consider, against, not_applicable or "
            "insufficient_data:<case field>)."
        )
    if errors or not isinstance(name, str) or not isinstance(facts, Mapping):
        raise ValidationError(errors)
    return {"name": name.strip(), "facts": dict(facts), "expected": expected}


@transaction.atomic
def rule_test_case_create(
    *, version: RuleVersion, user: User, name: str, facts: Mapping[str, Any], expected: str
) -> RuleTestCase:
    _require_draft_author(version, user)
    _require_perm(user, "guidelines.add_ruletestcase")
    if version.rule.engine != EngineKind.SCORED:
        raise ValidationError("Information rules are not evaluated, so they take no test cases.")
    data = _checked_case_data(name, facts, expected)
    case = RuleTestCase(rule_version=version, **data)
    save_with_history(case, user=user, reason="Test case added")
    return case


@transaction.atomic
def rule_test_case_update(
    *, test_case: RuleTestCase, user: User, name: str, facts: Mapping[str, Any], expected: str
) -> RuleTestCase:
    _require_draft_author(test_case.rule_version, user)
    _require_perm(user, "guidelines.change_ruletestcase")
    data = _checked_case_data(name, facts, expected)
    for key, value in data.items():
        setattr(test_case, key, value)
    test_case.last_value, test_case.last_run_at = "", None
    save_with_history(test_case, user=user, reason="Test case edited")
    return test_case


@transaction.atomic
def rule_test_case_delete(*, test_case: RuleTestCase, user: User) -> None:
    _require_draft_author(test_case.rule_version, user)
    _require_perm(user, "guidelines.delete_ruletestcase")
    delete_with_history(test_case, user=user, reason="Test case deleted")


@dataclass(frozen=True)
class TestRun:
    test_case_id: int
    name: str
    expected: str
    value: str
    passed: bool


def _outcome_context(facts: Mapping[str, Any], ruleset: Any) -> dict[str, Any]:
    derived = evaluate(facts, ruleset)["derived"]
    return {name: derived[name] for name in vocabulary.OUTCOME_INPUTS}


@transaction.atomic
def rule_version_run_tests(
    *, version: RuleVersion, user: User | None = None, now: dt.datetime | None = None
) -> list[TestRun]:
    """Evaluate the version's definition on each test case's facts and store the values.

    Rule outcomes the rule reads (``etr_candidate`` ...) come from the published rule set
    with this version in its rule's place, so a test sees what publication would give.
    """
    if version.rule.engine != EngineKind.SCORED:
        return []
    when = _now(now)
    try:
        ruleset = ruleset_with(version.definition)
    except RuleSetError as error:
        raise _definition_problems_error(error.problems) from None
    runs = []
    for case in version.test_cases.all():
        value = evaluate_rule(
            version.definition, case.facts, context=_outcome_context(case.facts, ruleset)
        )["value"]
        case.last_value, case.last_run_at = value, when
        save_with_history(
            case,
            user=user,
            reason="Test run",
            update_fields=["last_value", "last_run_at"],
            clean=False,
        )
        runs.append(TestRun(case.pk, case.name, case.expected, value, value == case.expected))
    return runs


def _require_passing_tests(
    version: RuleVersion, user: User | None, now: dt.datetime, action: str
) -> None:
    if version.rule.engine != EngineKind.SCORED:
        return
    runs = rule_version_run_tests(version=version, user=user, now=now)
    if not runs:
        raise ValidationError(
            f"v{version.number} has no test cases; add at least one before {action}."
        )
    failing = [run for run in runs if not run.passed]
    if failing:
        names = "; ".join(
            f"“{run.name}” gave {run.value}, expected {run.expected}" for run in failing[:3]
        )
        more = f" and {len(failing) - 3} more" if len(failing) > 3 else ""
        raise ValidationError(
            f"{len(failing)} of {len(runs)} test case(s) fail, so {action} is refused: "
            f"{names}{more}."
        )


# ---------------------------------------------------------------------------------------------
# Publication


@transaction.atomic
def rule_version_submit(
    *, version: RuleVersion, user: User, now: dt.datetime | None = None
) -> RuleVersion:
    """The author asks for publication; refused while any test case fails or none exists.

    (The test run is part of this transaction: callers that want to keep failing results
    visible run :func:`rule_version_run_tests` first.)"""
    when = _now(now)
    _require_draft_author(version, user)
    _checked_definition(version.rule, version.definition)
    _require_passing_tests(version, user, when, "requesting publication")
    version.status = VersionStatus.PENDING
    version.submitted_at = when
    save_with_history(
        version,
        user=user,
        reason="Submitted for approval",
        update_fields=["status", "submitted_at"],
    )
    # The other guideline admins are told (the follow-up app's notifications listen); a failure
    # to tell them must not undo the submission.
    transaction.on_commit(
        lambda: signals.version_submitted.send(
            sender=RuleVersion, version=version, submitted_by=user
        ),
        robust=True,
    )
    return version


@transaction.atomic
def rule_version_return_to_draft(
    *, version: RuleVersion, user: User, reason: str = ""
) -> RuleVersion:
    """Send a pending version back to its author (a reviewer), or withdraw it (its author)."""
    version = RuleVersion.objects.select_for_update().get(pk=version.pk)
    if version.author_id != user.pk:
        _require_perm(user, "guidelines.approve_ruleversion")
        if not reason.strip():
            raise ValidationError({"reason": "Tell the author what to change."})
    if version.status != VersionStatus.PENDING:
        raise ValidationError(f"v{version.number} is not awaiting approval.")
    version.status = VersionStatus.DRAFT
    version.submitted_at = None
    note = reason.strip()
    save_with_history(
        version,
        user=user,
        reason=f"Returned to draft: {note}" if note else "Withdrawn by the author",
        update_fields=["status", "submitted_at"],
    )
    return version


@transaction.atomic
def rule_version_approve(
    *, version: RuleVersion, user: User, now: dt.datetime | None = None
) -> RuleVersion:
    """A second guideline admin publishes a pending version.

    Re-runs the test cases (refused on failure), supersedes the previous active version,
    un-retires the rule if it was retired, and bumps the rule-set state.
    """
    when = _now(now)
    _require_perm(user, "guidelines.approve_ruleversion")
    # Lock the rule first: approvals, retirements and new drafts of one rule are serialised.
    Rule.objects.select_for_update().get(pk=version.rule_id)
    version = RuleVersion.objects.select_for_update().select_related("rule").get(pk=version.pk)
    if version.status != VersionStatus.PENDING:
        raise ValidationError(
            f"v{version.number} is {version.get_status_display().lower()}; only a version "
            "awaiting approval can be approved."
        )
    if version.author_id == user.pk:
        raise ValidationError(
            "The author cannot approve their own version; a second guideline admin must."
        )
    normal, _source = _checked_definition(version.rule, version.definition)
    _require_passing_tests(version, user, when, "approval")
    today = timezone.localdate(when)
    previous = version.rule.versions.select_for_update().filter(status=VersionStatus.ACTIVE)
    for old in previous:
        old.status = VersionStatus.SUPERSEDED
        old.effective_to = today
        save_with_history(
            old,
            user=user,
            reason=f"Superseded by v{version.number}",
            update_fields=["status", "effective_to"],
        )
    version.status = VersionStatus.ACTIVE
    version.approver = user
    version.published_at = when
    version.effective_from = today
    version.effective_to = None
    save_with_history(
        version,
        user=user,
        reason="Approved and published",
        update_fields=["status", "approver", "published_at", "effective_from", "effective_to"],
    )
    rule = version.rule
    if rule.retired_at is not None or rule.topic != normal["topic"]:
        rule.retired_at = None
        rule.topic = normal["topic"]
        save_with_history(
            rule,
            user=user,
            reason=f"v{version.number} published",
            update_fields=["retired_at", "topic"],
        )
    ruleset_state_bump(now=when)
    return version


@transaction.atomic
def rule_retire(*, rule: Rule, user: User, reason: str, now: dt.datetime | None = None) -> Rule:
    """Take a rule out of evaluation: its active version becomes retired."""
    when = _now(now)
    _require_perm(user, "guidelines.change_rule", "guidelines.approve_ruleversion")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the rule is retired (kept in the audit trail)."})
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    active = rule.versions.filter(status=VersionStatus.ACTIVE).first()
    if active is None:
        raise ValidationError(f"{rule.rule_id} has no active version to retire.")
    active.status = VersionStatus.RETIRED
    active.effective_to = timezone.localdate(when)
    save_with_history(
        active,
        user=user,
        reason=f"Retired: {reason.strip()}",
        update_fields=["status", "effective_to"],
    )
    rule.retired_at = when
    save_with_history(
        rule, user=user, reason=f"Retired: {reason.strip()}", update_fields=["retired_at"]
    )
    ruleset_state_bump(now=when)
    return rule


@transaction.atomic
def rule_version_restore(
    *, version: RuleVersion, user: User, now: dt.datetime | None = None
) -> RuleVersion:
    """Restore an earlier (superseded or retired) version: a NEW draft with its definition
    and test cases, which then needs the usual approval."""
    if version.status not in (VersionStatus.SUPERSEDED, VersionStatus.RETIRED):
        raise ValidationError(
            f"v{version.number} is {version.get_status_display().lower()}; only superseded or "
            "retired versions can be restored."
        )
    return rule_version_create_draft(
        rule=version.rule,
        author=user,
        base=version,
        change_note=f"Restore of v{version.number}",
        now=now,
    )


# ---------------------------------------------------------------------------------------------
# Export / import


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


# ---------------------------------------------------------------------------------------------
# Impact preview


def impact_preview_start(*, version: RuleVersion, user: User) -> ImpactPreview:
    """Start an impact preview of ``version``: inline for a few hundred stored cases
    (``GUIDELINES_IMPACT_INLINE_MAX``), else as a Celery task (enqueued after commit) whose
    progress the page polls.

    Deliberately not one transaction: the preview row and its progress must be visible to
    the polling page (and a failure must stay recorded) while the computation runs."""
    _require_perm(user, "guidelines.view_ruleversion", "cases.view_case")
    if version.rule.engine != EngineKind.SCORED:
        raise ValidationError("Information rules are not evaluated; there is no impact to show.")
    try:
        ruleset_with(version.definition)
    except RuleSetError as error:
        raise _definition_problems_error(error.problems) from None
    total = impact.stored_cases().count()
    return jobs.job_start(
        ImpactPreview(rule_version=version, requested_by=user, total=total),
        inline=jobs.runs_inline(total, "GUIDELINES_IMPACT_INLINE_MAX"),
        run=lambda pk: impact_preview_run(preview_id=pk),
    )


def impact_preview_run(*, preview_id: int, now: Callable[[], dt.datetime] = timezone.now) -> bool:
    """Compute one queued preview (``venousapp.jobs.job_run``); returns False when it was not
    claimable."""

    def work(pk: int, progress: Callable[[int, int], None]) -> dict[str, Any]:
        preview = ImpactPreview.objects.select_related("rule_version__rule", "requested_by").get(
            pk=pk
        )
        before = current_ruleset()
        comparison = impact.ruleset_compare(
            before=before,
            after=ruleset_with(preview.rule_version.definition),
            rule_id=preview.rule_version.rule.rule_id,
            centre_id=preview.requested_by.centre_id,
            progress=progress,
        )
        result = comparison.as_dict()
        result["ruleset_version"] = before.version
        return {"result": result, "done": comparison.total, "total": comparison.total}

    return jobs.job_run(ImpactPreview, preview_id, work, now=now)


# ---------------------------------------------------------------------------------------------
# Re-evaluation of the stored cases


def _stale_cases(ruleset: int) -> models.QuerySet[Case]:
    """Stored cases whose status was computed with another rule set or engine version, or
    never (NULL)."""
    return impact.stored_cases().exclude(up_to_date_q(ruleset))


def reevaluation_start(
    *,
    trigger: str,
    user: User | None = None,
    inline: bool | None = None,
    everything: bool = False,
) -> ReEvaluation:
    """Start a re-evaluation of the stored cases that are not up to date: inline when they are
    few (or ``inline``), else as a Celery task enqueued after commit. ``everything``
    re-evaluates every stored case, up to date or not, in this process.

    Deliberately not one transaction, like the impact preview: the job row and its progress
    must be visible to the polling page while the cases are evaluated."""
    if user is not None:
        _require_perm(user, "guidelines.approve_ruleversion")
    _ruleset, number = current_ruleset_numbered(fresh=True)
    due = impact.stored_cases() if everything else _stale_cases(number)
    stale = due.count()
    if inline is None:
        inline = jobs.runs_inline(stale, "GUIDELINES_REEVALUATION_INLINE_MAX")
    return jobs.job_start(
        ReEvaluation(trigger=trigger, requested_by=user, ruleset=number, total=stale),
        inline=everything or inline,
        run=lambda pk: reevaluation_run(job_id=pk, everything=everything),
    )


def jobs_resume(*, now: dt.datetime | None = None) -> dict[str, jobs.Resumed]:
    """Impact previews and re-evaluations left queued are sent again; those whose worker
    was lost are marked failed (``venousapp.jobs``)."""
    return {
        "impact_previews": jobs.jobs_resume(ImpactPreview, now=now),
        "reevaluations": jobs.jobs_resume(ReEvaluation, now=now),
    }


def reevaluation_run(
    *,
    job_id: int,
    chunk_size: int = impact.CHUNK_SIZE,
    now: Callable[[], dt.datetime] = timezone.now,
    everything: bool = False,
) -> bool:
    """Run one queued re-evaluation (claimed with a conditional UPDATE, so a redelivered task
    does not run it twice); returns False when it was not claimable.

    Each pass evaluates the cases that are stale for the rule set published when the pass
    began, chunk by chunk, storing their statuses and the job's progress per chunk. Every
    chunk is evaluated with the rule set published when it is read, and passes repeat until
    no case is stale: after a publish during the run, the chunks already stored are taken
    again with the newer rule set (and the job that publish started finds nothing left).
    ``everything``: the first pass takes every stored case, up to date or not.
    """

    def work(pk: int, progress: Callable[[int, int], None]) -> dict[str, Any]:
        job_rows = ReEvaluation.objects.filter(pk=pk)
        for index in range(REEVALUATION_MAX_PASSES):
            _ruleset, number = current_ruleset_numbered(fresh=True)
            stale = impact.stored_cases() if everything and index == 0 else _stale_cases(number)
            count = stale.count()
            if not count:
                break
            job_rows.update(total=F("done") + count)
            for chunk in impact.case_chunks(stale, chunk_size):
                ruleset, number = current_ruleset_numbered(fresh=True)
                evaluations = [
                    (case, evaluate(case_facts(case), ruleset)["overall"]) for case in chunk
                ]
                changed = sum(
                    1 for case, code in evaluations if case.overall_status not in (None, code)
                )
                case_evaluations_store(
                    evaluations=evaluations, ruleset=number, engine=ENGINE_VERSION, now=now()
                )
                # A case added during the pass may join the stream: total grows with done.
                job_rows.update(
                    ruleset=number,
                    done=F("done") + len(chunk),
                    total=Greatest(F("total"), F("done") + len(chunk)),
                    changed=F("changed") + changed,
                )
        return {}

    return jobs.job_run(ReEvaluation, job_id, work, now=now)


def reevaluation_after_migrate() -> ReEvaluation | None:
    """Start the re-evaluation a deploy calls for, after ``migrate``: when stored overall
    statuses were computed with another rule set or engine version (a data migration loaded
    changed rules, or the evaluation logic changed), and no re-evaluation is under way.

    Never fails the migration: a broken broker or database problem is logged and recorded on
    the job; the lists evaluate stale cases live meanwhile and ``manage.py reevaluate_cases``
    finishes the work by hand."""
    try:
        _ruleset, number = current_ruleset_numbered(fresh=True)
        if not _stale_cases(number).exists() or reevaluation_in_progress() is not None:
            return None
    except DatabaseError:  # an app migrated back or a partial migrate: nothing to do yet
        logger.warning("Stored overall statuses not checked after migrate", exc_info=True)
        return None
    try:
        return reevaluation_start(trigger=ReEvaluationTrigger.DEPLOY)
    except Exception as error:
        logger.exception("The re-evaluation after migrate could not be started")
        ReEvaluation.objects.filter(
            trigger=ReEvaluationTrigger.DEPLOY, status=JobStatus.QUEUED
        ).update(status=JobStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now())
        return None
