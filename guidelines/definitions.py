"""Pure helpers around rule definitions and rule test cases (no ORM).

Shared by the loader, the services, the forms and the API so that "the same definition" and
"a valid expected value" mean the same thing everywhere:

* a definition is stored in its *normal form*: validated by ``schema.validate_definition``
  and dumped with aliases and without ``None`` values, so two definitions are equal exactly
  when the engine would compile them to the same rule;
* a test case's expected value is a rule value or ``insufficient_data:<field>`` with a case
  field (docs/evaluation.md#rule-values).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from guidelines import vocabulary as V
from guidelines.schema import RuleSetError, validate_definition

__all__ = [
    "EXPECTED_VALUES",
    "TEST_CASES_PATH",
    "check_test_case",
    "json_error_message",
    "locally_modified",
    "normalise_definition",
]

# Kept outside guidelines/rules/: engine.load_rule_files() reads every *.json there as rules.
TEST_CASES_PATH = Path(__file__).resolve().parent / "rule_test_cases.json"

EXPECTED_VALUES: tuple[str, ...] = (
    *V.RULE_VALUES,
    *(f"{V.INSUFFICIENT_DATA}:{name}" for name in V.FACT_NAMES),
)
_EXPECTED = frozenset(EXPECTED_VALUES)


def normalise_definition(definition: object) -> dict[str, Any]:
    """The validated normal form of one definition; raises RuleSetError naming each problem."""
    return validate_definition(definition).model_dump(by_alias=True, exclude_none=True)


def check_test_case(data: object, *, where: str = "test case") -> dict[str, Any]:
    """``{"name", "facts", "expected"}`` checked for shape; RuleSetError otherwise."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise RuleSetError([f"{where}: expected an object with name, facts and expected"])
    name, facts, expected = data.get("name"), data.get("facts"), data.get("expected")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name: give the test case a name")
    elif len(name) > 200:
        problems.append(f"{where}.name: at most 200 characters")
    if not isinstance(facts, Mapping):
        problems.append(f"{where}.facts: expected a facts object")
    if expected not in _EXPECTED:
        problems.append(
            f"{where}.expected: {expected!r} is not a rule value (recommend, consider, "
            "against, not_applicable or insufficient_data:<case field>)"
        )
    unknown = sorted(set(data) - {"name", "facts", "expected"})
    if unknown:
        problems.append(f"{where}: unknown key {unknown[0]!r}")
    if problems or not isinstance(name, str) or not isinstance(facts, Mapping):
        raise RuleSetError(problems)
    return {"name": name.strip(), "facts": dict(facts), "expected": expected}


def json_error_message(error: json.JSONDecodeError) -> str:
    """``Invalid JSON at line 3, column 7 (character 41): Expecting ',' delimiter``."""
    return (
        f"Invalid JSON at line {error.lineno}, column {error.colno} "
        f"(character {error.pos + 1}): {error.msg}"
    )


def read_test_cases(path: Path = TEST_CASES_PATH) -> dict[str, list[dict[str, Any]]]:
    """The developers' test cases by rule id, each checked for shape."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rules = data.get("rules") if isinstance(data, Mapping) else None
    if not isinstance(rules, Mapping):
        raise RuleSetError([f"{path.name}: expected an object with a 'rules' mapping"])
    problems: list[str] = []
    result: dict[str, list[dict[str, Any]]] = {}
    for rule_id, cases in rules.items():
        if not isinstance(cases, list):
            problems.append(f"{path.name}: rules[{rule_id!r}]: expected a list of test cases")
            continue
        checked = []
        for index, case in enumerate(cases):
            try:
                checked.append(check_test_case(case, where=f"rules[{rule_id!r}][{index}]"))
            except RuleSetError as error:
                problems += error.problems
        result[rule_id] = checked
    if problems:
        raise RuleSetError(problems)
    return result


@functools.cache
def _shipped() -> dict[str, dict[str, Any]]:
    """The shipped rule files' definitions by rule id, in the compiled rule set's form."""
    from guidelines.engine import default_ruleset

    return {definition["id"]: definition for definition in default_ruleset().definitions}


def locally_modified(definition: Mapping[str, Any]) -> bool:
    """Whether a rule definition differs from the shipped rule files (edited and published
    at this site, or a rule the files do not have)."""
    shipped = _shipped().get(str(definition.get("id")))
    if shipped is None:
        return True
    if definition == shipped:
        return False
    try:
        return validate_definition(definition).model_dump(by_alias=True) != shipped
    except RuleSetError:
        return True
