"""Signed decisions: the clinician's accept/override of each recommendation card, frozen.

Writes (``decision_sign``) and reads (``decision_list``, ``decision_get``, ``decision_panel``,
``decision_comparison``) of :class:`~guidelines.models.Decision` live here, next to each other,
because a decision is only useful if it can be reopened exactly as it was signed.

What a decision freezes (issue 3 "Decision records"):

- ``facts``: the case's facts document at signing (``cases.facts.case_facts``);
- ``result``: the full §2.6 evaluation, byte for byte what the clinician saw;
- ``ruleset_version``: ``RuleSet.version``;
- ``rule_versions``: per scored rule ``{"version": ...}``; for the rules that had a card it
  also holds the displayed part of the definition and its source (``presentation.DISPLAY_KEYS``),
  because rule texts and sources are edited and published later and the "as of" view must
  not change with them (there is no separate model field for this snapshot);
- one :class:`~guidelines.models.CardFeedback` per card (accepted / overridden + reason).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.facts import case_facts
from cases.models import OVERALL_LABELS, Case
from guidelines.engine import RuleSet, evaluate
from guidelines.models import CardFeedback, Decision, FeedbackAction, OverrideReason
from guidelines.presentation import (
    DISPLAY_KEYS,
    VALUE_LABELS,
    FrozenCatalogue,
    Panel,
    field_label,
    format_value,
    input_label,
    panel,
)
from guidelines.ruleset import current_rule_versions, current_ruleset
from venousapp.accounts.models import User

NOT_APPLICABLE = "not_applicable"
STALE = "stale"  # ValidationError code: the case or the rules changed after the page loaded


def _frozen(value: Any) -> Any:
    """A deep, JSON-only copy (what the database will hold), decimals and dates as text."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def evaluation_fingerprint(*, facts: Mapping[str, Any], ruleset_version: str) -> str:
    """Identifies what the clinician was shown: the facts and the rule set they were
    evaluated with. The sign form carries it so a decision is never signed on
    recommendations the clinician did not see."""
    text = json.dumps(
        {"facts": facts, "ruleset": ruleset_version}, sort_keys=True, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def card_rule_ids(result: Mapping[str, Any]) -> list[str]:
    """The rules that have a card: every scored rule whose value is not not_applicable."""
    return [rule_id for rule_id, r in result["rules"].items() if r["value"] != NOT_APPLICABLE]


def rule_versions_snapshot(
    *, ruleset: RuleSet, result: Mapping[str, Any], numbers: Mapping[str, Any]
) -> dict[str, Any]:
    """``Decision.rule_versions``: the version of every scored rule (its published version
    number from ``numbers``; the rule set's version for rules without one, e.g. the shipped
    rule files), plus the displayed definition and source of every rule that had a card."""
    sources = ruleset.sources
    out: dict[str, Any] = {}
    for rule_id, r in result["rules"].items():
        entry: dict[str, Any] = {"version": numbers.get(rule_id, ruleset.version)}
        if r["value"] != NOT_APPLICABLE:
            try:
                definition = ruleset.definition(rule_id)
            except KeyError:
                definition = None
            if definition is not None:
                entry["definition"] = {key: definition.get(key) for key in DISPLAY_KEYS}
                entry["source"] = sources.get(definition.get("source", ""), {})
        out[rule_id] = entry
    return _frozen(out)


# =============================================================================================
# Services


def _feedback_errors(
    cards: list[str], feedback: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for rule_id in cards:
        row = feedback.get(rule_id) or {}
        action = row.get("action") or ""
        if action not in FeedbackAction.values:
            errors[rule_id] = [_("Choose accept or override for this recommendation.")]
        elif action == FeedbackAction.OVERRIDDEN and not row.get("reason"):
            errors[rule_id] = [_("An override needs a reason.")]
        elif row.get("reason") and row["reason"] not in OverrideReason.values:
            errors[rule_id] = [_("Choose a reason from the list.")]
    unknown = sorted(set(feedback) - set(cards))
    if unknown:
        errors["__all__"] = [
            _("%(rules)s is not among the current recommendations of this case.")
            % {"rules": ", ".join(unknown)}
        ]
    return errors


@transaction.atomic
def decision_sign(
    *,
    case: Case,
    signed_by: User,
    feedback: Mapping[str, Mapping[str, Any]],
    comment: str = "",
    fingerprint: str | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """Sign the current recommendations of ``case``.

    ``feedback`` maps every card's rule id to ``{"action": "accepted" | "overridden",
    "reason": OverrideReason, "comment": str}``; an override needs a reason. The case is
    evaluated here, with the current rule set, so what is stored is what the rules say now;
    when ``fingerprint`` (from :func:`evaluation_fingerprint` at page load) no longer matches,
    the case or the rules changed meanwhile and nothing is signed (ValidationError, code
    "stale"). Raises PermissionDenied for a user who may not sign for this case.
    """
    if not signed_by.has_perm("guidelines.add_decision") or not signed_by.has_perm(
        "guidelines.add_cardfeedback"
    ):
        raise PermissionDenied
    if case.patient.centre_id != signed_by.centre_id:
        raise PermissionDenied
    ruleset = current_ruleset()
    numbers = current_rule_versions()
    facts = _frozen(case_facts(case))
    if fingerprint is not None and fingerprint != evaluation_fingerprint(
        facts=facts, ruleset_version=ruleset.version
    ):
        raise ValidationError(
            {
                "evaluation": [
                    ValidationError(
                        _(
                            "The case or the rules changed after this page was loaded. The "
                            "recommendations are shown again as they are now; review them and sign "
                            "again."
                        ),
                        code=STALE,
                    )
                ]
            }
        )
    result = _frozen(evaluate(facts, ruleset))
    cards = card_rule_ids(result)
    errors = _feedback_errors(cards, feedback)
    if errors:
        raise ValidationError(errors)
    decision = Decision(
        case=case,
        signed_by=signed_by,
        signed_at=now or timezone.now(),
        facts=facts,
        ruleset_version=str(ruleset.version),
        rule_versions=rule_versions_snapshot(ruleset=ruleset, result=result, numbers=numbers),
        result=result,
        comment=comment.strip(),
    )
    decision.full_clean()
    decision.save()
    for rule_id in cards:
        row = feedback[rule_id]
        overridden = row["action"] == FeedbackAction.OVERRIDDEN
        item = CardFeedback(
            decision=decision,
            rule_id=rule_id,
            value=result["rules"][rule_id]["value"],
            action=row["action"],
            reason=(row.get("reason") or "") if overridden else "",
            comment=(row.get("comment") or "").strip(),
        )
        item.full_clean()
        item.save()  # one by one: each row gets its history record
    return decision


@transaction.atomic
def hook_card_feedback_record(
    *,
    card: uuid.UUID,
    rule_id: str,
    value: str,
    action: str,
    reason: str = "",
    comment: str = "",
    outcome_at: dt.datetime | None = None,
) -> CardFeedback:
    """The outcome of a card shown through CDS Hooks (accepted, or overridden with one of the
    coded reasons), in the same records as a signed decision's feedback. Feedback sent again
    for the same card replaces the earlier outcome."""
    item = CardFeedback.objects.filter(hook_card=card).first() or CardFeedback(hook_card=card)
    item.rule_id, item.value, item.action = rule_id, value, action
    item.reason = reason if action == FeedbackAction.OVERRIDDEN else ""
    item.comment = comment.strip()
    item.outcome_at = outcome_at
    item.full_clean()
    item.save()
    return item


# =============================================================================================
# Selectors


def decision_list(*, case: Case) -> QuerySet[Decision]:
    """The case's signed decisions, newest first, with what a list shows (one query)."""
    return (
        Decision.objects.filter(case=case)
        .select_related("signed_by")
        .defer("facts", "result", "rule_versions")
        .annotate(
            overall=KT("result__overall"),
            cards=Count("feedback"),
            overridden=Count("feedback", filter=Q(feedback__action=FeedbackAction.OVERRIDDEN)),
        )
        .order_by("-signed_at", "-pk")
    )


def decision_get(*, case: Case, pk: int) -> Decision:
    """One decision of ``case`` with its feedback; Decision.DoesNotExist otherwise."""
    return (
        Decision.objects.select_related("signed_by")
        .prefetch_related(Prefetch("feedback", queryset=CardFeedback.objects.order_by("rule_id")))
        .get(case=case, pk=pk)
    )


def decision_current(*, case: Case, fingerprint: str) -> Decision | None:
    """The case's newest decision if it was signed on exactly what the case shows now (same
    facts, same rule set: same fingerprint), with its feedback; None otherwise."""
    latest = (
        Decision.objects.filter(case=case)
        .select_related("signed_by")
        .prefetch_related("feedback")
        .order_by("-signed_at", "-pk")
        .first()
    )
    if latest is None:
        return None
    signed_on = evaluation_fingerprint(facts=latest.facts, ruleset_version=latest.ruleset_version)
    return latest if signed_on == fingerprint else None


def overall_label(code: str) -> str:
    return str(OVERALL_LABELS.get(code, code))


def value_label(value: str | None) -> str:
    """ "Insufficient data (CEAP classification)" for insufficient_data:ceap, etc."""
    if value is None:
        return _("not in the rule set")
    base, _sep, missing = value.partition(":")
    text = str(VALUE_LABELS.get(base, base))
    return f"{text} ({field_label(missing)})" if missing else text


def decision_panel(*, decision: Decision) -> Panel:
    """The panel exactly as it was signed: the stored result, rendered with the stored
    definitions, each card carrying its stored feedback."""
    frozen = panel(decision.result, FrozenCatalogue(decision.rule_versions))
    feedback = {item.rule_id: item for item in decision.feedback.all()}
    for card in frozen.cards:
        card.feedback = feedback.get(card.rule_id)
    return frozen


@dataclass(frozen=True)
class RuleChange:
    rule_id: str
    then: str | None
    now: str | None

    @property
    def then_label(self) -> str:
        return value_label(self.then)

    @property
    def now_label(self) -> str:
        return value_label(self.now)


@dataclass(frozen=True)
class FactChange:
    field: str
    then: Any
    now: Any

    @property
    def label(self) -> str:
        return input_label(self.field)

    @property
    def then_text(self) -> str:
        return format_value(self.field, self.then)

    @property
    def now_text(self) -> str:
        return format_value(self.field, self.now)


@dataclass(frozen=True)
class Comparison:
    """A signed decision against today: the current case facts evaluated with the current
    rule set."""

    overall_then: str
    overall_now: str
    ruleset_then: str
    ruleset_now: str
    rule_changes: list[RuleChange]
    fact_changes: list[FactChange]

    @property
    def overall_differs(self) -> bool:
        return self.overall_then != self.overall_now

    @property
    def differs(self) -> bool:
        """Today's evaluation gives another overall status or another value for a rule."""
        return self.overall_differs or bool(self.rule_changes)

    @property
    def facts_changed(self) -> bool:
        return bool(self.fact_changes)

    @property
    def ruleset_changed(self) -> bool:
        return self.ruleset_then != self.ruleset_now

    @property
    def overall_then_label(self) -> str:
        return overall_label(self.overall_then)

    @property
    def overall_now_label(self) -> str:
        return overall_label(self.overall_now)


def decision_comparison(
    *, decision: Decision, facts: Mapping[str, Any], ruleset: RuleSet | None = None
) -> Comparison:
    """Compare a signed decision with today's evaluation of the case's current ``facts``."""
    ruleset = ruleset or current_ruleset()
    now_facts = _frozen(facts)
    today = evaluate(now_facts, ruleset)
    then_rules = decision.result.get("rules", {})
    now_rules = today["rules"]
    rule_changes = []
    for rule_id in [*then_rules, *(r for r in now_rules if r not in then_rules)]:
        then = then_rules.get(rule_id, {}).get("value")
        now = now_rules.get(rule_id, {}).get("value")
        if then != now:
            rule_changes.append(RuleChange(rule_id, then, now))
    then_facts = decision.facts or {}
    fact_changes = [
        FactChange(name, then_facts.get(name), now_facts.get(name))
        for name in [*then_facts, *(n for n in now_facts if n not in then_facts)]
        if then_facts.get(name) != now_facts.get(name)
    ]
    return Comparison(
        overall_then=decision.result.get("overall", ""),
        overall_now=today["overall"],
        ruleset_then=decision.ruleset_version,
        ruleset_now=str(ruleset.version),
        rule_changes=rule_changes,
        fact_changes=fact_changes,
    )
