"""How the guideline admin pages show rule definitions, and the vocabulary handed to the
structured rule editor (``static/js/rule_editor.js``) through ``json_script``.

Pure Python over ``guidelines/vocabulary.py``: readable sentences for expressions
("Days since symptom onset ≤ 14"), strength in the society's own grading, value labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guidelines import vocabulary as V
from guidelines.presentation import field_label

OP_LABELS = {
    "is_true": "is true",
    "is_false": "is false",
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "lte": "≤",
    "gt": ">",
    "gte": "≥",
    "in": "is one of",
    "not_in": "is none of",
    "contains_any": "includes any of",
    "contains_none": "includes none of",
    "contains_all": "includes all of",
}
OP_ORDER = tuple(OP_LABELS)
VALUE_LABELS = {
    "recommend": "Recommend",
    "consider": "Consider",
    "against": "Against",
    "not_applicable": "Not applicable",
    "insufficient_data": "Insufficient data",
}
ORIGIN_LABELS = {"fact": "Case facts", "derived": "Derived values", "outcome": "Rule outcomes"}
NORMALISED_LABELS = {"strong": "strong", "weak": "weak", "not_graded": "not graded"}


def input_label(name: str) -> str:
    spec = V.INPUTS.get(name)
    if spec is None:
        return name
    field = V.FACT_FIELDS.get(name)
    if field is not None:
        return field.label
    if spec.origin == "fact":
        return spec.description or name
    return name.replace("_", " ").capitalize()


def _value_text(value: Any) -> str:
    """A value as words: coded values (acute_thrombotic) with spaces."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_value_text(item) for item in value)
    return str(value).replace("_", " ")


def describe_expr(expr: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A tree {kind, text, children} for templates; tolerant of invalid expressions (an old
    version may not validate against today's vocabulary)."""
    if not isinstance(expr, Mapping):
        return None
    for kind, title in (("all", "All of"), ("any", "Any of")):
        if kind in expr and isinstance(expr[kind], list):
            children = [describe_expr(child) for child in expr[kind]]
            return {"kind": kind, "text": title, "children": [c for c in children if c]}
    if "not" in expr:
        child = describe_expr(expr["not"])
        return {"kind": "not", "text": "Not", "children": [child] if child else []}
    name, op = str(expr.get("input", "?")), str(expr.get("op", "?"))
    text = f"{input_label(name)} {OP_LABELS.get(op, op)}"
    if op not in ("is_true", "is_false"):
        text += f" {_value_text(expr.get('value'))}"
    return {"kind": "leaf", "text": text, "input": name, "children": []}


def strength_text(strength: Mapping[str, Any] | None) -> str:
    """The society's own grading: ESVS "Class IIa, Level B", GRADE "2C", SIR letters."""
    if not strength:
        return "not graded"
    system, native, level = strength.get("system"), strength.get("native"), strength.get("level")
    if system == "ESVS" and native:
        return f"ESVS Class {native}" + (f", Level {level}" if level else "")
    if system == "GRADE" and native:
        return f"GRADE {native}{level or ''}"
    if native:
        return f"{system} {native}" + (f" ({level})" if level else "")
    return f"{system}: not graded" if system and system != "NONE" else "not graded"


def definition_view(definition: Mapping[str, Any]) -> dict[str, Any]:
    """What the rule and version pages show of a definition."""
    criteria = [
        {
            "id": c.get("id"),
            "label": c.get("label"),
            "field": field_label(c["field"]) if c.get("field") else None,
            "test": describe_expr(c.get("test")),
        }
        for c in definition.get("criteria") or []
        if isinstance(c, Mapping)
    ]
    switch = definition.get("switch")
    switch_view = None
    if isinstance(switch, Mapping):
        switch_view = {
            "label": switch.get("label") or switch.get("id"),
            "field": field_label(switch["field"]) if switch.get("field") else None,
            "test": describe_expr(switch.get("test")),
            "outcomes": [
                (result, VALUE_LABELS.get(str(switch.get(result)), switch.get(result)))
                for result in ("true", "false", "unknown")
            ],
        }
    return {
        "text": definition.get("text", ""),
        "population_text": definition.get("population_text", ""),
        "population": describe_expr(definition.get("population")),
        "criteria": criteria,
        "switch": switch_view,
        "positive": VALUE_LABELS.get(str(definition.get("positive")), definition.get("positive")),
        "failure": VALUE_LABELS.get(str(definition.get("failure")), definition.get("failure")),
        "strength": strength_text(definition.get("strength")),
        "normalised": NORMALISED_LABELS.get(
            str((definition.get("strength") or {}).get("normalised")),
            (definition.get("strength") or {}).get("normalised"),
        ),
        "number": definition.get("recommendation_number"),
        "notes": definition.get("notes", ""),
        "maintainer_notes": definition.get("maintainer_notes", ""),
        "brief_ref": definition.get("brief_ref"),
        "verification": definition.get("verification"),
        "provisional": definition.get("verification") != "verified",
        "topic": V.TOPICS.get(str(definition.get("topic")), definition.get("topic")),
        "engine": definition.get("engine"),
    }


def editor_vocabulary() -> dict[str, Any]:
    """Everything the structured editor offers, from the closed vocabulary."""
    inputs: list[dict[str, Any]] = [
        {
            "name": spec.name,
            "label": input_label(spec.name),
            "kind": spec.kind,
            "values": list(spec.values),
            "origin": spec.origin,
            "description": spec.description,
        }
        for spec in V.INPUTS.values()
    ]
    order = {"fact": 0, "derived": 1, "outcome": 2}
    inputs.sort(key=lambda item: order.get(str(item["origin"]), 9))
    return {
        "inputs": inputs,
        "origins": ORIGIN_LABELS,
        "ops": {kind: [op for op in OP_ORDER if op in ops] for kind, ops in V.OPS_BY_KIND.items()},
        "op_labels": OP_LABELS,
        "fields": [{"name": f.name, "label": f.label} for f in V.FACT_FIELDS.values()],
        "rule_values": [{"value": v, "label": VALUE_LABELS[v]} for v in V.RULE_VALUES],
        "switch_values": [
            {"value": v, "label": VALUE_LABELS[v]} for v in (*V.RULE_VALUES, V.INSUFFICIENT_DATA)
        ],
    }


def expr_text(node: Mapping[str, Any] | None) -> str:
    """A described expression as one line: "All of (A; any of (B; C))"."""
    if not node:
        return "—"
    if node["kind"] == "leaf":
        return str(node["text"])
    inner = "; ".join(expr_text(child) for child in node["children"])
    return f"{node['text']} ({inner})"


def definition_comparison(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Two definitions side by side, aspect by aspect and criterion by criterion, in words
    (what an approver reads): [{label, old, new, changed}]."""
    a, b = definition_view(old), definition_view(new)
    rows: list[tuple[str, str, str]] = [
        ("Recommendation", a["text"], b["text"]),
        ("Population (as stated)", a["population_text"], b["population_text"]),
        ("Population (logic)", expr_text(a["population"]), expr_text(b["population"])),
        ("Strength", a["strength"], b["strength"]),
        ("Verification", str(a["verification"]), str(b["verification"])),
        ("Topic", str(a["topic"]), str(b["topic"])),
    ]
    for index in range(max(len(a["criteria"]), len(b["criteria"]))):
        left = a["criteria"][index] if index < len(a["criteria"]) else None
        right = b["criteria"][index] if index < len(b["criteria"]) else None

        def criterion(c: Mapping[str, Any] | None) -> str:
            return f"{c['label']}: {expr_text(c['test'])}" if c else "—"

        rows.append((f"Criterion {index + 1}", criterion(left), criterion(right)))
    if a["switch"] or b["switch"]:

        def switch(s: Mapping[str, Any] | None) -> str:
            if not s:
                return "—"
            outcomes = ", ".join(f"{result} → {value}" for result, value in s["outcomes"])
            return f"{s['label']}: {expr_text(s['test'])} ({outcomes})"

        rows.append(("Switch", switch(a["switch"]), switch(b["switch"])))
    rows += [
        ("All criteria met", str(a["positive"] or "—"), str(b["positive"] or "—")),
        ("A criterion not met", str(a["failure"] or "—"), str(b["failure"] or "—")),
        ("Notes", a["notes"] or "—", b["notes"] or "—"),
        ("Maintainer notes", a["maintainer_notes"] or "—", b["maintainer_notes"] or "—"),
    ]
    return [
        {"label": label, "old": left, "new": right, "changed": left != right}
        for label, left, right in rows
    ]
