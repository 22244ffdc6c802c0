"""Rule definitions (JSON DSL) and their validation (guidelines/schema.py)."""

import copy
import json
from pathlib import Path

import pytest

from guidelines.engine import compile_ruleset, load_rule_files
from guidelines.schema import (
    RuleSetError,
    evaluation_order,
    validate_definition,
    validate_ruleset,
    validate_sources,
)
from guidelines.vocabulary import INPUTS, OUTCOME_DEPENDENCIES

RULES_DIR = Path(__file__).resolve().parents[2] / "guidelines" / "rules"
RULE_FILES = sorted(p for p in RULES_DIR.glob("*.json") if p.name != "sources.json")
SOURCES = json.loads((RULES_DIR / "sources.json").read_text(encoding="utf-8"))

INFO_RULES = {
    "SVSAVF-2012-ETR-01",
    "SVSAVF-2012-ETR-02",
    "ESVS-2021-VT-STENT",
    "SIR-2009-AIDVT",
    "ASH-2020-LYSIS",
    "SVSAVF-2014-VLU-6.10\u20136.12",
    "ESVS-2022-CVD-IMG-ABDUS",
    "ESVS-2022-CVD-IMG-CTMR",
    "ESVS-2022-CVD-OPEN",
    "SIR-2023-CIVO-01",
    "SIR-2023-CIVO-02",
    "SIR-2023-CIVO-IVUS",
    "SIR-2023-CIVO-FU",
    "AUC-2020",
    "SVSAVFAVLS-2023-VV",
}


def _rule(rule_id):
    return copy.deepcopy(next(d for d in load_rule_files() if d["id"] == rule_id))


def _problems(definition):
    with pytest.raises(RuleSetError) as caught:
        validate_definition(definition)
    return caught.value.problems


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_rule_file_validates(path):
    definitions = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(definitions, list)
    assert definitions
    for definition in definitions:
        validate_definition(definition)


def test_sources_validate_and_every_rule_cites_one():
    sources = validate_sources(SOURCES)
    for definition in load_rule_files():
        source = sources[definition["source"]]
        assert source.society
        assert source.citation
        assert 1990 <= source.year <= 2026


def test_catalogue_holds_every_displayed_and_scored_rule():
    definitions = load_rule_files()
    info = {d["id"] for d in definitions if d["engine"] == "info"}
    scored = [d for d in definitions if d["engine"] == "scored"]
    assert info == INFO_RULES
    assert len(scored) == 23
    assert len({d["id"] for d in definitions}) == len(definitions)


def test_provisional_badge_for_rules_from_memory():
    by_id = {d["id"]: d for d in load_rule_files()}
    assert by_id["ESVS-2022-CVD-STENT"]["verification"] == "provisional"
    assert by_id["SVSAVF-2012-ETR-03"]["verification"] == "provisional"
    assert by_id["ESVS-2015-CVD-STENT"]["verification"] == "verified"
    assert by_id["SIR-2023-CIVO-05"]["verification"] == "verified"


def test_whole_catalogue_validates_without_cycles():
    validated = validate_ruleset(load_rule_files(), sources=validate_sources(SOURCES))
    order = evaluation_order(validated)
    position = {step: index for index, step in enumerate(order)}
    for outcome, rule_ids in OUTCOME_DEPENDENCIES.items():
        for rule_id in rule_ids:
            assert position[("rule", rule_id)] < position[("outcome", outcome)]
    assert position[("outcome", "etr_candidate")] < position[("rule", "ESVS-2021-VT-AC")]
    assert position[("outcome", "stent_pathway_active")] < position[("rule", "ESVS-2022-CVD-FU")]


def test_unknown_input_names_its_path():
    definition = _rule("SVSAVF-2012-ETR-03")
    definition["criteria"][2]["test"] = {"input": "foo", "op": "is_true"}
    assert _problems(definition) == ["criteria[2].test.input: 'foo' is not a known input"]


def test_unknown_input_inside_nested_expression():
    definition = _rule("SIR-2023-AIDVT-SEL")
    definition["criteria"][2]["test"]["any"][1]["input"] = "phlegmasiaa"
    (problem,) = _problems(definition)
    assert problem.startswith("criteria[2].test.any[1].input: 'phlegmasiaa' is not a known input")
    assert "did you mean 'phlegmasia'" in problem


def test_compound_field_is_not_an_input():
    definition = _rule("DEV-IFU-CONTRA")
    definition["population"] = {"input": "ceap", "op": "eq", "value": "C6"}
    (problem,) = _problems(definition)
    assert problem.startswith("population.input: 'ceap' is free text")


def test_bad_operator_for_the_input():
    definition = _rule("SVSAVF-2012-ETR-03")
    definition["criteria"][0]["test"]["op"] = "contains_any"
    (problem,) = _problems(definition)
    assert problem.startswith("criteria[0].test.op: 'contains_any' is not an operator for")


def test_unknown_operator():
    definition = _rule("SVSAVF-2012-ETR-03")
    definition["criteria"][0]["test"]["op"] = "approx"
    assert _problems(definition)[0].startswith("criteria[0].test.op: 'approx'")


@pytest.mark.parametrize(
    ("test", "fragment"),
    [
        ({"input": "symptom_onset_days", "op": "lte", "value": "14"}, "is a number"),
        ({"input": "symptom_onset_days", "op": "lte", "value": True}, "is a number"),
        ({"input": "qol_impairment", "op": "eq", "value": "huge"}, "not an allowed value"),
        ({"input": "qol_impairment", "op": "in", "value": "moderate"}, "non-empty list"),
        ({"input": "qol_impairment", "op": "in", "value": []}, "non-empty list"),
        ({"input": "first_episode", "op": "eq", "value": "yes"}, "must be a boolean"),
        ({"input": "first_episode", "op": "is_true", "value": True}, "takes no value"),
        ({"input": "segments_involved", "op": "contains_any", "value": ["CIV", "XX"]}, "'XX'"),
        ({"input": "c_classes", "op": "contains_any", "value": ["C4b", "C4b"]}, "twice"),
    ],
)
def test_wrong_value_type_names_the_value(test, fragment):
    definition = _rule("SVSAVF-2012-ETR-03")
    definition["criteria"][0]["test"] = test
    (problem,) = _problems(definition)
    assert problem.startswith("criteria[0].test.value: ")
    assert fragment in problem


def test_invalid_expression_shape():
    definition = _rule("SVSAVF-2012-ETR-03")
    definition["population"] = {"all": [], "any": []}
    (problem,) = _problems(definition)
    assert problem.startswith("population: an expression is an object with exactly one of")
    definition["population"] = {"all": []}
    assert _problems(definition)[0].startswith("population.all: ")


def test_unknown_keys_and_missing_keys():
    definition = _rule("SVSAVF-2012-ETR-04")
    definition["colour"] = "red"
    del definition["text"]
    assert sorted(_problems(definition)) == ["colour: unknown key", "text: required key is missing"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.update(engine="scored", population=None), "population: a scored rule needs"),
        (lambda d: d.update(positive=None), "positive: a rule with criteria needs"),
        (lambda d: d.update(switch=_rule("SVSAVF-2012-ETR-05")["switch"]), "not both"),
        (lambda d: d.update(topic="vascular"), "topic: 'vascular' is not a topic"),
        (lambda d: d.update(positive="maybe"), "positive: Input should be"),
        (lambda d: d["criteria"][1].update(id="population"), "reserved"),
        (lambda d: d["criteria"][1].update(id="onset"), "'onset' is used twice"),
        (lambda d: d["criteria"][1].update(field="first"), "'first' is not a case field"),
        (lambda d: d["strength"].update(system="NICE"), "strength.system"),
    ],
)
def test_rule_shape_errors(change, fragment):
    definition = _rule("SVSAVF-2012-ETR-03")
    change(definition)
    assert any(fragment in problem for problem in _problems(definition))


def test_info_rule_must_not_carry_logic():
    definition = _rule("SVSAVF-2012-ETR-01")
    definition["population"] = {"input": "acute", "op": "is_true"}
    assert _problems(definition) == ["population: info rules are not evaluated; remove it"]


def test_duplicate_ids_and_unknown_sources_are_listed_together():
    definitions = load_rule_files()
    definitions.append(_rule("DEV-IFU-CONTRA"))
    definitions[0]["source"] = "NOPE-1999"
    with pytest.raises(RuleSetError) as caught:
        validate_ruleset(definitions, sources=validate_sources(SOURCES))
    problems = caught.value.problems
    assert any("source: 'NOPE-1999' is not a key of sources.json" in p for p in problems)
    assert any("id: 'DEV-IFU-CONTRA' is already used by rules[" in p for p in problems)


def test_cycle_is_rejected_with_the_leaf_path():
    definitions = load_rule_files()
    index = next(i for i, d in enumerate(definitions) if d["id"] == "SVSAVF-2012-ETR-03")
    definitions[index]["criteria"].append(
        {"id": "circular", "label": "Circular", "test": {"input": "etr_candidate", "op": "is_true"}}
    )
    with pytest.raises(RuleSetError) as caught:
        compile_ruleset(definitions)
    (problem,) = caught.value.problems
    assert problem.startswith(f"rules[{index}] (SVSAVF-2012-ETR-03): criteria[5].test.input:")
    assert "'etr_candidate' is computed from this rule" in problem
    assert (
        "dependency cycle: SVSAVF-2012-ETR-03 \u2192 etr_candidate \u2192 SVSAVF-2012-ETR-03"
        in (problem)
    )


def test_indirect_cycle_through_two_outcomes_is_rejected():
    # DEV-IFU-CONTRA feeds stent_pathway_active; making it read stent_pathway_active is a
    # cycle, and so is ETR-05 (feeding stent_pathway_active) reading it.
    definitions = load_rule_files()
    index = next(i for i, d in enumerate(definitions) if d["id"] == "SVSAVF-2012-ETR-05")
    definitions[index]["population"]["all"].append(
        {"input": "stent_pathway_active", "op": "is_false"}
    )
    with pytest.raises(RuleSetError, match="dependency cycle"):
        compile_ruleset(definitions)


def test_a_rule_may_read_outcomes_it_does_not_feed():
    definitions = load_rule_files()
    definitions.append(
        {
            **_rule("ESVS-2022-CVD-FU"),
            "id": "LOCAL-FU",
            "population": {
                "all": [
                    {"input": "stent_pathway_active", "op": "is_true"},
                    {"input": "etr_candidate", "op": "is_false"},
                ]
            },
        }
    )
    ruleset = compile_ruleset(definitions, version="local")
    assert "LOCAL-FU" in ruleset.scored_ids


def test_source_validation_messages():
    with pytest.raises(RuleSetError) as caught:
        validate_sources({"X": {"society": "S", "title": "T", "citation": "C"}})
    assert caught.value.problems == ["sources['X'].year: required key is missing"]


def test_vocabulary_inputs_have_known_kinds():
    assert {spec.kind for spec in INPUTS.values()} == {"bool", "number", "enum", "set"}
    for spec in INPUTS.values():
        assert spec.fields
