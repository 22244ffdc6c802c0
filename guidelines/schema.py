"""Validation of rule definitions (the JSON rule DSL) over the closed vocabulary.

A rule file holds a list of definitions; each is validated by :class:`RuleDefinition`
(pydantic v2) and the list as a whole by :func:`validate_ruleset`, which also checks source
keys, duplicate ids and the order in which rules that read rule outcomes (`etr_candidate`,
`device_contraindicated`, `stent_pathway_active`, docs/evaluation.md#rule-outcomes) can be
evaluated. Problems are reported as ``<path>: <message>`` lines, e.g.
``criteria[2].test.input: 'foo' is not a known input``, so a guideline administrator can find
the offending key. Pure Python: no Django import.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from guidelines.vocabulary import (
    FACT_FIELDS,
    INPUTS,
    OPS_BY_KIND,
    OUTCOME_DEPENDENCIES,
    OUTCOME_INPUTS,
    TOPICS,
)

__all__ = [
    "Criterion",
    "RuleDefinition",
    "RuleSetError",
    "Source",
    "Switch",
    "evaluation_order",
    "outcome_references",
    "validate_definition",
    "validate_ruleset",
    "validate_sources",
]


class RuleSetError(ValueError):
    """Invalid rule definition(s) or sources; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


RuleValue = Literal["recommend", "consider", "against", "not_applicable"]
SwitchValue = Literal["recommend", "consider", "against", "not_applicable", "insufficient_data"]

_ALIASES = {
    "ceap": "'ceap' is free text; test 'c_classes' or 'ceap_symptomatic' instead",
    "obstruction": (
        "'obstruction' is a compound field; test 'significant_obstruction', 'obstruction.type' "
        "or 'obstruction.area_reduction_pct' instead"
    ),
    "bleeding_risk": (
        "'bleeding_risk' is a compound field; test 'bleeding_ok', 'contraindication_class' or "
        "'bleeding_risk.level' instead"
    ),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _is_number(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


class Leaf(_Model):
    """``{"input": name, "op": op, "value": json}``: one three-valued test of one input."""

    input: str
    op: str
    value: Any = Field(default=None, validate_default=True)

    @field_validator("input")
    @classmethod
    def _known_input(cls, name: str) -> str:
        if name in INPUTS:
            return name
        if name in _ALIASES:
            raise ValueError(_ALIASES[name])
        close = difflib.get_close_matches(name, list(INPUTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{name!r} is not a known input{hint}")

    @field_validator("op")
    @classmethod
    def _op_fits_input(cls, op: str, info: ValidationInfo) -> str:
        name = info.data.get("input")
        if name is None:  # the input itself was invalid; that error is enough
            return op
        allowed = OPS_BY_KIND[INPUTS[name].kind]
        if op not in allowed:
            raise ValueError(
                f"{op!r} is not an operator for {name!r} ({INPUTS[name].kind}); "
                f"use one of {', '.join(sorted(allowed))}"
            )
        return op

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        name, op = info.data.get("input"), info.data.get("op")
        if name is None or op is None:
            return value
        spec = INPUTS[name]
        if op in ("is_true", "is_false"):
            if value is not None:
                raise ValueError(f"{op!r} takes no value; remove 'value'")
            return value
        if op in ("in", "not_in") or spec.kind == "set":
            if not isinstance(value, list) or not value:
                raise ValueError(f"{op!r} needs a non-empty list of values for {name!r}")
            if len(set(map(repr, value))) != len(value):
                raise ValueError(f"{op!r} lists a value twice")
            for item in value:
                _check_scalar(spec.name, spec.kind, spec.values, item)
            return value
        _check_scalar(spec.name, spec.kind, spec.values, value)
        return value


def _check_scalar(name: str, kind: str, values: tuple[str, ...], item: object) -> None:
    if kind == "bool":
        if type(item) is not bool:
            raise ValueError(f"{name!r} is true/false; the value must be a boolean")
    elif kind == "number":
        if not _is_number(item):
            raise ValueError(f"{name!r} is a number; got {item!r}")
    elif item not in values or type(item) is not str:
        raise ValueError(
            f"{item!r} is not an allowed value of {name!r} (allowed: {', '.join(values)})"
        )


class AllExpr(_Model):
    """Kleene AND: false if any part is false, else unknown if any is unknown, else true."""

    all_: list[Expr] = Field(alias="all", min_length=1)


class AnyExpr(_Model):
    """Kleene OR: true if any part is true, else unknown if any is unknown, else false."""

    any_: list[Expr] = Field(alias="any", min_length=1)


class NotExpr(_Model):
    """Kleene NOT: unknown stays unknown."""

    not_: Expr = Field(alias="not")


def _expression_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [key for key in ("all", "any", "not") if key in value]
        if len(keys) == 1:
            return f"<{keys[0]}>"
        if not keys and "input" in value:
            return "<leaf>"
        return None
    models: tuple[tuple[type[BaseModel], str], ...] = (
        (AllExpr, "<all>"),
        (AnyExpr, "<any>"),
        (NotExpr, "<not>"),
        (Leaf, "<leaf>"),
    )
    return next((tag for model, tag in models if isinstance(value, model)), None)


Expr = Annotated[
    Annotated[AllExpr, Tag("<all>")]
    | Annotated[AnyExpr, Tag("<any>")]
    | Annotated[NotExpr, Tag("<not>")]
    | Annotated[Leaf, Tag("<leaf>")],
    Discriminator(
        _expression_tag,
        custom_error_type="invalid_expression",
        custom_error_message=(
            "an expression is an object with exactly one of 'all', 'any', 'not', "
            "or a leaf {'input', 'op', 'value'}"
        ),
    ),
]
AllExpr.model_rebuild()
AnyExpr.model_rebuild()
NotExpr.model_rebuild()


def _check_field(name: str | None) -> str | None:
    if name is not None and name not in FACT_FIELDS:
        raise ValueError(f"{name!r} is not a case field")
    return name


class Criterion(_Model):
    """One selection criterion; ``field`` overrides the field named when it is unknown."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=40)
    label: str = Field(min_length=1)
    test: Expr
    field: str | None = None

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "population":
            raise ValueError("'population' is reserved for the population entry")
        return value

    _field = field_validator("field")(_check_field)


class Switch(_Model):
    """Three-way rule: the value for the test's true / false / unknown result."""

    id: str = Field(default="test", pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=40)
    label: str = ""
    test: Expr
    field: str | None = None
    true: SwitchValue
    false: SwitchValue
    unknown: SwitchValue

    _field = field_validator("field")(_check_field)


class Strength(_Model):
    system: Literal["ESVS", "GRADE", "SIR", "CIRSE", "ACCP", "ASH", "NONE"]
    native: str | None = None
    level: str | None = None
    normalised: Literal["strong", "weak", "not_graded"]


class Source(_Model):
    """A citable source (sources.json); DOI and URL may be null: none is invented."""

    society: str = Field(min_length=1)
    title: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    citation: str = Field(min_length=1)
    doi: str | None = None
    url: str | None = None


class RuleDefinition(_Model):
    """One rule of the catalogue; scored rules carry their logic (docs/evaluation.md)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-\u2013]*$", max_length=64)
    engine: Literal["scored", "info"]
    source: str = Field(min_length=1)
    recommendation_number: str | None = None
    text: str = Field(min_length=1)
    population_text: str = Field(min_length=1)
    strength: Strength
    verification: Literal["verified", "provisional"]
    topic: str
    notes: str = ""  # shown to every reader: plain clinical language
    maintainer_notes: str = ""  # shown to guideline admins only: how the rule was read
    brief_ref: str | None = None  # maintainers' reference: the docs/ pages of its reading
    population: Expr | None = None
    criteria: list[Criterion] | None = None
    switch: Switch | None = None
    positive: RuleValue | None = None
    failure: RuleValue | None = None

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"{value!r} is not a topic (allowed: {', '.join(TOPICS)})")
        return value

    @model_validator(mode="after")
    def _shape(self) -> RuleDefinition:
        logic = {
            "population": self.population,
            "criteria": self.criteria,
            "switch": self.switch,
            "positive": self.positive,
            "failure": self.failure,
        }
        if self.engine == "info":
            given = [key for key, value in logic.items() if value is not None]
            if given:
                raise ValueError(f"{given[0]}: info rules are not evaluated; remove it")
            return self
        if self.population is None:
            raise ValueError("population: a scored rule needs a population expression")
        if self.criteria is not None and self.switch is not None:
            raise ValueError("switch: give either 'criteria' or 'switch', not both")
        if self.criteria is not None:
            if not self.criteria:
                raise ValueError("criteria: give at least one criterion or leave it out")
            ids = [criterion.id for criterion in self.criteria]
            for index, value in enumerate(ids):
                if value in ids[:index]:
                    raise ValueError(f"criteria[{index}].id: {value!r} is used twice")
            if self.positive is None or self.failure is None:
                missing = "positive" if self.positive is None else "failure"
                raise ValueError(f"{missing}: a rule with criteria needs 'positive' and 'failure'")
        elif self.switch is not None:
            if self.positive is not None or self.failure is not None:
                raise ValueError("positive: a switch rule takes its values from 'switch'")
        else:
            if self.positive is None:
                raise ValueError("positive: the value when the population is met is missing")
            if self.failure is not None:
                raise ValueError("failure: a rule without criteria cannot fail; remove it")
        return self


# ---------------------------------------------------------------------------------------------
# Error formatting


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith("<"):  # discriminator tags are not part of the document
            text += f".{part}" if text else part
    return text


def _messages(error: ValidationError, prefix: str = "") -> list[str]:
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        path = _path(item["loc"])
        lines.append(f"{prefix}{path}: {message}" if path else f"{prefix}{message}")
    return lines


def validate_definition(data: object) -> RuleDefinition:
    """Validate one rule definition; raises RuleSetError naming the path of every problem."""
    try:
        return RuleDefinition.model_validate(data)
    except ValidationError as error:
        raise RuleSetError(_messages(error)) from None


def validate_sources(data: object) -> dict[str, Source]:
    """Validate the sources.json mapping {key: source}."""
    if not isinstance(data, Mapping):
        raise RuleSetError(["sources: expected an object {key: source}"])
    problems: list[str] = []
    sources: dict[str, Source] = {}
    for key, value in data.items():
        try:
            sources[key] = Source.model_validate(value)
        except ValidationError as error:
            problems += _messages(error, prefix=f"sources[{key!r}].")
    if problems:
        raise RuleSetError(problems)
    return sources


# ---------------------------------------------------------------------------------------------
# Rule outcomes and evaluation order


def _leaves(expr: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in ("all", "any"):
        if key in expr:
            for index, child in enumerate(expr[key]):
                yield from _leaves(child, f"{path}.{key}[{index}]")
            return
    if "not" in expr:
        yield from _leaves(expr["not"], f"{path}.not")
        return
    yield path, expr


def outcome_references(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path, outcome) for every leaf of a validated definition that reads a rule outcome."""
    found = []
    parts: list[tuple[str, Mapping[str, Any] | None]] = [
        ("population", definition.get("population"))
    ]
    for index, criterion in enumerate(definition.get("criteria") or ()):
        parts.append((f"criteria[{index}].test", criterion["test"]))
    if definition.get("switch"):
        parts.append(("switch.test", definition["switch"]["test"]))
    for path, expr in parts:
        if expr is None:
            continue
        for leaf_path, leaf in _leaves(expr, path):
            if leaf["input"] in OUTCOME_INPUTS:
                found.append((f"{leaf_path}.input", leaf["input"]))
    return found


def evaluation_order(definitions: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Steps ("rule", id) / ("outcome", name) so every value is computed before it is read.

    Outcomes are computed from the rules listed in OUTCOME_DEPENDENCIES that are present in
    the set; a rule reads an outcome through its expressions. Definition order is kept where
    the dependencies allow. A cycle (e.g. an ETR rule reading `etr_candidate`) raises
    RuleSetError naming the leaf that closes it.
    """
    scored = [d for d in definitions if d.get("engine") == "scored"]
    by_id = {d["id"]: d for d in scored}
    refs = {d["id"]: outcome_references(d) for d in scored}
    order: list[tuple[str, str]] = []
    state: dict[tuple[str, str], int] = {}  # 1 = in progress, 2 = done
    stack: list[tuple[tuple[str, str], str | None]] = []  # (node, path of the edge into it)

    def deps(node: tuple[str, str]) -> list[tuple[tuple[str, str], str | None]]:
        kind, name = node
        if kind == "rule":
            return [(("outcome", outcome), path) for path, outcome in refs[name]]
        return [(("rule", rid), None) for rid in OUTCOME_DEPENDENCIES[name] if rid in by_id]

    def cycle_error(node: tuple[str, str], via: str | None) -> RuleSetError:
        start = next(i for i, (seen, _) in enumerate(stack) if seen == node)
        cycle = [*stack[start:], (node, via)]
        chain = " \u2192 ".join(name for (_, name), _ in cycle)
        for k, ((kind, name), _) in enumerate(cycle[:-1]):
            if kind == "rule":
                (_, outcome), path = cycle[k + 1]
                index = next(i for i, d in enumerate(definitions) if d.get("id") == name)
                return RuleSetError(
                    [
                        f"rules[{index}] ({name}): {path}: {outcome!r} is computed from this "
                        f"rule, so the rule cannot read it (dependency cycle: {chain})"
                    ]
                )
        raise AssertionError("a cycle always passes through a rule")  # pragma: no cover

    def visit(node: tuple[str, str], via: str | None) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise cycle_error(node, via)
        state[node] = 1
        stack.append((node, via))
        for dep, path in deps(node):
            visit(dep, path)
        stack.pop()
        state[node] = 2
        order.append(node)

    for definition in scored:
        visit(("rule", definition["id"]), None)
    for outcome in OUTCOME_DEPENDENCIES:
        visit(("outcome", outcome), None)
    return order


def validate_ruleset(
    definitions: object, *, sources: Mapping[str, Source] | None = None
) -> list[dict[str, Any]]:
    """Validate a list of definitions; returns them as plain dicts (aliases restored).

    Checks every definition, duplicate ids, unknown source keys (when ``sources`` is given)
    and dependency cycles; raises RuleSetError listing every problem.
    """
    if not isinstance(definitions, list):
        raise RuleSetError(["rules: expected a list of rule definitions"])
    problems: list[str] = []
    validated: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, data in enumerate(definitions):
        label = data.get("id") if isinstance(data, dict) else None
        prefix = f"rules[{index}] ({label}): " if isinstance(label, str) else f"rules[{index}]: "
        try:
            model = RuleDefinition.model_validate(data)
        except ValidationError as error:
            problems += _messages(error, prefix=prefix)
            continue
        if model.id in seen:
            problems.append(f"{prefix}id: {model.id!r} is already used by rules[{seen[model.id]}]")
            continue
        seen[model.id] = index
        if sources is not None and model.source not in sources:
            problems.append(f"{prefix}source: {model.source!r} is not a key of sources.json")
        validated.append(model.model_dump(by_alias=True))
    if problems:
        raise RuleSetError(problems)
    evaluation_order(validated)  # raises on a dependency cycle
    return validated
