"""Reads of the guideline app for other apps: evaluations of facts documents."""

from typing import Any

from guidelines.engine import RuleSet, evaluate
from guidelines.presentation import OVERALL_LABELS, Panel, panel
from guidelines.ruleset import current_ruleset


def recommendations_evaluate(
    *, facts: dict[str, Any], ruleset: RuleSet | None = None
) -> tuple[dict[str, Any], RuleSet]:
    """The §2.6 evaluation of ``facts`` and the rule set it was made with."""
    ruleset = ruleset or current_ruleset()
    return evaluate(facts, ruleset), ruleset


def recommendations_panel(*, facts: dict[str, Any], ruleset: RuleSet | None = None) -> Panel:
    result, ruleset = recommendations_evaluate(facts=facts, ruleset=ruleset)
    return panel(result, ruleset)


def overall_status(*, facts: dict[str, Any], ruleset: RuleSet | None = None) -> tuple[str, str]:
    """(code, label) of the overall status, for lists; pass ``ruleset`` when labelling many
    cases so the rule set is looked up once."""
    code = evaluate(facts, ruleset or current_ruleset())["overall"]
    return code, str(OVERALL_LABELS.get(code, code))
