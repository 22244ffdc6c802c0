"""What a signed decision freezes (issue 3 "Decision records"), and how what the clinician
was shown is recognised again:

- ``facts``: the case's facts document at signing (``cases.facts.case_facts``);
- ``result``: the full evaluation (``docs/evaluation.md#evaluation-contract``), byte for
  byte what the clinician saw;
- ``ruleset_version``: ``RuleSet.version``;
- ``rule_versions``: per scored rule ``{"version": ...}``; for the rules that had a card it
  also holds the displayed part of the definition and its source (``presentation.DISPLAY_KEYS``),
  because rule texts and sources are edited and published later and the "as of" view must
  not change with them (there is no separate model field for this snapshot);
- one :class:`~guidelines.models.CardFeedback` per card (accepted / overridden + reason).

``_frozen`` is this package's own helper (its services and selectors freeze with it), not
an interface for other modules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from guidelines.engine import RuleSet
from guidelines.presentation import DISPLAY_KEYS

NOT_APPLICABLE = "not_applicable"


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
