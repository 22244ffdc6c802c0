"""Template filters of the guideline pages: rule values in words, JSON shown as JSON."""

from __future__ import annotations

import json
from typing import Any

from django import template

from guidelines.decisions.selectors import value_label
from guidelines.definitions import locally_modified

register = template.Library()


@register.filter
def rule_value(value: str | None) -> str:
    """ "Insufficient data (bleeding risk …)" for insufficient_data:bleeding_risk, "Against"
    for against; "—" for nothing."""
    return value_label(value) if value else "—"


@register.filter
def json_pretty(value: Any) -> str:
    """A stored JSON value as indented JSON (not Python's repr)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@register.filter(name="locally_modified")
def locally_modified_filter(definition: Any) -> bool:
    """Whether the definition differs from the shipped rule files."""
    return isinstance(definition, dict) and locally_modified(definition)


@register.inclusion_tag("guidelines/_modified_badge.html")
def modified_badge(definition: Any) -> dict[str, Any]:
    return {"show": locally_modified_filter(definition)}
