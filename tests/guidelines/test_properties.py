"""Property tests: the engine never raises and always honours the evaluation contract
(docs/evaluation.md#evaluation-contract)."""

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidelines.engine import default_ruleset, evaluate
from guidelines.vocabulary import (
    CEAP_SEGMENTS,
    CONTRAINDICATION_FACTORS,
    FACT_FIELDS,
    OVERALL_STATUSES,
    PLANNING_STATUSES,
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

_CEAP = st.sampled_from(
    ["C6,s Esi Ad Po", "C4b,s", "C4", "C2r,a", "C3,4b,s", "C6r", "C0,s", "C9", "x", ""]
)
_SCALARS = st.sampled_from(
    [
        True,
        False,
        "true",
        "FALSE",
        "unknown",
        "",
        0,
        1,
        14,
        15,
        28,
        29,
        0.9,
        1.0,
        49,
        50,
        "50",
        "left",
        "bilateral",
        "acute_thrombotic",
        "chronic_post_thrombotic",
        "nivl",
        "iliocaval_atresia",
        "ivc_occlusion",
        "moderate",
        "severe",
        "mild",
        "none",
        "active",
        "healed",
        "good",
        "poor",
        "low",
        "high",
    ]
)


def _field_value(name: str) -> st.SearchStrategy:
    kind = FACT_FIELDS[name].kind
    if kind == "segments":
        return st.lists(st.sampled_from([*CEAP_SEGMENTS, "gsva", "xx"]), max_size=5) | JSON
    if kind == "ceap":
        return _CEAP | JSON
    if kind == "obstruction":
        return (
            st.fixed_dictionaries(
                {},
                optional={
                    "type": st.sampled_from(["occlusion", "stenosis", "other"]) | JSON,
                    "area_reduction_pct": st.integers(-5, 110) | JSON,
                    "diameter_reduction_pct": st.integers(0, 100) | JSON,
                },
            )
            | JSON
        )
    if kind == "bleeding_risk":
        return (
            st.fixed_dictionaries(
                {},
                optional={
                    "level": st.sampled_from(["low", "high", "medium"]) | JSON,
                    "contraindication_class": st.sampled_from(["none", "relative", "absolute"])
                    | JSON,
                    "factors": st.lists(st.sampled_from([*CONTRAINDICATION_FACTORS, "zz"])) | JSON,
                },
            )
            | JSON
        )
    if FACT_FIELDS[name].values:
        return st.sampled_from(FACT_FIELDS[name].values) | _SCALARS | JSON
    return _SCALARS | JSON


FACTS = st.fixed_dictionaries({}, optional={name: _field_value(name) for name in FACT_FIELDS})
RULE_VALUES = {"recommend", "consider", "against", "not_applicable"}


def _check_contract(result: dict) -> None:
    json.dumps(result, allow_nan=False)
    assert result["overall"] in OVERALL_STATUSES
    assert set(result["rules"]) == set(default_ruleset().scored_ids)
    missing = set()
    for entry in result["rules"].values():
        value = entry["value"]
        if value.startswith("insufficient_data:"):
            field = value.split(":", 1)[1]
            assert field in FACT_FIELDS
            missing.add(field)
        else:
            assert value in RULE_VALUES
        assert entry["criteria"][0]["id"] == "population"
        assert all(c["status"] in {"met", "unmet", "unknown"} for c in entry["criteria"])
    assert result["missing"] == sorted(missing)
    if result["overall"] in PLANNING_STATUSES:
        assert result["planning"]["primary_access"] == result["planning"]["access_options"][0]
    else:
        assert result["planning"] is None
        assert result["follow_up_entity"] is None
    if result["overall"] != "contraindicated_defer" and missing:
        assert result["overall"] == "insufficient_data"
    assert result["cdt_contraindication"] in {None, "none", "relative", "absolute", "unknown"}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_any_json_value_is_evaluated_without_error(document):
    _check_contract(evaluate(document))


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(FACTS)
def test_any_facts_document_is_evaluated_within_the_vocabulary(facts):
    before = copy.deepcopy(facts)
    result = evaluate(facts)
    _check_contract(result)
    assert facts == before  # the document is not modified
    assert evaluate(facts) == result  # deterministic
