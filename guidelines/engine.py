"""Guideline engine: case facts in, the evaluation contract of CLINICAL_BRIEF.md §2.6 out.

Pure Python (no Django, no ORM). The rules are data (``guidelines/rules/*.json``, validated by
``guidelines/schema.py``); this module

1. normalises a facts document (§2.6 C1, C6, C11): anything not recorded or outside the
   vocabulary of ``guidelines/vocabulary.py`` becomes ``None`` (unknown), and
   :func:`facts_warnings` says which values were ignored that way, and why;
2. derives the §2.4/§2.5 values (ACUTE, IF, FP_only, c_classes, symptomatic, ...) with
   three-valued (Kleene) logic;
3. evaluates every scored rule with the criterion convention of §2.5 (C2, C3);
4. computes, as code, the three rule outcomes that later rules and the overall status read
   (`etr_candidate`, `device_contraindicated`, `stent_pathway_active`), the overall status
   and, through ``planning/sizing.py``, the planning block.

Rule expressions are compiled once into closures by :func:`compile_ruleset`; an evaluation
then costs a few tens of microseconds. The engine never raises for a JSON facts value.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any

from cases import thrombolysis
from cases.ceap import CeapError, parse_clinical, threshold_classes
from guidelines import vocabulary as V
from guidelines.schema import (
    RuleSetError,
    evaluation_order,
    validate_definition,
    validate_ruleset,
    validate_sources,
)
from planning.sizing import plan

__all__ = [
    "ENGINE_VERSION",
    "WARNING_REASONS",
    "EngineOptions",
    "RuleSet",
    "RuleSetError",
    "compile_ruleset",
    "default_ruleset",
    "evaluate",
    "evaluate_rule",
    "evaluate_with_warnings",
    "facts_warnings",
    "normalise_facts",
]

RULES_DIR = Path(__file__).resolve().parent / "rules"

# The evaluation logic's own version, stored next to the rule-set number with every stored
# overall status: a deploy that changes how rules are read (not only the rules) makes the
# stored statuses stale, so they are re-evaluated. Bump it with every change to this module's
# semantics. 2: the safety revision (brief §2.7: effective contraindication class, pregnancy
# deferral, asymptomatic NIVL, anticoagulation contraindication).
ENGINE_VERSION = 2

Value = bool | None  # three-valued truth: True / False / None (unknown)
Context = dict[str, Any]
Predicate = Callable[[Context], Value]


@dataclass(frozen=True)
class EngineOptions:
    """Evaluation options that are not case facts.

    severe_threshold: IVUS area reduction (%) from which a stenosis counts as significant
    (§2.4, default 50; VIDIO's data-driven threshold was about 61 % [M]).
    """

    severe_threshold: float = 50.0

    def __post_init__(self) -> None:
        value = self.severe_threshold
        if type(value) not in (int, float) or not 0 < value <= 100:
            raise ValueError("severe_threshold must be a number in (0, 100]")


# =============================================================================================
# 1. Normalisation (§2.6 C1, C6, C11)


def _bool(value: object) -> bool | None:
    """true/false, also as (case-insensitive) strings; anything else is not recorded."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
    return None


def _enum(values: tuple[str, ...]) -> Callable[[object], str | None]:
    canonical = {value: value for value in values}

    def normalise(value: object) -> str | None:
        if isinstance(value, str):  # str subclasses too (Django TextChoices members)
            found = canonical.get(value)
            return found if found is not None else canonical.get(value.strip().lower())
        return None

    return normalise


def _number(minimum: float, maximum: float) -> Callable[[object], int | float | None]:
    def normalise(value: object) -> int | float | None:
        kind = type(value)
        if kind is int or kind is float:
            number = value
        elif isinstance(value, str):
            try:
                number = float(value.strip().removesuffix("%").strip())  # type: ignore[attr-defined]
            except ValueError:
                return None
            if number.is_integer():
                number = int(number)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = value  # an int or float subclass such as a Django IntegerChoices member
        else:  # bool, list, dict, None: a bool is not a number (True is not 1)
            return None
        if minimum <= number <= maximum:  # type: ignore[operator]  # NaN fails, ±inf fails
            return number  # type: ignore[return-value]
        return None

    return normalise


def _items(value: object) -> Sequence[object] | None:
    if isinstance(value, str):
        return value.split(",")
    if type(value) is list or type(value) is tuple:
        return value  # type: ignore[return-value]
    return None


_SEGMENT_BY_FOLD = {code.lower(): code for code in V.CEAP_SEGMENTS}
_SEGMENT_RANK = {code: rank for rank, code in enumerate(V.CEAP_SEGMENTS)}


def _segments(value: object) -> list[str] | None:
    """Known CEAP 2020 segment abbreviations in the §4.1 order; unknown codes are dropped and an
    empty result is "not recorded" (§2.4)."""
    items = _items(value)
    if items is None:
        return None
    try:
        known = _segments_of(tuple(items))
    except TypeError:  # an unhashable item (list, dict): not a segment code anyway
        known = _segments_of(tuple(item for item in items if isinstance(item, str)))
    return None if known is None else list(known)


@functools.lru_cache(maxsize=2048)
def _segments_of(items: tuple[object, ...]) -> tuple[str, ...] | None:
    found = set()
    for item in items:
        if isinstance(item, str):
            code = _SEGMENT_BY_FOLD.get(item.strip().lower())
            if code is not None:
                found.add(code)
    if not found:
        return None
    return tuple(sorted(found, key=_SEGMENT_RANK.__getitem__))


_CLASS_RANK = {code: rank for rank, code in enumerate(V.CEAP_CLASSES)}


@functools.lru_cache(maxsize=4096)
def _ceap_clinical(text: str) -> tuple[tuple[str, ...], frozenset[str], bool | None] | None:
    """(classes in clinical order, classes as thresholds read them, s/a subscript) or None.

    Uses the lenient C-part parser of ``cases/ceap.py``; an unreadable C part is "not
    recorded" (§2.6 C8). Threshold reading: C2r counts as C2 and C6r as C6, the written class
    stays testable too.
    """
    try:
        part = parse_clinical(text)
    except CeapError:
        return None
    except Exception:  # a parser defect must not fail an evaluation; treat as unreadable
        return None
    written = frozenset(code for code in part.classes if code in _CLASS_RANK)
    if not written:
        return None
    ordered = tuple(sorted(written, key=_CLASS_RANK.__getitem__))
    return ordered, written | threshold_classes(written), part.symptomatic


def _ceap(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if _ceap_clinical(text) is not None else None


_percent = _number(0, 100)
_obstruction_type = _enum(V.OBSTRUCTION_TYPES)


def _obstruction(value: object) -> dict[str, Any] | None:
    """{type, area_reduction_pct, diameter_reduction_pct}; a bare "occlusion"/"stenosis"
    string is read as the type. None when nothing usable is recorded."""
    if isinstance(value, dict):
        kind = _obstruction_type(value.get("type"))
        area = _percent(value.get("area_reduction_pct"))
        diameter = _percent(value.get("diameter_reduction_pct"))
    else:
        kind, area, diameter = _obstruction_type(value), None, None
    if kind is None and area is None and diameter is None:
        return None
    return {"type": kind, "area_reduction_pct": area, "diameter_reduction_pct": diameter}


_risk_level = _enum(V.RISK_LEVELS)
_contraindication_class = _enum(V.CONTRAINDICATION_CLASSES)
_FACTOR_RANK = {code: rank for rank, code in enumerate(V.CONTRAINDICATION_FACTORS)}


def _factors(value: object) -> list[str] | None:
    items = _items(value)
    if items is None:
        return None
    found = {
        item.strip().lower()
        for item in items
        if isinstance(item, str) and item.strip().lower() in _FACTOR_RANK
    }
    return sorted(found, key=_FACTOR_RANK.__getitem__) if found else None


def _bleeding_risk(value: object) -> dict[str, Any] | None:
    """{level, contraindication_class, factors}; a bare "low"/"high" string is the level."""
    if isinstance(value, dict):
        level = _risk_level(value.get("level"))
        klass = _contraindication_class(value.get("contraindication_class"))
        factors = _factors(value.get("factors"))
    else:
        level, klass, factors = _risk_level(value), None, None
    if level is None and klass is None and factors is None:
        return None
    return {"level": level, "contraindication_class": klass, "factors": factors}


def _normaliser(field: V.FactField) -> Callable[[object], Any]:
    if field.kind == "bool":
        return _bool
    if field.kind == "enum":
        return _enum(field.values)
    if field.kind == "number":
        return _number(field.minimum, field.maximum)
    return {
        "segments": _segments,
        "ceap": _ceap,
        "obstruction": _obstruction,
        "bleeding_risk": _bleeding_risk,
    }[field.kind]


_NORMALISERS = {name: _normaliser(field) for name, field in V.FACT_FIELDS.items()}
_NOTHING_RECORDED = dict.fromkeys(V.FACT_FIELDS)


def normalise_facts(facts: object) -> dict[str, Any]:
    """Every §2.4 field, normalised, with None for "not recorded" (§2.6 C1).

    Not recorded = key absent, null, "", "unknown", or a value outside the vocabulary.
    Booleans accept true/false and the strings "true"/"false"; enum values are matched
    case-insensitively; numbers accept int/float and numeric strings (never booleans);
    out-of-range numbers are not recorded. Unknown keys are ignored; a non-object document is
    treated as empty facts. The result is JSON-serialisable.
    """
    result = _NOTHING_RECORDED.copy()
    if not isinstance(facts, Mapping):
        return result
    normalisers = _NORMALISERS
    for name, raw in facts.items():
        normalise = normalisers.get(name)
        if normalise is not None and raw is not None:
            result[name] = normalise(raw)
    return result


# ---------------------------------------------------------------------------------------------
# Warnings: what normalisation ignored, and why. Not part of the §2.6 contract, where such a
# value simply is not recorded (C1); the evaluate API and command report them next to it.

UNKNOWN_FIELD = "unknown_field"  # a key the vocabulary does not have
UNKNOWN_CODE = "unknown_code"  # a text outside the field's codes
WRONG_TYPE = "wrong_type"  # a JSON type the field never takes
OUT_OF_RANGE = "out_of_range"  # a number outside the field's range
UNREADABLE = "unreadable"  # a text that is not a number, or a CEAP text the parser rejects
WARNING_REASONS = (UNKNOWN_FIELD, UNKNOWN_CODE, WRONG_TYPE, OUT_OF_RANGE, UNREADABLE)

Warning = dict[str, Any]
Check = Callable[[str, object, list[Warning]], None]

_NOT_READ = "Read as not recorded."
_IGNORED = "Ignored."
_any_number = _number(float("-inf"), float("inf"))
_TYPE_NAMES: tuple[tuple[type | UnionType, str], ...] = (
    (type(None), "null"),
    (bool, "a boolean"),
    (int | float, "a number"),
    (str, "a text"),
    (list | tuple, "a list"),
    (Mapping, "an object"),
)


def _blank(value: object) -> bool:
    """Not recorded on purpose (§2.6 C1): null, an empty text or "unknown"."""
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "unknown"))


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _type_name(value: object) -> str:
    return next(
        (name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__
    )


def _warning(path: str, value: object, reason: str, problem: str, outcome: str) -> Warning:
    return {"field": path, "value": value, "reason": reason, "message": f"{problem} {outcome}"}


def _wrong_type(path: str, value: object, expected: str, outcome: str = _NOT_READ) -> Warning:
    problem = f"{_shown(value)} is {_type_name(value)}, expected {expected}."
    return _warning(path, value, WRONG_TYPE, problem, outcome)


def _value_check(normalise: Callable[[object], Any], kind: str, expected: str) -> Check:
    """A bool, enum or number field; ``expected`` says what it takes ("true or false")."""

    def check(path: str, value: object, out: list[Warning]) -> None:
        if _blank(value) or normalise(value) is not None:
            return
        problem = f"{_shown(value)} is not {expected}."
        if kind == "number" and type(value) in (int, float, str):
            reason = UNREADABLE if _any_number(value) is None else OUT_OF_RANGE
            out.append(_warning(path, value, reason, problem, _NOT_READ))
        elif kind != "number" and isinstance(value, str):
            out.append(_warning(path, value, UNKNOWN_CODE, problem, _NOT_READ))
        else:
            out.append(_wrong_type(path, value, expected))

    return check


def _codes_check(known: Container[str], code: str) -> Check:
    """A set of codes (a list, or a comma-separated text) matched case-insensitively against
    ``known`` (lower case): each unknown one is reported, the others are read. ``code`` names
    one ("a CEAP 2020 segment abbreviation")."""

    def item_check(path: str, item: object, out: list[Warning]) -> None:
        if _blank(item):
            return
        if not isinstance(item, str):
            out.append(_wrong_type(path, item, code, _IGNORED))
        elif item.strip().lower() not in known:
            problem = f"{_shown(item)} is not {code}."
            out.append(_warning(path, item, UNKNOWN_CODE, problem, _IGNORED))

    def check(path: str, value: object, out: list[Warning]) -> None:
        if isinstance(value, str):
            for item in value.split(","):
                item_check(path, item, out)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                item_check(f"{path}[{index}]", item, out)
        elif not _blank(value):
            out.append(_wrong_type(path, value, "a list"))

    return check


def _object_check(name: str, parts: dict[str, Check], text: Check) -> Check:
    """An object of ``parts``; a bare text is read as its first part (``text``)."""

    def check(path: str, value: object, out: list[Warning]) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                part = parts.get(key)
                if part is None:
                    problem = f"{_shown(key)} is not a field of {name}."
                    out.append(_warning(f"{path}.{key}", item, UNKNOWN_FIELD, problem, _IGNORED))
                else:
                    part(f"{path}.{key}", item, out)
        elif isinstance(value, str):
            text(path, value, out)
        elif not _blank(value):
            out.append(_wrong_type(path, value, "an object"))

    return check


def _ceap_check(path: str, value: object, out: list[Warning]) -> None:
    if _blank(value) or _ceap(value) is not None:
        return
    if not isinstance(value, str):
        out.append(_wrong_type(path, value, "a CEAP classification"))
        return
    try:
        parse_clinical(value.strip())
        problem = f"{_shown(value)} has no CEAP clinical class."
    except Exception as error:  # CeapError; a parser defect is unreadable too (_ceap_clinical)
        problem = str(error)
    out.append(_warning(path, value, UNREADABLE, problem, _NOT_READ))


def _one_of(values: Sequence[str]) -> str:
    return f"one of: {', '.join(values)}"


def _field_check(field: V.FactField) -> Check:
    normalise = _NORMALISERS[field.name]
    if field.kind == "bool":
        return _value_check(normalise, "bool", "true or false")
    if field.kind == "enum":
        return _value_check(normalise, "enum", _one_of(field.values))
    if field.kind == "number":
        expected = f"a number from {field.minimum:g} to {field.maximum:g}"
        return _value_check(normalise, "number", expected)
    if field.kind == "segments":
        return _codes_check(_SEGMENT_BY_FOLD, "a CEAP 2020 segment abbreviation")
    if field.kind == "ceap":
        return _ceap_check
    if field.kind == "obstruction":
        kind = _value_check(_obstruction_type, "enum", _one_of(V.OBSTRUCTION_TYPES))
        percent = _value_check(_percent, "number", "a number from 0 to 100")
        parts = {"type": kind, "area_reduction_pct": percent, "diameter_reduction_pct": percent}
        return _object_check("obstruction", parts, kind)
    level = _value_check(_risk_level, "enum", _one_of(V.RISK_LEVELS))
    klass = _value_check(_contraindication_class, "enum", _one_of(V.CONTRAINDICATION_CLASSES))
    factors = _codes_check(_FACTOR_RANK, "a thrombolysis contraindication code")
    parts = {"level": level, "contraindication_class": klass, "factors": factors}
    return _object_check("bleeding_risk", parts, level)


_CHECKS = {name: _field_check(field) for name, field in V.FACT_FIELDS.items()}


def facts_warnings(facts: object) -> list[Warning]:
    """Every value of ``facts`` that :func:`normalise_facts` ignores, in document order, as
    ``{"field": path, "value": the value, "reason": one of WARNING_REASONS, "message"}``
    (paths like ``bleeding_risk.factors[1]``).

    What says "not recorded" (null, "", "unknown") and what is read after folding case or
    spaces is no warning: a clean document has none. Never raises for a JSON value.
    """
    if not isinstance(facts, Mapping):
        return [_wrong_type("", facts, "a facts object", "Nothing was read.")]
    out: list[Warning] = []
    for name, value in facts.items():
        check = _CHECKS.get(name)
        if check is None:
            problem = f"{_shown(name)} is not a facts field."
            out.append(_warning(str(name), value, UNKNOWN_FIELD, problem, _IGNORED))
        else:
            check(name, value, out)
    return out


# =============================================================================================
# 2. Derived values (§2.4, §2.5, §2.6 C6-C11)

_STENTABLE = frozenset(V.STENTABLE_SEGMENTS)
# §2.5 rule 17 defaults: high for post-thrombotic, IVC occlusion and atresia; NIVL low unless
# thrombophilia (C11). The brief gives no default for acute thrombotic lesions (no rule reads
# it there); stents placed for thrombotic disease fail early far more often (13.2 % vs 2.8 %
# occluded at 6 months, §3.6), so the derived value reports "high" for them too.
_HIGH_RISK_DEFAULT = frozenset(
    {"chronic_post_thrombotic", "ivc_occlusion", "iliocaval_atresia", "acute_thrombotic"}
)
_MODERATE_OR_SEVERE = frozenset({"moderate", "severe"})


def _and(a: Value, b: Value) -> Value:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: Value, b: Value) -> Value:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


@functools.lru_cache(maxsize=2048)
def _segment_sets(segments: tuple[str, ...]) -> tuple[frozenset[str], bool, bool, bool, bool]:
    """(set, any of CIV/EIV/CFV, IVC, any stentable, any of FV/POPV) for normalised segments."""
    involved = frozenset(segments)
    return (
        involved,
        not involved.isdisjoint(V.ILIOFEMORAL_SEGMENTS),
        "IVC" in involved,
        not involved.isdisjoint(_STENTABLE),
        not involved.isdisjoint(V.FEMOROPOPLITEAL_SEGMENTS),
    )


def _context(facts: dict[str, Any], threshold: float) -> Context:
    """Values rule leaves read: the normalised facts plus every derived value.

    Set-valued inputs become frozensets; compound facts are split into dotted sub-inputs.
    """
    ctx = dict(facts)
    entity = facts["lesion_entity"]
    acute = None if entity is None else entity == V.ACUTE_ENTITY
    chronic = None if entity is None else entity in V.CHRONIC_ENTITIES
    ctx["acute"] = acute
    ctx["chronic"] = chronic

    segment_list = facts["segments_involved"]
    if segment_list is None:
        segments = None
        iliac = ivc = stentable = femoropopliteal = None
    else:
        segments, iliac, ivc, stentable, femoropopliteal = _segment_sets(tuple(segment_list))
    ctx["segments_involved"] = segments
    # §2.5: IF = ACUTE ∧ segments ∩ {CIV, EIV, CFV} ≠ ∅ (iliocaval if IVC also present);
    # FP_only = ACUTE ∧ segments ∩ STENTABLE = ∅ ∧ segments ∩ {FV, POPV} ≠ ∅ (C10).
    iliofemoral = _and(acute, iliac)
    ctx["iliofemoral"] = iliofemoral
    ctx["iliocaval"] = _and(iliofemoral, ivc)
    fp_only = _and(acute, _and(None if stentable is None else not stentable, femoropopliteal))
    ctx["femoropopliteal_only"] = fp_only
    ctx["proximal"] = _or(iliofemoral, fp_only)

    ceap = facts["ceap"]
    clinical = None if ceap is None else _ceap_clinical(ceap)
    if clinical is None:
        ctx["c_classes"] = c3 = ceap_s = None
    else:
        ctx["c_classes"] = clinical[1]
        c3 = not clinical[1].isdisjoint(V.CEAP_C3_OR_WORSE)
        ceap_s = clinical[2] is True  # no subscript is not symptomatic by CEAP (C7)
    ctx["ceap_symptomatic"] = ceap_s
    claudication = facts["venous_claudication"]
    qol = facts["qol_impairment"]
    qol_relevant = None if qol is None else qol in _MODERATE_OR_SEVERE
    ctx["symptomatic"] = _or(_or(ceap_s, claudication), qol_relevant)
    ctx["clinically_relevant"] = _or(_or(c3, claudication), qol_relevant)

    obstruction = facts["obstruction"]
    if obstruction is None:
        kind = area = diameter = None
    else:
        kind = obstruction["type"]
        area = obstruction["area_reduction_pct"]
        diameter = obstruction["diameter_reduction_pct"]
    ctx["obstruction.type"] = kind
    ctx["obstruction.area_reduction_pct"] = area
    ctx["obstruction.diameter_reduction_pct"] = diameter
    # C6: occlusion whatever the area; area >= threshold; recorded stenosis below -> false.
    if kind == "occlusion" or (area is not None and area >= threshold):
        significant: Value = True
    elif kind == "stenosis" and area is not None:
        significant = False
    else:
        significant = None
    ctx["significant_obstruction"] = significant

    bleeding = facts["bleeding_risk"]
    if bleeding is None:
        level = recorded_class = factors = None
    else:
        level = bleeding["level"]
        recorded_class = bleeding["contraindication_class"]
        factors = bleeding["factors"]
    # §2.7 S1: the most severe of the recorded class, the ticks' class and "relative" for a
    # pregnant patient; unknown only when none of the three says anything.
    klass = thrombolysis.effective_class(
        recorded=recorded_class, factors=factors, pregnancy=facts["pregnancy"]
    )
    ctx["bleeding_risk.level"] = level
    ctx["bleeding_risk.contraindication_class"] = recorded_class
    ctx["bleeding_risk.factors"] = None if factors is None else frozenset(factors)
    ctx["contraindication_class"] = klass
    # §2.7 S4: a ticked item is known; an unticked or unrecorded one is not a contraindication.
    ctx["anticoagulation_contraindicated"] = (
        factors is not None and V.ANTICOAGULATION_CONTRAINDICATED in factors
    )
    # C6: false if level high or class relative/absolute; true if low and none; else unknown.
    ctx["bleeding_ok"] = _and(
        None if level is None else level == "low", None if klass is None else klass == "none"
    )

    # §2.5 rule 17 / C11: a recorded risk overrides the entity default.
    risk = facts["stent_thrombosis_risk"]
    if risk is None and entity is not None:
        if entity == "nivl":
            risk = "high" if facts["thrombophilia"] is True else "low"
        elif entity in _HIGH_RISK_DEFAULT:
            risk = "high"
    ctx["stent_thrombosis_risk"] = risk

    onset = facts["symptom_onset_days"]
    # §1.1: acute <= 14 d, subacute 15-28 d, chronic > 28 d; never reclassifies the entity (C9).
    if onset is None:
        ctx["dvt_phase"] = None
    else:
        ctx["dvt_phase"] = "acute" if onset <= 14 else "subacute" if onset <= 28 else "chronic"
    return ctx


# =============================================================================================
# 3. Expression compiler


class _Node:
    """A compiled expression: ``fn(ctx)`` gives its three-valued result; ``blame`` names the
    case field that makes an unknown result unknown (only computed when it is needed)."""

    __slots__ = ("children", "fields", "fn", "kind", "shown")

    def __init__(
        self,
        kind: str,
        fn: Predicate,
        children: tuple[_Node, ...],
        fields: tuple[str, ...],
        shown: tuple[str, ...] = (),
    ):
        self.kind = kind
        self.fn = fn
        self.children = children
        self.fields = fields  # leaf: the input's source fields
        self.shown = shown or fields  # leaf: the fields shown next to its result

    def blame(self, ctx: Context, facts: Mapping[str, Any]) -> str:
        """The first unrecorded source field along the path of unknown sub-expressions.

        For an unknown AND (no part false) or OR (no part true) that is the first unknown
        part, so "symptom_severity == severe OR phlegmasia" names the first unrecorded of
        symptom_severity, phlegmasia (§2.6 C5).
        """
        node = self
        while node.kind != "leaf":
            node = next((c for c in node.children if c.fn(ctx) is None), node.children[0])
        for field in node.fields:
            if facts.get(field) is None:
                return field
        return node.fields[0]


def _leaf(name: str, op: str, value: Any) -> Predicate:
    if op == "is_true":  # bool inputs hold True / False / None already
        return operator.itemgetter(name)
    if op == "is_false":

        def fn(ctx: Context) -> Value:
            v = ctx[name]
            return None if v is None else not v

    elif op in ("in", "not_in", "contains_any", "contains_none", "contains_all"):
        values = frozenset(value)
        if op == "in":

            def fn(ctx: Context) -> Value:
                v = ctx[name]
                return None if v is None else v in values

        elif op == "not_in":

            def fn(ctx: Context) -> Value:
                v = ctx[name]
                return None if v is None else v not in values

        elif op == "contains_any":

            def fn(ctx: Context) -> Value:
                v = ctx[name]
                return None if v is None else not values.isdisjoint(v)

        elif op == "contains_none":

            def fn(ctx: Context) -> Value:
                v = ctx[name]
                return None if v is None else values.isdisjoint(v)

        else:

            def fn(ctx: Context) -> Value:
                v = ctx[name]
                return None if v is None else values <= v

    elif op == "eq":

        def fn(ctx: Context) -> Value:
            v = ctx[name]
            return None if v is None else v == value

    elif op == "ne":

        def fn(ctx: Context) -> Value:
            v = ctx[name]
            return None if v is None else v != value

    elif op == "lt":

        def fn(ctx: Context) -> Value:
            v = ctx[name]
            return None if v is None else v < value

    elif op == "lte":

        def fn(ctx: Context) -> Value:
            v = ctx[name]
            return None if v is None else v <= value

    elif op == "gt":

        def fn(ctx: Context) -> Value:
            v = ctx[name]
            return None if v is None else v > value

    elif op == "gte":

        def fn(ctx: Context) -> Value:
            v = ctx[name]
            return None if v is None else v >= value

    else:  # pragma: no cover - the schema admits no other operator
        raise RuleSetError([f"unknown operator {op!r}"])
    return fn


def _all(parts: tuple[Predicate, ...]) -> Predicate:
    """Kleene AND."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts

        def both(ctx: Context) -> Value:
            x = a(ctx)
            if x is False:
                return False
            y = b(ctx)
            if y is False:
                return False
            return None if x is None or y is None else True

        return both

    def every(ctx: Context) -> Value:
        unknown = False
        for part in parts:
            r = part(ctx)
            if r is False:
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return every


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    """Kleene OR."""
    if len(parts) == 1:
        return parts[0]

    def some(ctx: Context) -> Value:
        unknown = False
        for part in parts:
            r = part(ctx)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return some


def _not(part: Predicate) -> Predicate:
    def negate(ctx: Context) -> Value:
        r = part(ctx)
        return None if r is None else not r

    return negate


def _compile(expr: Mapping[str, Any]) -> _Node:
    if "all" in expr or "any" in expr:
        kind = "all" if "all" in expr else "any"
        children = tuple(_compile(child) for child in expr[kind])
        fns = tuple(child.fn for child in children)
        return _Node(kind, _all(fns) if kind == "all" else _any(fns), children, ())
    if "not" in expr:
        child = _compile(expr["not"])
        return _Node("not", _not(child.fn), (child,), ())
    spec = V.INPUTS[expr["input"]]
    fn = _leaf(spec.name, expr["op"], expr.get("value"))
    return _Node("leaf", fn, (), spec.fields, spec.fields + spec.also_shown)


def _shown_fields(node: _Node) -> tuple[str, ...]:
    """Case fields a UI shows next to an expression's result, in first-use order."""
    if node.kind == "leaf":
        return node.shown
    seen: dict[str, None] = {}
    for child in node.children:
        seen.update(dict.fromkeys(_shown_fields(child)))
    return tuple(seen)


# =============================================================================================
# 4. Compiled rule set

_STATUS = {True: "met", False: "unmet", None: "unknown"}
_NA = "not_applicable"
_INSUFFICIENT = V.INSUFFICIENT_DATA + ":"


EntryBuilder = Callable[[Value, Mapping[str, Any]], dict[str, Any]]
Step = Callable[[Context, dict[str, Any], dict[str, str], dict[str, Any]], None]


def _entry_builder(cid: str, label: str, fields: tuple[str, ...]) -> EntryBuilder:
    """Explanation entry {id, label, status, inputs}; specialised by field count for speed."""
    if len(fields) == 1:
        (f0,) = fields

        def one(result: Value, shown: Mapping[str, Any]) -> dict[str, Any]:
            return {"id": cid, "label": label, "status": _STATUS[result], "inputs": {f0: shown[f0]}}

        return one
    if len(fields) == 2:
        f0, f1 = fields

        def two(result: Value, shown: Mapping[str, Any]) -> dict[str, Any]:
            inputs = {f0: shown[f0], f1: shown[f1]}
            return {"id": cid, "label": label, "status": _STATUS[result], "inputs": inputs}

        return two

    def many(result: Value, shown: Mapping[str, Any]) -> dict[str, Any]:
        inputs = {f: shown[f] for f in fields}
        return {"id": cid, "label": label, "status": _STATUS[result], "inputs": inputs}

    return many


@dataclass(frozen=True, slots=True)
class _Criterion:
    id: str
    label: str
    node: _Node
    field: str | None  # explicit field named when unknown; else the node's blame
    entry: EntryBuilder

    def named(self, ctx: Context, shown: Mapping[str, Any]) -> str:
        return self.field or self.node.blame(ctx, shown)


def _criterion(cid: str, label: str, expr: Mapping[str, Any], field: str | None) -> _Criterion:
    node = _compile(expr)
    return _Criterion(cid, label, node, field, _entry_builder(cid, label, _shown_fields(node)))


def _compile_rule(definition: Mapping[str, Any]) -> Step:
    """Compile one scored rule to a step ``(ctx, shown, values, rules) -> None`` that stores
    the rule's value in ``values[id]`` and ``{"value", "criteria"}`` in ``rules[id]``.

    Population unknown or false -> not applicable (C2), with only the population entry. With
    criteria: every criterion is evaluated; any known-false -> the failure value (C3), else the
    first unknown in listed order -> insufficient_data:<field>, else the positive value (§2.5
    criterion convention). A switch maps its test's true/false/unknown result to a value;
    "insufficient_data" there names the switch's field. Without either, population true ->
    the positive value.
    """
    rule_id = definition["id"]
    pop = _criterion("population", definition["population_text"], definition["population"], None)
    pop_fn, pop_entry = pop.node.fn, pop.entry
    positive, failure = definition.get("positive"), definition.get("failure")

    if definition.get("criteria"):
        criteria = tuple(
            _criterion(c["id"], c["label"], c["test"], c.get("field"))
            for c in definition["criteria"]
        )
        parts = tuple((c.node.fn, c.entry, c) for c in criteria)

        def run_criteria(ctx: Context, shown: Mapping[str, Any], values: dict, rules: dict) -> None:
            p = pop_fn(ctx)
            entries = [pop_entry(p, shown)]
            if p is not True:
                values[rule_id] = _NA
                rules[rule_id] = {"value": _NA, "criteria": entries}
                return
            failed = False
            unknown = None
            for fn, entry, criterion in parts:
                r = fn(ctx)
                entries.append(entry(r, shown))
                if r is False:
                    failed = True
                elif r is None and unknown is None:
                    unknown = criterion
            if failed:
                value = failure
            elif unknown is not None:
                value = _INSUFFICIENT + unknown.named(ctx, shown)
            else:
                value = positive
            values[rule_id] = value
            rules[rule_id] = {"value": value, "criteria": entries}

        return run_criteria

    if definition.get("switch"):
        s = definition["switch"]
        test = _criterion(s["id"], s["label"] or s["id"], s["test"], s.get("field"))
        test_fn, test_entry = test.node.fn, test.entry
        outcomes = {True: s["true"], False: s["false"], None: s["unknown"]}

        def run_switch(ctx: Context, shown: Mapping[str, Any], values: dict, rules: dict) -> None:
            p = pop_fn(ctx)
            entries = [pop_entry(p, shown)]
            if p is not True:
                value = _NA
            else:
                r = test_fn(ctx)
                entries.append(test_entry(r, shown))
                value = outcomes[r]
                if value == V.INSUFFICIENT_DATA:
                    value = _INSUFFICIENT + test.named(ctx, shown)
            values[rule_id] = value
            rules[rule_id] = {"value": value, "criteria": entries}

        return run_switch

    def run_population(ctx: Context, shown: Mapping[str, Any], values: dict, rules: dict) -> None:
        p = pop_fn(ctx)
        value = positive if p is True else _NA
        values[rule_id] = value
        rules[rule_id] = {"value": value, "criteria": [pop_entry(p, shown)]}

    return run_population


# ---------------------------------------------------------------------------------------------
# Rule outcomes and overall status: code, citing §2.5 (end) and §2.6.

_ETR_RULES = V.OUTCOME_DEPENDENCIES["etr_candidate"]
_DEVICE_RULE = "DEV-IFU-CONTRA"
_PREGNANCY_RULE = "PRACTICE-PREGNANCY-DEFER"
_NIVL_ASX = "ESVS-2022-CVD-NIVL-ASX"
_CIRSE = "CIRSE-2014-ICS"
_CIVO_05 = "SIR-2023-CIVO-05"
# stent_pathway_active's indication rules and the values that count as "fired" (§2.5): the
# chronic ones (those §2.7 S2 lists) and the stent after thrombus removal.
_CHRONIC_INDICATIONS: tuple[tuple[str, frozenset[str]], ...] = (
    ("SVSAVF-2014-VLU-6.8", frozenset({"recommend"})),
    ("ESVS-2015-CVD-STENT", frozenset({"consider"})),
    ("ESVS-2022-CVD-STENT", frozenset({"consider"})),
    (_CIRSE, frozenset({"consider"})),
    (_CIVO_05, frozenset({"consider"})),
)
_STENT_INDICATIONS = (
    *_CHRONIC_INDICATIONS,
    ("SVSAVF-2012-ETR-05", frozenset({"recommend", "consider"})),
)
_FIRED = frozenset({"recommend", "consider"})


def _etr_candidate(values: Mapping[str, str]) -> bool:
    """§2.5: any of SVSAVF-2012-ETR-03, SVSAVF-2012-ETR-04, ESVS-2021-VT-ETR,
    SIR-2023-AIDVT-SEL is recommend or consider."""
    return any(values.get(rule) in _FIRED for rule in _ETR_RULES)


def _device_contraindicated(values: Mapping[str, str]) -> bool:
    """§2.5 rule 18: DEV-IFU-CONTRA = against."""
    return values.get(_DEVICE_RULE) == "against"


def _pregnancy_deferred(values: Mapping[str, str]) -> bool:
    """§2.7 S2: PRACTICE-PREGNANCY-DEFER = against."""
    return values.get(_PREGNANCY_RULE) == "against"


def _fired(values: Mapping[str, str], indications: tuple[tuple[str, frozenset[str]], ...]) -> bool:
    """Any of ``indications`` fired. §2.7 S3: while ESVS-2022-CVD-NIVL-ASX (the newer,
    entity-specific class III) is against, CIRSE-2014-ICS does not count (its card still says
    consider)."""
    asymptomatic_nivl = values.get(_NIVL_ASX) == "against"
    return any(
        values.get(rule) in fired
        for rule, fired in indications
        if not (asymptomatic_nivl and rule == _CIRSE)
    )


def _stent_indication_fired(values: Mapping[str, str]) -> bool:
    """Any stent indication rule fired, ignoring the device and pregnancy conditions (§2.5
    overall, 1)."""
    return _fired(values, _STENT_INDICATIONS)


def _stent_pathway_active(values: Mapping[str, str]) -> bool:
    """§2.5 with §2.7 S2/S3: (SVSAVF-2014-VLU-6.8 = recommend or ESVS-2015-CVD-STENT = consider
    or ESVS-2022-CVD-STENT = consider or CIRSE-2014-ICS = consider unless
    ESVS-2022-CVD-NIVL-ASX = against, or SIR-2023-CIVO-05 = consider or SVSAVF-2012-ETR-05 ∈
    {recommend, consider}) and DEV-IFU-CONTRA ≠ against and PRACTICE-PREGNANCY-DEFER ≠
    against."""
    return (
        _stent_indication_fired(values)
        and not _device_contraindicated(values)
        and not _pregnancy_deferred(values)
    )


_OUTCOMES: dict[str, Callable[[Mapping[str, str]], bool]] = {
    "etr_candidate": _etr_candidate,
    "device_contraindicated": _device_contraindicated,
    "stent_pathway_active": _stent_pathway_active,
}


def _outcome_step(name: str) -> Step:
    compute = _OUTCOMES[name]

    def step(
        ctx: Context, shown: dict[str, Any], values: dict[str, str], rules: dict[str, Any]
    ) -> None:
        ctx[name] = shown[name] = compute(values)

    return step


def _overall(values: Mapping[str, str], ctx: Context, insufficient: bool) -> str:
    """Overall case status, first match wins (§2.5 "Overall case status", §2.6 C15, §2.7).

    1. contraindicated_defer: DEV-IFU-CONTRA = against and an indication fired (a stent
       indication rule, ignoring the device condition, or etr_candidate);
    1b. contraindicated_defer: PRACTICE-PREGNANCY-DEFER = against and a chronic stent
       indication fired (S2; CIRSE not while an asymptomatic NIVL, S3);
    2. insufficient_data: any scored rule returned insufficient_data:<field>;
    3. etr_candidate; 4. stent_conflict: stent pathway active and SIR-2023-CIVO-05 = against
       or ESVS-2022-CVD-NIVL-ASX = against (S3); 5. stent_indicated;
    6. anticoagulation_only: acute thrombotic without ETR; 7. conservative.
    """
    etr = ctx["etr_candidate"]
    if ctx["device_contraindicated"] and (etr or _stent_indication_fired(values)):
        return "contraindicated_defer"
    if _pregnancy_deferred(values) and _fired(values, _CHRONIC_INDICATIONS):
        return "contraindicated_defer"
    if insufficient:
        return "insufficient_data"
    if etr:
        return "etr_candidate"
    if ctx["stent_pathway_active"]:
        against = values.get(_CIVO_05) == "against" or values.get(_NIVL_ASX) == "against"
        return "stent_conflict" if against else "stent_indicated"
    if ctx["acute"] is True:
        return "anticoagulation_only"
    return "conservative"


class RuleSet:
    """A validated, compiled, immutable rule set; compile once and reuse.

    ``version`` is an opaque string chosen by the loader (a file hash or a published DB rule
    set number); ``definitions`` are the validated definitions (scored and info) as dicts.
    """

    __slots__ = ("_sources", "_steps", "definitions", "scored_ids", "version")
    version: str
    definitions: tuple[dict[str, Any], ...]
    scored_ids: tuple[str, ...]  # in evaluation order
    _sources: dict[str, Any]
    _steps: tuple[Step, ...]

    def __init__(
        self,
        *,
        version: str,
        definitions: tuple[dict[str, Any], ...],
        sources: Mapping[str, Any],
        steps: tuple[Step, ...],
        scored_ids: tuple[str, ...],
    ) -> None:
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "definitions", definitions)
        object.__setattr__(self, "_sources", dict(sources))
        object.__setattr__(self, "_steps", steps)
        object.__setattr__(self, "scored_ids", scored_ids)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("RuleSet is immutable")

    @property
    def sources(self) -> dict[str, Any]:
        """Source records (sources.json) keyed as the definitions' ``source``."""
        return dict(self._sources)

    def definition(self, rule_id: str) -> dict[str, Any]:
        """The validated definition with this id; KeyError when the set has none."""
        for definition in self.definitions:
            if definition["id"] == rule_id:
                return definition
        raise KeyError(rule_id)

    def __repr__(self) -> str:
        return f"<RuleSet {self.version} ({len(self.scored_ids)} scored rules)>"


def _load_sources() -> dict[str, Any]:
    return json.loads((RULES_DIR / "sources.json").read_text(encoding="utf-8"))


def compile_ruleset(
    definitions: list[dict[str, Any]],
    *,
    version: str = "files",
    sources: Mapping[str, Any] | None = None,
) -> RuleSet:
    """Validate (schema.py) and compile a list of rule definitions.

    ``sources`` is the sources.json mapping; by default the one in ``guidelines/rules/``.
    Raises RuleSetError (a ValueError) listing every problem, including dependency cycles.
    """
    raw_sources = _load_sources() if sources is None else sources
    checked_sources = validate_sources(raw_sources)
    validated = validate_ruleset(definitions, sources=checked_sources)
    by_id = {d["id"]: d for d in validated}
    order = evaluation_order(validated)
    steps = [
        _compile_rule(by_id[name]) if kind == "rule" else _outcome_step(name)
        for kind, name in order
    ]
    return RuleSet(
        version=version,
        definitions=tuple(validated),
        sources={k: v.model_dump() for k, v in checked_sources.items()},
        steps=tuple(steps),
        scored_ids=tuple(name for kind, name in order if kind == "rule"),
    )


def load_rule_files(directory: Path = RULES_DIR) -> list[dict[str, Any]]:
    """All rule definitions from ``*.json`` in ``directory`` (sources.json excluded), in file
    name order."""
    definitions: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.json")):
        if path.name != "sources.json":
            definitions += json.loads(path.read_text(encoding="utf-8"))
    return definitions


@functools.cache
def default_ruleset() -> RuleSet:
    """The rule files shipped in ``guidelines/rules/``, compiled once per process.

    The version is "files:" plus a hash of the files' contents.
    """
    digest = hashlib.sha256()
    for path in sorted(RULES_DIR.glob("*.json")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return compile_ruleset(load_rule_files(), version=f"files:{digest.hexdigest()[:12]}")


# =============================================================================================
# 5. Evaluation

_DEFAULT_OPTIONS = EngineOptions()


def _evaluate_rules(
    ruleset: RuleSet, ctx: Context, shown: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[str]]:
    """Run the rule set's steps (rules and outcomes in dependency order)."""
    rules: dict[str, dict[str, Any]] = {}
    values: dict[str, str] = {}
    for step in ruleset._steps:
        step(ctx, shown, values, rules)
    cut = len(_INSUFFICIENT)
    missing = sorted({v[cut:] for v in values.values() if v[0] == "i"})
    return rules, values, missing


def evaluate(
    facts: object,
    ruleset: RuleSet | None = None,
    options: EngineOptions = _DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """Evaluate one case; returns the §2.6 contract.

    Keys: overall, cdt_contraindication, rules (every scored rule: value and criteria, the
    population first), derived, planning, follow_up_entity, and ``missing`` (sorted fields
    named by insufficient_data values; a UI convenience). Never raises for a JSON value.
    """
    if ruleset is None:
        ruleset = default_ruleset()
    facts_n = normalise_facts(facts)
    ctx = _context(facts_n, options.severe_threshold)
    shown = dict(facts_n)
    rules, values, missing = _evaluate_rules(ruleset, ctx, shown)
    overall = _overall(values, ctx, bool(missing))
    acute = ctx["acute"]
    klass = ctx["contraindication_class"]
    clinical = None if facts_n["ceap"] is None else _ceap_clinical(facts_n["ceap"])
    planning = follow_up = None
    if overall in V.PLANNING_STATUSES:
        planning, follow_up = plan(
            lesion_entity=facts_n["lesion_entity"],
            segments=ctx["segments_involved"],
            side=facts_n["side"],
            stent_pathway_active=ctx["stent_pathway_active"],
        )
    return {
        "overall": overall,
        # C12: acute -> none | relative | absolute, or unknown; null for non-acute cases.
        "cdt_contraindication": (klass or "unknown") if acute is True else None,
        "rules": rules,
        "derived": {
            "dvt_phase": ctx["dvt_phase"],
            "iliofemoral": ctx["iliofemoral"],
            "iliocaval": ctx["iliocaval"],
            "femoropopliteal_only": ctx["femoropopliteal_only"],
            "proximal": ctx["proximal"],
            "c_classes": None if clinical is None else list(clinical[0]),
            "symptomatic": ctx["symptomatic"],
            "clinically_relevant": ctx["clinically_relevant"],
            "significant_obstruction": ctx["significant_obstruction"],
            "bleeding_ok": ctx["bleeding_ok"],
            "contraindication_class": klass,
            "anticoagulation_contraindicated": ctx["anticoagulation_contraindicated"],
            "stent_thrombosis_risk": ctx["stent_thrombosis_risk"],
            "etr_candidate": ctx["etr_candidate"],
            "stent_pathway_active": ctx["stent_pathway_active"],
            "device_contraindicated": ctx["device_contraindicated"],
        },
        "planning": planning,
        "follow_up_entity": follow_up,
        "missing": missing,
    }


def evaluate_with_warnings(
    facts: object,
    ruleset: RuleSet | None = None,
    options: EngineOptions = _DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """What the evaluate API and command answer for a posted document: :func:`evaluate` and
    ``warnings``, the values it ignored (:func:`facts_warnings`; empty for a clean one)."""
    return {**evaluate(facts, ruleset, options), "warnings": facts_warnings(facts)}


def evaluate_rule(
    definition: dict[str, Any],
    facts: dict[str, Any],
    *,
    context: dict[str, Any] | None = None,
    options: EngineOptions = _DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """One scored rule's ``{"value", "criteria"}`` for ``facts`` (admin "run test case").

    ``definition`` is validated first (RuleSetError when invalid or an info rule). Rule
    outcomes the rule reads (etr_candidate, device_contraindicated, stent_pathway_active) come
    from ``context`` when given there, else from evaluating ``facts`` with the default rule set.
    """
    checked = validate_definition(definition).model_dump(by_alias=True)
    if checked["engine"] != "scored":
        raise RuleSetError(["engine: info rules are not evaluated"])
    facts_n = normalise_facts(facts)
    ctx = _context(facts_n, options.severe_threshold)
    shown = dict(facts_n)
    outcomes = dict(context or {})
    if any(name not in outcomes for name in V.OUTCOME_INPUTS):
        derived = evaluate(facts, default_ruleset(), options)["derived"]
        outcomes = {name: outcomes.get(name, derived[name]) for name in V.OUTCOME_INPUTS}
    for name in V.OUTCOME_INPUTS:
        ctx[name] = shown[name] = _bool(outcomes[name])
    values: dict[str, str] = {}
    rules: dict[str, Any] = {}
    _compile_rule(checked)(ctx, shown, values, rules)
    return rules[checked["id"]]
