"""Guideline engine: case facts in, the evaluation contract out (docs/evaluation.md).

Pure Python (no Django, no ORM). The rules are data (``guidelines/rules/*.json``, validated by
``guidelines/schema.py``); this module

1. normalises a facts document (docs/evaluation.md#not-recorded): anything not recorded or
   outside the vocabulary of ``guidelines/vocabulary.py`` becomes ``None`` (unknown), and
   :func:`facts_warnings` says which values were ignored that way, and why;
2. derives the values the rules read (acute, iliofemoral, femoropopliteal only, c_classes,
   symptomatic, ...) with three-valued (Kleene) logic (docs/evaluation.md#three-valued-logic);
3. evaluates every scored rule: populations (docs/evaluation.md#populations) and criteria
   (docs/evaluation.md#criteria);
4. computes, as code, the three rule outcomes that later rules and the overall status read
   (`etr_candidate`, `device_contraindicated`, `stent_pathway_active`), the overall status
   and, through ``guidelines/planning_block.py``, the planning block.

:func:`compile_ruleset` compiles a rule set once into one Python function that evaluates
every rule and writes its explanation (section 3); an evaluation then costs about 20 µs on
one core (``bench/engine.py``). The engine never raises for a JSON facts value.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any

from cases import thrombolysis
from cases.ceap import CeapError, parse_clinical, threshold_classes
from guidelines import vocabulary as V
from guidelines.planning_block import plan
from guidelines.schema import (
    RuleSetError,
    evaluation_order,
    validate_definition,
    validate_ruleset,
    validate_sources,
)

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
# semantics. 2: the safety rules (docs/safety.md: effective contraindication class, pregnancy
# deferral, asymptomatic NIVL, anticoagulation contraindication).
ENGINE_VERSION = 2

Value = bool | None  # three-valued truth: True / False / None (unknown)


@dataclass(frozen=True)
class EngineOptions:
    """Evaluation options that are not case facts.

    severe_threshold: IVUS area reduction (%) from which a stenosis counts as significant
    (default 50; VIDIO's data-driven threshold was about 61 %, provisional; see
    docs/evaluation.md#compound-facts).
    """

    severe_threshold: float = 50.0

    def __post_init__(self) -> None:
        value = self.severe_threshold
        if type(value) not in (int, float) or not 0 < value <= 100:
            raise ValueError("severe_threshold must be a number in (0, 100]")


# =============================================================================================
# 1. Normalisation (docs/evaluation.md#not-recorded)


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
                number = float(value.strip().removesuffix("%").strip())
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
        return value
    return None


_SEGMENT_BY_FOLD = {code.lower(): code for code in V.CEAP_SEGMENTS}
_SEGMENT_RANK = {code: rank for rank, code in enumerate(V.CEAP_SEGMENTS)}


def _segments(value: object) -> list[str] | None:
    """Known CEAP 2020 segment abbreviations in anatomic order; unknown codes are dropped and an
    empty result is "not recorded" (docs/evaluation.md#not-recorded)."""
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
    recorded" (docs/evaluation.md#ceap-classes). Threshold reading: C2r counts as C2 and C6r as
    C6, the written class stays testable too.
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
        kind = value.get("type")
        area = value.get("area_reduction_pct")
        diameter = value.get("diameter_reduction_pct")
        # An absent part is not recorded: no normaliser call for it (evaluations are hot).
        kind = None if kind is None else _obstruction_type(kind)
        area = None if area is None else _percent(area)
        diameter = None if diameter is None else _percent(diameter)
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
    if not items:
        return None
    found = set()
    for item in items:
        if isinstance(item, str):
            code = item.strip().lower()
            if code in _FACTOR_RANK:
                found.add(code)
    return sorted(found, key=_FACTOR_RANK.__getitem__) if found else None


def _bleeding_risk(value: object) -> dict[str, Any] | None:
    """{level, contraindication_class, factors}; a bare "low"/"high" string is the level."""
    if isinstance(value, dict):
        level = value.get("level")
        klass = value.get("contraindication_class")
        factors = value.get("factors")
        level = None if level is None else _risk_level(level)
        klass = None if klass is None else _contraindication_class(klass)
        factors = _factors(factors) if factors else None  # [] ticks nothing either
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


def _known_texts(field: V.FactField) -> dict[str, Any]:
    """The texts a yes/no or coded field reads without its normaliser: true/false, the codes
    (immutable values only: a result is never shared between evaluations)."""
    texts = {"bool": ("true", "false"), "enum": field.values}.get(field.kind, ())
    return {text: _NORMALISERS[field.name](text) for text in texts}


# Shortcuts that give what the normaliser gives and only spare a call for the commonest
# values: per field, the texts it reads without its normaliser; the yes/no fields, which read
# true and false as themselves (any other field reads a boolean as not recorded).
_TEXTS = {name: _known_texts(field) for name, field in V.FACT_FIELDS.items()}
_YES_NO = frozenset(name for name, field in V.FACT_FIELDS.items() if field.kind == "bool")


def normalise_facts(facts: object) -> dict[str, Any]:
    """Every facts field, normalised, with None for "not recorded"
    (docs/evaluation.md#not-recorded).

    Not recorded = key absent, null, "", "unknown", or a value outside the vocabulary.
    Booleans accept true/false and the strings "true"/"false"; enum values are matched
    case-insensitively; numbers accept int/float and numeric strings (never booleans);
    out-of-range numbers are not recorded. Unknown keys are ignored; a non-object document is
    treated as empty facts. The result is JSON-serialisable.
    """
    result = _NOTHING_RECORDED.copy()
    if type(facts) is not dict and not isinstance(facts, Mapping):
        return result
    normalisers = _NORMALISERS
    for name, raw in facts.items():
        kind = type(raw)  # exact types: a str subclass goes to the normaliser
        if kind is str:
            texts = _TEXTS.get(name)
            if texts is not None:
                result[name] = texts[raw] if raw in texts else normalisers[name](raw)
        elif kind is bool:
            if name in normalisers:
                result[name] = raw if name in _YES_NO else None
        elif raw is not None and name in normalisers:
            result[name] = normalisers[name](raw)
    return result


# ---------------------------------------------------------------------------------------------
# Warnings: what normalisation ignored, and why. Not part of the evaluation contract, where such
# a value simply is not recorded (docs/evaluation.md#not-recorded); the evaluate API and command
# report them next to it.

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
    """Not recorded on purpose (docs/evaluation.md#not-recorded): null, an empty text or
    "unknown"."""
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
# 2. Derived values

_STENTABLE = frozenset(V.STENTABLE_SEGMENTS)
# Entity defaults of the stent thrombosis risk (docs/evaluation.md#stent-thrombosis-risk): high
# for post-thrombotic, IVC occlusion and atresia; NIVL low unless thrombophilia. No rule reads it
# for acute thrombotic lesions; stents placed for thrombotic disease fail early far more often
# (13.2 % vs 2.8 % of limbs occluded within 6 months, stent surveillance registry,
# docs/README.md#sources), so the derived value reports "high" for them too.
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


@functools.lru_cache(maxsize=4096)
def _anatomy(
    acute: Value, segments: tuple[str, ...] | None
) -> tuple[frozenset[str] | None, Value, Value, Value, Value]:
    """(set of segments, iliofemoral, iliocaval, femoropopliteal only, proximal) for ACUTE and
    the normalised segments (few combinations: cached).

    docs/evaluation.md#segment-sets: IF = ACUTE ∧ segments ∩ {CIV, EIV, CFV} ≠ ∅ (iliocaval
    if IVC also present); FP_only = ACUTE ∧ segments ∩ STENTABLE = ∅ ∧ segments ∩ {FV, POPV} ≠ ∅;
    proximal = IF or FP_only.
    """
    if segments is None:
        involved = iliac = ivc = elsewhere = femoropopliteal = None
    else:
        involved = frozenset(segments)
        iliac = not involved.isdisjoint(V.ILIOFEMORAL_SEGMENTS)
        ivc = "IVC" in involved
        elsewhere = involved.isdisjoint(_STENTABLE)
        femoropopliteal = not involved.isdisjoint(V.FEMOROPOPLITEAL_SEGMENTS)
    iliofemoral = _and(acute, iliac)
    fp_only = _and(acute, _and(elsewhere, femoropopliteal))
    return involved, iliofemoral, _and(iliofemoral, ivc), fp_only, _or(iliofemoral, fp_only)


@functools.lru_cache(maxsize=4096)
def _symptoms(
    ceap: str | None, claudication: Value, qol: str | None
) -> tuple[tuple[str, ...] | None, frozenset[str] | None, Value, Value, Value]:
    """(CEAP classes as written, as thresholds read them, symptomatic by CEAP, symptomatic,
    clinically relevant) for the normalised CEAP, venous claudication and QoL impairment (few
    combinations: cached).

    docs/evaluation.md#symptoms: symptomatic = CEAP subscript s, or venous claudication, or QoL
    impairment moderate or severe; clinically relevant = C3 or worse, or either of the other
    two.
    """
    clinical = None if ceap is None else _ceap_clinical(ceap)
    if clinical is None:
        written = c_classes = c3 = ceap_s = None
    else:
        written, c_classes, subscript = clinical
        c3 = not c_classes.isdisjoint(V.CEAP_C3_OR_WORSE)
        ceap_s = subscript is True  # no subscript is not symptomatic by CEAP
    qol_relevant = None if qol is None else qol in _MODERATE_OR_SEVERE
    symptomatic = _or(_or(ceap_s, claudication), qol_relevant)
    relevant = _or(_or(c3, claudication), qol_relevant)
    return written, c_classes, ceap_s, symptomatic, relevant


@functools.lru_cache(maxsize=4096)
def _bleeding(
    level: str | None, recorded: str | None, factors: tuple[str, ...] | None, pregnancy: Value
) -> tuple[str | None, Value, bool, frozenset[str] | None]:
    """(effective contraindication class, bleeding_ok, anticoagulation contraindicated, set of
    ticked factors) for the normalised bleeding risk and pregnancy (few combinations: cached).
    """
    # docs/safety.md#one-contraindication-class: the most severe of the recorded class, the
    # ticks' class and "relative" for a pregnant patient; unknown only when none of the three
    # says anything.
    klass = thrombolysis.effective_class(recorded=recorded, factors=factors, pregnancy=pregnancy)
    # docs/evaluation.md#compound-facts: false if level high or class relative/absolute; true
    # if low and none; else unknown.
    bleeding_ok = _and(
        None if level is None else level == "low", None if klass is None else klass == "none"
    )
    # docs/safety.md#anticoagulation-contraindicated: a ticked item is known; an unticked or
    # unrecorded one is not a contraindication.
    anticoagulation = factors is not None and V.ANTICOAGULATION_CONTRAINDICATED in factors
    return klass, bleeding_ok, anticoagulation, None if factors is None else frozenset(factors)


# Inputs a rule reads from the normalised facts as they are; the rule outcomes come from the
# derived block (see below); every other input is a value of _DERIVED_INPUTS.
_FACT_INPUTS = frozenset(
    name
    for name, spec in V.INPUTS.items()
    if spec.origin == "fact" and name in V.FACT_FIELDS and spec.kind != "set"
)
# The inputs :func:`_derive` computes, in the order it gives their values: the derived values
# of docs/evaluation.md, the set of segments, the parts of the compound facts and the effective
# stent thrombosis risk. A tuple, not a dict: an evaluation reads them once, by position.
_DERIVED_INPUTS = (
    "acute",
    "chronic",
    "segments_involved",
    "iliofemoral",
    "iliocaval",
    "femoropopliteal_only",
    "proximal",
    "c_classes",
    "ceap_symptomatic",
    "symptomatic",
    "clinically_relevant",
    "obstruction.type",
    "obstruction.area_reduction_pct",
    "obstruction.diameter_reduction_pct",
    "significant_obstruction",
    "bleeding_risk.level",
    "bleeding_risk.contraindication_class",
    "bleeding_risk.factors",
    "contraindication_class",
    "anticoagulation_contraindicated",
    "bleeding_ok",
    "stent_thrombosis_risk",
    "dvt_phase",
)
_ACUTE = _DERIVED_INPUTS.index("acute")
_SEGMENTS = _DERIVED_INPUTS.index("segments_involved")
# The contract's derived block (docs/evaluation.md#evaluation-contract), in its order; the
# rules set the three rule outcomes.
_DERIVED_BLOCK = dict.fromkeys(
    (
        "dvt_phase",
        "iliofemoral",
        "iliocaval",
        "femoropopliteal_only",
        "proximal",
        "c_classes",
        "symptomatic",
        "clinically_relevant",
        "significant_obstruction",
        "bleeding_ok",
        "contraindication_class",
        "anticoagulation_contraindicated",
        "stent_thrombosis_risk",
        "etr_candidate",
        "stent_pathway_active",
        "device_contraindicated",
    )
)


def _derive(facts: Mapping[str, Any], threshold: float) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The values of :data:`_DERIVED_INPUTS` for normalised ``facts``, in that order, and the
    derived block of the contract, whose rule outcomes are left for the rules to set.

    Three-valued: None is unknown. Set-valued inputs are frozensets; compound facts are split
    into dotted sub-inputs.
    """
    entity = facts["lesion_entity"]
    if entity is None:
        acute = chronic = None
    else:
        acute = entity == V.ACUTE_ENTITY
        chronic = entity in V.CHRONIC_ENTITIES

    segment_list = facts["segments_involved"]
    segments, iliofemoral, iliocaval, fp_only, proximal = _anatomy(
        acute, None if segment_list is None else tuple(segment_list)
    )

    written, c_classes, ceap_s, symptomatic, relevant = _symptoms(
        facts["ceap"], facts["venous_claudication"], facts["qol_impairment"]
    )

    obstruction = facts["obstruction"]
    if obstruction is None:
        kind = area = diameter = None
    else:
        kind = obstruction["type"]
        area = obstruction["area_reduction_pct"]
        diameter = obstruction["diameter_reduction_pct"]
    # docs/evaluation.md#compound-facts: occlusion whatever the area; area >= threshold;
    # recorded stenosis below -> false.
    if kind == "occlusion" or (area is not None and area >= threshold):
        significant: Value = True
    elif kind == "stenosis" and area is not None:
        significant = False
    else:
        significant = None

    bleeding = facts["bleeding_risk"]
    if bleeding is None:
        level = recorded_class = factors = None
    else:
        level = bleeding["level"]
        recorded_class = bleeding["contraindication_class"]
        factors = bleeding["factors"]
    klass, bleeding_ok, anticoagulation, factor_set = _bleeding(
        level, recorded_class, None if factors is None else tuple(factors), facts["pregnancy"]
    )

    # docs/evaluation.md#stent-thrombosis-risk: a recorded risk overrides the entity default.
    risk = facts["stent_thrombosis_risk"]
    if risk is None and entity is not None:
        if entity == "nivl":
            risk = "high" if facts["thrombophilia"] is True else "low"
        elif entity in _HIGH_RISK_DEFAULT:
            risk = "high"

    onset = facts["symptom_onset_days"]
    # docs/evaluation.md#day-14-and-other-thresholds: acute <= 14 d, subacute 15-28 d,
    # chronic > 28 d; never reclassifies the entity.
    if onset is None:
        phase = None
    else:
        phase = "acute" if onset <= 14 else "subacute" if onset <= 28 else "chronic"

    inputs = (
        acute,
        chronic,
        segments,
        iliofemoral,
        iliocaval,
        fp_only,
        proximal,
        c_classes,
        ceap_s,
        symptomatic,
        relevant,
        kind,
        area,
        diameter,
        significant,
        level,
        recorded_class,
        factor_set,
        klass,
        anticoagulation,
        bleeding_ok,
        risk,
        phase,
    )
    block = _DERIVED_BLOCK.copy()  # a copy filled in costs less than a dict built
    block["dvt_phase"] = phase
    block["iliofemoral"] = iliofemoral
    block["iliocaval"] = iliocaval
    block["femoropopliteal_only"] = fp_only
    block["proximal"] = proximal
    block["c_classes"] = None if written is None else list(written)
    block["symptomatic"] = symptomatic
    block["clinically_relevant"] = relevant
    block["significant_obstruction"] = significant
    block["bleeding_ok"] = bleeding_ok
    block["contraindication_class"] = klass
    block["anticoagulation_contraindicated"] = anticoagulation
    block["stent_thrombosis_risk"] = risk
    return inputs, block


# =============================================================================================
# 3. Rule-set compiler
#
# A rule set is compiled once (ruleset.py keeps the published one per version) into a single
# Python function, as dataclasses and namedtuple build their methods: every rule's population,
# criteria, value and explanation entries become straight-line code over local variables. An
# evaluation then makes a handful of calls instead of one per expression node and entry.
#
# The source holds only names this compiler makes up, the vocabulary's field and input names,
# the operators and the contract's own words; everything a definition brings (rule ids,
# labels, compared values) is bound as a constant, never written into the source.

Program = Callable[
    [tuple[Any, ...], dict[str, Any], dict[str, Any]],
    tuple[dict[str, Any], dict[str, str], list[str]],
]

_STATUS = {True: "met", False: "unmet", None: "unknown"}
_NA = "not_applicable"
_INSUFFICIENT = V.INSUFFICIENT_DATA + ":"

# Leaf tests on a recorded value v (an unrecorded one is unknown whatever the test), against
# the compared value c: a frozenset for the list operators.
_TESTS = {
    "is_false": "not {v}",
    "eq": "{v} == {c}",
    "ne": "{v} != {c}",
    "lt": "{v} < {c}",
    "lte": "{v} <= {c}",
    "gt": "{v} > {c}",
    "gte": "{v} >= {c}",
    "in": "{v} in {c}",
    "not_in": "{v} not in {c}",
    "contains_any": "not {c}.isdisjoint({v})",
    "contains_none": "{c}.isdisjoint({v})",
    "contains_all": "{c} <= {v}",
}
_LIST_OPS = frozenset({"in", "not_in", "contains_any", "contains_none", "contains_all"})
_VOCABULARY_NAMES = frozenset(V.INPUTS) | frozenset(V.FACT_FIELDS)


def _name(text: str) -> str:
    """A vocabulary name as a literal of the generated source."""
    if text not in _VOCABULARY_NAMES:  # pragma: no cover - the schema admits no other name
        raise RuleSetError([f"unknown input {text!r}"])
    return repr(text)


@dataclass(frozen=True, slots=True)
class _Value:
    """A compiled expression: the local variable holding its three-valued result.

    ``fields`` (leaves): the case fields named by ``insufficient_data:<field>`` when it is
    unknown; ``shown``: the fields shown next to its result, in first-use order.
    """

    local: str
    children: tuple[_Value, ...]
    fields: tuple[str, ...]
    shown: tuple[str, ...]


class _Source:
    """The source of one program, its constants, and the values already computed in the
    current branch (an expression several rules test is computed once)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.reads: list[str] = []
        self.derived: dict[int, str] = {}  # position in _DERIVED_INPUTS -> local
        self.constants: dict[str, object] = {}
        self._constant_names: dict[tuple[str, str], str] = {}
        self._known: list[dict[tuple[str, ...], _Value]] = [{}]
        self._indent = 1
        self._locals = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self._indent + text)

    def local(self) -> str:
        self._locals += 1
        return f"t{self._locals}"

    def constant(self, value: object) -> str:
        key = (type(value).__name__, repr(value))
        name = self._constant_names.get(key)
        if name is None:
            name = self._constant_names[key] = f"k{len(self.constants)}"
            self.constants[name] = value
        return name

    def known(self, key: tuple[str, ...]) -> _Value | None:
        return next((scope[key] for scope in reversed(self._known) if key in scope), None)

    def remember(self, key: tuple[str, ...], value: _Value) -> _Value:
        self._known[-1][key] = value
        return value

    def branch(self, condition: str) -> None:
        self.line(f"{condition}:")
        self._indent += 1
        self._known.append({})

    def end_branch(self) -> None:
        self._indent -= 1
        self._known.pop()

    def read(self, table: str, name: str) -> str:
        """A local holding ``name`` of ``facts`` or ``block`` (a dict) or ``derived`` (the
        tuple of _DERIVED_INPUTS), read once at the start."""
        key = (table, name)
        found = self.known(key)
        if found is None:
            local = self.local()
            if table == "derived":
                self.derived[_DERIVED_INPUTS.index(name)] = local
            else:
                self.reads.append(f"    {local} = {table}[{_name(name)}]")
            found = self._known[0][key] = _Value(local, (), (), ())
        return found.local

    def read_input(self, name: str) -> str:
        if name in _FACT_INPUTS:
            return self.read("facts", name)
        return self.read("block" if name in V.OUTCOME_INPUTS else "derived", name)

    def read_field(self, name: str) -> str:
        return self.read("block" if name in V.OUTCOME_INPUTS else "facts", name)

    def prologue(self) -> list[str]:
        """Reading what the program reads: the derived tuple is unpacked in one go."""
        lines = list(self.reads)
        if self.derived:
            names = [self.derived.get(index, "_") for index in range(len(_DERIVED_INPUTS))]
            lines.append(f"    {', '.join(names)} = derived")
        return lines

    def define(self, name: str, local: str) -> None:
        """``name`` (a rule outcome) was just stored in the block from ``local``."""
        spec = V.INPUTS[name]
        value = _Value(local, (), spec.fields, spec.fields + spec.also_shown)
        self.remember(("block", name), value)
        self.remember(("leaf", name, "is_true"), value)

    def expression(self, expr: Mapping[str, Any]) -> _Value:
        """Kleene logic over the inputs (docs/evaluation.md#three-valued-logic): AND is false if
        a part is false, else unknown if a part is unknown; OR is true if a part is true, else
        unknown if a part is unknown; NOT keeps unknown. Every part is computed: they have no
        side effects."""
        for kind in ("all", "any"):
            if kind in expr:
                children = tuple(self.expression(child) for child in expr[kind])
                if len(children) == 1:
                    (child,) = children
                    return _Value(child.local, children, (), child.shown)
                key = (kind, *(child.local for child in children))
                shown = tuple(dict.fromkeys(f for child in children for f in child.shown))
                found = self.known(key)
                if found is not None:
                    return _Value(found.local, children, (), shown)
                decisive, fallback = ("False", "True") if kind == "all" else ("True", "False")
                local = self.local()
                self.line(
                    f"{local} = {decisive} if "
                    + " or ".join(f"{child.local} is {decisive}" for child in children)
                    + " else None if "
                    + " or ".join(f"{child.local} is None" for child in children)
                    + f" else {fallback}"
                )
                return self.remember(key, _Value(local, children, (), shown))
        if "not" in expr:
            child = self.expression(expr["not"])
            key = ("not", child.local)
            found = self.known(key)
            if found is None:
                local = self.local()
                self.line(f"{local} = None if {child.local} is None else not {child.local}")
                found = self.remember(key, _Value(local, (), (), ()))
            return _Value(found.local, (child,), (), child.shown)
        spec = V.INPUTS[expr["input"]]
        op: str = expr["op"]
        compared: Any = expr.get("value")
        key = ("leaf", spec.name, op, type(compared).__name__, repr(compared))
        if op == "is_true":  # bool inputs hold True / False / None already
            key = ("leaf", spec.name, op)
        found = self.known(key)
        if found is None:
            recorded = self.read_input(spec.name)
            if op == "is_true":
                local = recorded
            else:
                value = frozenset(compared) if op in _LIST_OPS else compared
                test = _TESTS[op].format(v=recorded, c=self.constant(value))
                local = self.local()
                self.line(f"{local} = None if {recorded} is None else {test}")
            found = self.remember(key, _Value(local, (), (), ()))
        return _Value(found.local, (), spec.fields, spec.fields + spec.also_shown)

    def blame(self, value: _Value) -> str:
        """An expression (a literal or a local it sets) naming the case field an unknown
        ``value`` is unknown for: the first unrecorded source field of the leaf reached
        through the first unknown part of each AND/OR (the first part when none is), so
        "symptom_severity == severe OR phlegmasia" names the first unrecorded of
        symptom_severity, phlegmasia (docs/evaluation.md#naming-the-missing-field). Every part
        has its own statement: however deep the expression, the source nests no deeper."""
        if not value.children:
            first, *others = value.fields
            if not others:
                return _name(first)
            text = _name(first)
            for field in reversed(value.fields):
                table = "block" if field in V.OUTCOME_INPUTS else "facts"
                text = f"{_name(field)} if {table}.get({_name(field)}) is None else {text}"
        else:
            head, *rest = value.children
            names = [self.blame(child) for child in value.children]
            text = names[0]
            for child, name in reversed(list(zip(rest, names[1:], strict=True))):
                text = f"{name} if {head.local} is not None and {child.local} is None else {text}"
        local = self.local()
        self.line(f"{local} = {text}")
        return local

    def entry(self, cid: str, label: str, value: _Value) -> str:
        """Statements building the explanation entry {id, label, status, inputs} of a result
        in a local, whose name is returned.

        Copying a small dict costs about a third of building it from its items, so the entry
        is a copy of a prebuilt one for the result (met, unmet or unknown), and its inputs a
        copy of the same fields' inputs built earlier in the evaluation when there is one.
        """
        templates = self.constant(
            {
                result: {"id": cid, "label": label, "status": status, "inputs": None}
                for result, status in _STATUS.items()
            }
        )
        local = self.local()
        self.line(f"{local} = {templates}[{value.local}].copy()")
        key = ("inputs", *value.shown)
        earlier = self.known(key)
        if earlier is not None:
            self.line(f"{local}['inputs'] = {earlier.local}.copy()")
        else:
            inputs = ", ".join(f"{_name(f)}: {self.read_field(f)}" for f in value.shown)
            first = self.remember(key, _Value(self.local(), (), (), ())).local
            self.line(f"{local}['inputs'] = {first} = {{{inputs}}}")
        return local

    def insufficient(self, value: _Value, field: str | None) -> None:
        """``v`` = insufficient_data:<field>, the field also listed in ``missing``."""
        named = self.constant(field) if field else self.blame(value)
        self.line(f"missing.append({named})")
        self.line(f"v = {_INSUFFICIENT!r} + {named}")

    def rule(self, definition: Mapping[str, Any]) -> None:
        """One scored rule: ``values[id]`` and ``rules[id] = {"value", "criteria"}``.

        Population unknown or false -> not applicable (docs/evaluation.md#populations), with
        only the population entry. With criteria (docs/evaluation.md#criteria): every criterion
        is evaluated; any known-false -> the failure value, else the first unknown in listed
        order -> insufficient_data:<field>, else the positive value. A switch maps its test's
        true/false/unknown result to a value; "insufficient_data" there names the switch's
        field. Without either, population true -> the positive value.
        """
        rule_id = self.constant(definition["id"])
        population = self.expression(definition["population"])
        e = self.entry("population", definition["population_text"], population)
        positive, failure = definition.get("positive"), definition.get("failure")
        if definition.get("criteria"):
            self.branch(f"if {population.local} is not True")
            self.line(f"v = {_NA!r}")
            self.line(f"rules[{rule_id}] = {{'value': v, 'criteria': [{e}]}}")
            self.end_branch()
            self.branch("else")
            criteria = [
                (criterion, self.expression(criterion["test"]))
                for criterion in definition["criteria"]
            ]
            failed = " or ".join(f"{value.local} is False" for _, value in criteria)
            self.branch(f"if {failed}")
            self.line(f"v = {self.constant(failure)}")
            self.end_branch()
            for criterion, value in criteria:
                self.branch(f"elif {value.local} is None")
                self.insufficient(value, criterion.get("field"))
                self.end_branch()
            self.branch("else")
            self.line(f"v = {self.constant(positive)}")
            self.end_branch()
            entries = ", ".join(
                self.entry(criterion["id"], criterion["label"], value)
                for criterion, value in criteria
            )
            self.line(f"rules[{rule_id}] = {{'value': v, 'criteria': [{e}, {entries}]}}")
            self.end_branch()
        elif definition.get("switch"):
            switch = definition["switch"]
            self.branch(f"if {population.local} is not True")
            self.line(f"v = {_NA!r}")
            self.line(f"rules[{rule_id}] = {{'value': v, 'criteria': [{e}]}}")
            self.end_branch()
            self.branch("else")
            test = self.expression(switch["test"])
            outcomes = (("True", switch["true"]), ("False", switch["false"]))
            for keyword, (result, outcome) in zip(("if", "elif"), outcomes, strict=True):
                self.branch(f"{keyword} {test.local} is {result}")
                self._switch_value(outcome, test, switch.get("field"))
                self.end_branch()
            self.branch("else")
            self._switch_value(switch["unknown"], test, switch.get("field"))
            self.end_branch()
            entry = self.entry(switch["id"], switch["label"] or switch["id"], test)
            self.line(f"rules[{rule_id}] = {{'value': v, 'criteria': [{e}, {entry}]}}")
            self.end_branch()
        else:
            self.line(f"v = {self.constant(positive)} if {population.local} is True else {_NA!r}")
            self.line(f"rules[{rule_id}] = {{'value': v, 'criteria': [{e}]}}")
        self.line(f"values[{rule_id}] = v")

    def _switch_value(self, outcome: str, test: _Value, field: str | None) -> None:
        if outcome == V.INSUFFICIENT_DATA:
            self.insufficient(test, field)
        else:
            self.line(f"v = {self.constant(outcome)}")

    def outcome(self, name: str) -> None:
        """A rule outcome later rules and the overall status read (computed by code below)."""
        local = self.local()
        self.line(f"{local} = {self.constant(_OUTCOMES[name])}(values)")
        self.line(f"block[{_name(name)}] = {local}")
        self.define(name, local)


def _program(steps: Sequence[tuple[str, str]], by_id: Mapping[str, Mapping[str, Any]]) -> Program:
    """Compile ``steps`` (("rule", id) / ("outcome", name), in evaluation order) to one
    function ``(derived, facts, block) -> (rules, values, missing)`` over the results of
    :func:`_derive` and the normalised facts, which sets the rule outcomes in ``block``:
    ``rules`` the contract's rules block, ``values`` each rule's value, ``missing`` the field
    of each insufficient_data value."""
    source = _Source()
    for kind, name in steps:
        if kind == "rule":
            source.rule(by_id[name])
        else:
            source.outcome(name)
    # Both dicts start as a copy holding every rule id in evaluation order (the contract's
    # order), so filling them in never grows them.
    every_rule = source.constant(dict.fromkeys(name for kind, name in steps if kind == "rule"))
    text = "\n".join(
        [
            "def program(derived, facts, block):",
            f"    rules = {every_rule}.copy()",
            f"    values = {every_rule}.copy()",
            "    missing = []",
            *source.prologue(),
            *source.lines,
            "    return rules, values, missing",
        ]
    )
    namespace: dict[str, Any] = {"__builtins__": {}, "_STATUS": _STATUS, **source.constants}
    exec(compile(text, "<rule set>", "exec"), namespace)  # noqa: S102 - see the section header
    program: Program = namespace["program"]
    return program


# ---------------------------------------------------------------------------------------------
# Rule outcomes and overall status: code (docs/evaluation.md#rule-outcomes,
# docs/evaluation.md#overall-status).

_ETR_RULES = V.OUTCOME_DEPENDENCIES["etr_candidate"]
_DEVICE_RULE = "DEV-IFU-CONTRA"
_PREGNANCY_RULE = "PRACTICE-PREGNANCY-DEFER"
_NIVL_ASX = "ESVS-2022-CVD-NIVL-ASX"
_CIRSE = "CIRSE-2014-ICS"
_CIVO_05 = "SIR-2023-CIVO-05"
# stent_pathway_active's indication rules and the values that count as "fired": the chronic
# ones (those the pregnancy deferral reads, docs/safety.md#pregnancy) and the stent after
# thrombus removal.
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
    """Any of SVSAVF-2012-ETR-03, SVSAVF-2012-ETR-04, ESVS-2021-VT-ETR,
    SIR-2023-AIDVT-SEL is recommend or consider."""
    for rule in _ETR_RULES:  # noqa: SIM110 - a loop: any() and its generator cost 2x here
        if values.get(rule) in _FIRED:
            return True
    return False


def _device_contraindicated(values: Mapping[str, str]) -> bool:
    """DEV-IFU-CONTRA = against."""
    return values.get(_DEVICE_RULE) == "against"


def _fired(values: Mapping[str, str], indications: tuple[tuple[str, frozenset[str]], ...]) -> bool:
    """Any of ``indications`` fired. While ESVS-2022-CVD-NIVL-ASX (the newer, entity-specific
    class III) is against, CIRSE-2014-ICS does not count (its card still says consider;
    docs/safety.md#asymptomatic-nivl)."""
    asymptomatic_nivl = values.get(_NIVL_ASX) == "against"
    for rule, fired in indications:  # a loop, as in _etr_candidate
        if values.get(rule) in fired and not (asymptomatic_nivl and rule == _CIRSE):
            return True
    return False


def _stent_pathway_active(values: Mapping[str, str]) -> bool:
    """(SVSAVF-2014-VLU-6.8 = recommend or ESVS-2015-CVD-STENT = consider or ESVS-2022-CVD-STENT
    = consider or CIRSE-2014-ICS = consider unless ESVS-2022-CVD-NIVL-ASX = against, or
    SIR-2023-CIVO-05 = consider or SVSAVF-2012-ETR-05 ∈ {recommend, consider}) and
    DEV-IFU-CONTRA ≠ against and PRACTICE-PREGNANCY-DEFER ≠ against
    (docs/evaluation.md#rule-outcomes)."""
    return (
        values.get(_DEVICE_RULE) != "against"
        and values.get(_PREGNANCY_RULE) != "against"  # docs/safety.md#pregnancy
        and _fired(values, _STENT_INDICATIONS)
    )


_OUTCOMES: dict[str, Callable[[Mapping[str, str]], bool]] = {
    "etr_candidate": _etr_candidate,
    "device_contraindicated": _device_contraindicated,
    "stent_pathway_active": _stent_pathway_active,
}


def _overall(
    values: Mapping[str, str], block: Mapping[str, Any], acute: Value, insufficient: bool
) -> str:
    """Overall case status, first match wins (docs/evaluation.md#overall-status).

    1. contraindicated_defer: DEV-IFU-CONTRA = against and an indication fired (a stent
       indication rule, ignoring the device condition, or etr_candidate);
    1b. contraindicated_defer: PRACTICE-PREGNANCY-DEFER = against and a chronic stent
       indication fired (docs/safety.md#pregnancy; CIRSE not while an asymptomatic NIVL);
    2. insufficient_data: any scored rule returned insufficient_data:<field>;
    3. etr_candidate; 4. stent_conflict: stent pathway active and SIR-2023-CIVO-05 = against
       or ESVS-2022-CVD-NIVL-ASX = against (docs/safety.md#asymptomatic-nivl);
    5. stent_indicated; 6. anticoagulation_only: acute thrombotic without ETR;
    7. conservative.
    """
    etr = block["etr_candidate"]
    if block["device_contraindicated"] and (etr or _fired(values, _STENT_INDICATIONS)):
        return "contraindicated_defer"
    if values.get(_PREGNANCY_RULE) == "against" and _fired(values, _CHRONIC_INDICATIONS):
        return "contraindicated_defer"
    if insufficient:
        return "insufficient_data"
    if etr:
        return "etr_candidate"
    if block["stent_pathway_active"]:
        against = values.get(_CIVO_05) == "against" or values.get(_NIVL_ASX) == "against"
        return "stent_conflict" if against else "stent_indicated"
    if acute is True:
        return "anticoagulation_only"
    return "conservative"


class RuleSet:
    """A validated, compiled, immutable rule set; compile once and reuse.

    ``version`` is an opaque string chosen by the loader (a file hash or a published DB rule
    set number); ``definitions`` are the validated definitions (scored and info) as dicts.
    """

    __slots__ = ("_program", "_sources", "definitions", "scored_ids", "version")
    version: str
    definitions: tuple[dict[str, Any], ...]
    scored_ids: tuple[str, ...]  # in evaluation order
    _sources: dict[str, Any]
    _program: Program

    def __init__(
        self,
        *,
        version: str,
        definitions: tuple[dict[str, Any], ...],
        sources: Mapping[str, Any],
        program: Program,
        scored_ids: tuple[str, ...],
    ) -> None:
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "definitions", definitions)
        object.__setattr__(self, "_sources", dict(sources))
        object.__setattr__(self, "_program", program)
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
    return RuleSet(
        version=version,
        definitions=tuple(validated),
        sources={k: v.model_dump() for k, v in checked_sources.items()},
        program=_program(order, by_id),
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


def evaluate(
    facts: object,
    ruleset: RuleSet | None = None,
    options: EngineOptions = _DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """Evaluate one case; returns the contract (docs/evaluation.md#evaluation-contract).

    Keys: overall, cdt_contraindication, rules (every scored rule: value and criteria, the
    population first), derived, planning, follow_up_entity, and ``missing`` (sorted fields
    named by insufficient_data values; a UI convenience). Never raises for a JSON value.
    """
    if ruleset is None:
        ruleset = default_ruleset()
    facts_n = normalise_facts(facts)
    derived, block = _derive(facts_n, options.severe_threshold)
    rules, values, insufficient = ruleset._program(derived, facts_n, block)
    missing = sorted(set(insufficient)) if insufficient else []
    acute = derived[_ACUTE]
    overall = _overall(values, block, acute, bool(missing))
    planning = follow_up = None
    if overall in V.PLANNING_STATUSES:
        planning, follow_up = plan(
            lesion_entity=facts_n["lesion_entity"],
            segments=derived[_SEGMENTS],
            side=facts_n["side"],
            stent_pathway_active=block["stent_pathway_active"],
        )
    return {
        "overall": overall,
        # docs/evaluation.md#thrombolysis-contraindication: acute -> none | relative |
        # absolute, or unknown; null for non-acute cases.
        "cdt_contraindication": (block["contraindication_class"] or "unknown")
        if acute is True
        else None,
        "rules": rules,
        "derived": block,
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
    derived, block = _derive(facts_n, options.severe_threshold)
    outcomes = dict(context or {})
    if any(name not in outcomes for name in V.OUTCOME_INPUTS):
        computed = evaluate(facts, default_ruleset(), options)["derived"]
        outcomes = {name: outcomes.get(name, computed[name]) for name in V.OUTCOME_INPUTS}
    for name in V.OUTCOME_INPUTS:
        block[name] = _bool(outcomes[name])
    rules = _rule_program(json.dumps(checked))(derived, facts_n, block)[0]
    return rules[checked["id"]]


@functools.lru_cache(maxsize=256)
def _rule_program(definition: str) -> Program:
    """The program of one validated definition (JSON), compiled once: a test run evaluates
    the same draft on every test case."""
    checked = json.loads(definition)
    return _program([("rule", checked["id"])], {checked["id"]: checked})
