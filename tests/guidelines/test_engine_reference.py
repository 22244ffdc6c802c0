"""The engine answers every reference document exactly as it did when the reference was
recorded: the same keys, values, list order, trace text and warnings.

``engine_reference.json.gz`` holds the inputs and, recorded from the engine of
``ENGINE_VERSION`` 2, what it answered:

- documents: the developers' rule test cases, every facts document the engine and safety tests
  evaluated, several thousand Hypothesis-generated documents (the strategies of
  ``test_properties.py``, random JSON included) and realistic cases from ``bench/engine.py``;
- the rule definitions and sources of that day (so a later edit of the rule files does not
  touch this test), plus synthetic rules that use every operator on every input, nested
  all/any/not, switches and criteria without a named field;
- per document, the overall status and a digest of three answers: ``evaluate_with_warnings``
  with the rules of that day, ``evaluate`` with a severe threshold of 61 % and ``evaluate``
  with the synthetic rules added; the full answer for the rule test cases;
- ``evaluate_rule`` runs (rule test cases, the admin's test runs, synthetic rules) with their
  full answers.

A change to what the engine answers is a change of ``ENGINE_VERSION`` (stored statuses are
re-evaluated). Only then record the reference again, after reviewing the differences:
``.venv/bin/python -m tests.guidelines.test_engine_reference``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from guidelines.engine import (
    ENGINE_VERSION,
    EngineOptions,
    RuleSet,
    compile_ruleset,
    evaluate,
    evaluate_rule,
    evaluate_with_warnings,
)

REFERENCE = Path(__file__).with_name("engine_reference.json.gz")
SECTIONS = ("rule_test_cases", "recorded", "hypothesis_facts", "hypothesis_json", "realistic")


@functools.cache
def _reference() -> dict[str, Any]:
    return json.loads(gzip.decompress(REFERENCE.read_bytes()))


def _rule_sets(reference: dict[str, Any]) -> tuple[RuleSet, RuleSet]:
    definitions, sources = reference["definitions"], reference["sources"]
    return (
        compile_ruleset(definitions, version="reference", sources=sources),
        compile_ruleset(definitions + reference["synthetic"], version="synthetic", sources=sources),
    )


@functools.cache
def _compiled() -> tuple[RuleSet, RuleSet]:
    return _rule_sets(_reference())


def _answers(
    document: object, rule_sets: tuple[RuleSet, RuleSet], threshold: float
) -> tuple[dict[str, Any], ...]:
    rules, with_synthetic = rule_sets
    return (
        evaluate_with_warnings(document, rules),
        evaluate(document, rules, EngineOptions(severe_threshold=threshold)),
        evaluate(document, with_synthetic),
    )


def _digest(answers: tuple[dict[str, Any], ...]) -> str:
    # repr, not JSON: it tells a tuple from a list and 1 from 1.0, and keeps key order.
    return hashlib.sha256(repr(answers).encode()).hexdigest()[:16]


def _run(reference: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    return evaluate_rule(
        reference["rule_definitions"][run["definition"]],
        reference["documents"][run["document"]],
        context=run["context"],
        options=EngineOptions(severe_threshold=run["severe_threshold"]),
    )


def _section(name: str) -> range:
    sections = _reference()["sections"]
    start = sum(sections[section] for section in SECTIONS[: SECTIONS.index(name)])
    return range(start, start + sections[name])


def test_reference_was_recorded_with_this_engine_version():
    assert _reference()["engine_version"] == ENGINE_VERSION


def test_reference_holds_several_thousand_generated_documents():
    sections = _reference()["sections"]
    assert sections["hypothesis_facts"] + sections["hypothesis_json"] >= 3000
    assert len(_reference()["documents"]) == sum(sections.values())


@pytest.mark.parametrize("section", SECTIONS)
def test_every_reference_document_is_answered_as_recorded(section):
    reference, rule_sets = _reference(), _compiled()
    threshold = reference["severe_threshold"]
    differ = []
    for index in _section(section):
        answers = _answers(reference["documents"][index], rule_sets, threshold)
        if [answers[0]["overall"], _digest(answers)] != reference["expected"][index]:
            differ.append(index)
    shown = [reference["documents"][index] for index in differ[:3]]
    assert not differ, f"{len(differ)} documents answered differently, e.g. {differ[:3]}: {shown}"


def test_rule_test_cases_are_answered_in_full_as_recorded():
    reference, (rules, _) = _reference(), _compiled()
    for index, expected in zip(_section("rule_test_cases"), reference["full"], strict=True):
        assert evaluate_with_warnings(reference["documents"][index], rules) == expected


def test_every_rule_run_is_answered_as_recorded():
    reference = _reference()
    for run in reference["rule_runs"]:
        assert _run(reference, run) == run["expected"], run


def _record(reference: dict[str, Any]) -> dict[str, Any]:
    """The reference with every answer recorded again from the engine as it is now."""
    rule_sets = _rule_sets(reference)
    answers = [
        _answers(document, rule_sets, reference["severe_threshold"])
        for document in reference["documents"]
    ]
    return {
        **reference,
        "engine_version": ENGINE_VERSION,
        "expected": [[each[0]["overall"], _digest(each)] for each in answers],
        "full": [answers[index][0] for index in range(reference["sections"]["rule_test_cases"])],
        "rule_runs": [{**run, "expected": _run(reference, run)} for run in reference["rule_runs"]],
    }


if __name__ == "__main__":
    recorded = _record(_reference())
    if recorded["engine_version"] == _reference()["engine_version"]:
        raise SystemExit(
            f"The reference was recorded with ENGINE_VERSION {ENGINE_VERSION}: a change of "
            "the answers needs a new engine version."
        )
    text = json.dumps(recorded, separators=(",", ":"), ensure_ascii=True)
    REFERENCE.write_bytes(gzip.compress(text.encode(), 9, mtime=0))
