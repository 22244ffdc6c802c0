"""Reads of decisions: a case's decisions, one decision, the newest one if it was signed on
what the case shows now, its panel exactly as it was signed, and how today's evaluation of the
case differs from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _

from cases.models import Case, overall_label
from guidelines.decisions.snapshot import _frozen, evaluation_fingerprint
from guidelines.engine import RuleSet, evaluate
from guidelines.models import CardFeedback, Decision, FeedbackAction
from guidelines.presentation import (
    VALUE_LABELS,
    FrozenCatalogue,
    Panel,
    field_label,
    format_value,
    input_label,
    panel,
)
from guidelines.ruleset import current_ruleset


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
