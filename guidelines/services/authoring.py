"""Rule versions from draft to publication: drafts and their test cases, submission,
approval, retirement and restore.

The life of a rule version: ``draft`` (its author edits it and its test cases) → ``pending``
(the author asked for publication; refused while a test case fails or none exists) →
``active`` (a *second* guideline admin approved it; the previous active version becomes
``superseded``) → ``superseded`` or ``retired``. A restore copies an earlier version into a
new draft, which goes through the same approval. Every publish, retire or restore-approval
bumps :class:`RuleSetState`, so every process recompiles its cached rule set
(``guidelines/ruleset.py``), and once committed starts a :class:`ReEvaluation` of the stored
cases (``guidelines.services.reevaluation``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from guidelines import signals, vocabulary
from guidelines.definitions import normalise_definition
from guidelines.engine import evaluate, evaluate_rule
from guidelines.models import (
    EngineKind,
    GuidelineSource,
    ReEvaluationTrigger,
    Rule,
    RuleSetState,
    RuleTestCase,
    RuleVersion,
    VersionStatus,
)
from guidelines.ruleset import ruleset_with
from guidelines.schema import RuleSetError
from guidelines.services.common import (
    _checked_case_data,
    _definition_problems_error,
    _now,
    _require_perm,
)
from guidelines.services.reevaluation import reevaluation_start
from venousapp.accounts.models import User
from venousapp.history import delete_with_history, save_with_history

# ---------------------------------------------------------------------------------------------
# Helpers


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
