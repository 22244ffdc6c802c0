"""POST /api/v1/evaluate and GET /api/v1/cases/{id}/recommendations (the evaluation contract,
docs/evaluation.md#evaluation-contract)."""

import functools
import json
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import guidelines
from guidelines.engine import evaluate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHRONIC_ULCER = {
    "lesion_entity": "chronic_post_thrombotic",
    "side": "left",
    "segments_involved": ["CIV", "EIV"],
    "obstruction": {"type": "occlusion"},
    "ceap": "C6,s Esi Ad Po",
    "ulcer": "active",
    "qol_impairment": "moderate",
    "inflow": "good",
    "long_term_anticoagulation_possible": True,
}


def _post(client: Client, body: str) -> object:
    return client.post("/api/v1/evaluate", data=body, content_type="application/json")


def test_evaluate_returns_the_contract_for_one_document(client_for):
    response = _post(client_for("nurse"), json.dumps(CHRONIC_ULCER))
    assert response.status_code == 200
    body = response.json()
    assert body == {**json.loads(json.dumps(evaluate(CHRONIC_ULCER))), "warnings": []}
    assert body["overall"] == "stent_indicated"
    assert body["rules"]["SVSAVF-2014-VLU-6.8"]["value"] == "recommend"
    assert body["planning"]["stent_diameter_mm"] == {"CIV": 16, "EIV": 14}
    assert body["follow_up_entity"] == "post_thrombotic"


def test_evaluate_answers_a_list_with_a_list(client_for):
    response = _post(client_for("clinician"), json.dumps([CHRONIC_ULCER, {}]))
    assert response.status_code == 200
    first, second = response.json()
    assert first["overall"] == "stent_indicated"
    assert second["overall"] == "conservative"
    assert second["planning"] is None
    assert first["warnings"] == second["warnings"] == []


def test_evaluate_accepts_partial_documents(client_for):
    response = _post(client_for("clinician"), json.dumps({"lesion_entity": "nivl"}))
    assert response.status_code == 200
    assert response.json()["rules"]["ESVS-2022-CVD-NIVL-ASX"]["value"] == "insufficient_data:ceap"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "JSON parse error"),
        ("42", "Send a facts object or a list of facts objects."),
        ('"text"', "Send a facts object or a list of facts objects."),
        ('[{"side": "left"}, 3]', "Item 1 is not a facts object."),
    ],
)
def test_evaluate_rejects_bad_bodies_with_400(client_for, body, message):
    response = _post(client_for("clinician"), body)
    assert response.status_code == 400
    assert message in response.json()["detail"]


# --- limits: one request cannot occupy a worker ----------------------------------------------


def test_evaluate_answers_a_batch_up_to_the_document_limit(client_for, settings):
    settings.EVALUATE_MAX_DOCUMENTS = 3
    response = _post(client_for("clinician"), json.dumps([CHRONIC_ULCER, {}, {}]))
    assert response.status_code == 200
    assert len(response.json()) == 3


def test_evaluate_refuses_more_documents_than_the_limit(client_for, settings):
    settings.EVALUATE_MAX_DOCUMENTS = 3
    response = _post(client_for("clinician"), json.dumps([CHRONIC_ULCER, {}, {}, {}]))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Send at most 3 documents per request; this request has 4."
    }


def test_evaluate_refuses_a_flood_of_empty_documents_at_once(client_for):
    """The tester's 300 KB of ``{}`` (25 s of work before the limit)."""
    response = _post(client_for("clinician"), "[" + ",".join(["{}"] * 100_000) + "]")
    assert response.status_code == 400
    assert "at most 100 documents per request" in response.json()["detail"]


def test_evaluate_default_limit_takes_every_developer_test_case_in_one_request(client_for):
    """A real batch: all the rule test cases shipped with the rules (90 today)."""
    shipped = json.loads((Path(guidelines.__file__).parent / "rule_test_cases.json").read_text())
    documents = [case["facts"] for cases in shipped["rules"].values() for case in cases]
    response = _post(client_for("clinician"), json.dumps(documents))
    assert response.status_code == 200
    assert len(response.json()) == len(documents)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 100_000, id="unclosed-lists"),
        pytest.param('{"a":' * 5_000, id="unclosed-objects"),
        pytest.param("[" * 500 + "]" * 500, id="closed-lists"),
        pytest.param('{"a":' * 500 + "1" + "}" * 500, id="closed-objects"),
        pytest.param(
            json.dumps(
                {**CHRONIC_ULCER, "notes": functools.reduce(lambda x, _: [x], range(40), 1)}
            ),
            id="deep-value-in-a-facts-document",
        ),
    ],
)
def test_evaluate_refuses_deeply_nested_json_with_400(client_for, body):
    response = _post(client_for("clinician"), body)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON nested too deeply: at most 32 levels of arrays and objects."
    }


def test_evaluate_nesting_limit_counts_arrays_and_objects_not_brackets_in_strings(
    client_for, settings
):
    settings.API_JSON_MAX_DEPTH = 4
    facts = {"bleeding_risk": {"factors": ["renal_failure"]}, "notes": "[[[[[{{{{{"}
    assert _post(client_for("clinician"), json.dumps([facts])).status_code == 200
    too_deep = {"bleeding_risk": {"factors": [["renal_failure"]]}}
    response = _post(client_for("clinician"), json.dumps([too_deep]))
    assert response.status_code == 400
    assert "at most 4 levels" in response.json()["detail"]


# --- warnings: what was ignored, and why -----------------------------------------------------


def test_evaluate_warns_about_an_unknown_code_and_still_reads_it_as_not_recorded(client_for):
    facts = {**CHRONIC_ULCER, "ulcer": "actve"}
    response = _post(client_for("clinician"), json.dumps(facts))
    assert response.status_code == 200
    body = response.json()
    assert body["warnings"] == [
        {
            "field": "ulcer",
            "value": "actve",
            "reason": "unknown_code",
            "message": '"actve" is not one of: none, healed, active. Read as not recorded.',
        }
    ]
    contract = {key: value for key, value in body.items() if key != "warnings"}
    assert contract == json.loads(json.dumps(evaluate(facts)))
    assert body["rules"]["SIR-2023-CIVO-04"]["value"] == "not_applicable"


def test_evaluate_warns_about_each_ignored_value_with_its_path(client_for):
    facts = {
        "lesion_entity": "chronic_post_thrombotic",
        "segments_involved": ["CIV", "XYZ", 7],
        "first_episode": 1,
        "symptom_onset_days": "soon",
        "life_expectancy_years": -2,
        "ceap": "C9",
        "obstruction": {"type": "occlusion", "area_reduction_pct": "lots", "kind": "x"},
        "bleeding_risk": {"level": "medium", "factors": ["renal_failure", "recent_major_event"]},
        "ulcr": "active",
        "inflow": ["good"],
    }
    response = _post(client_for("clinician"), json.dumps(facts))
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert [(w["field"], w["value"], w["reason"]) for w in warnings] == [
        ("segments_involved[1]", "XYZ", "unknown_code"),
        ("segments_involved[2]", 7, "wrong_type"),
        ("first_episode", 1, "wrong_type"),
        ("symptom_onset_days", "soon", "unreadable"),
        ("life_expectancy_years", -2, "out_of_range"),
        ("ceap", "C9", "unreadable"),
        ("obstruction.area_reduction_pct", "lots", "unreadable"),
        ("obstruction.kind", "x", "unknown_field"),
        ("bleeding_risk.level", "medium", "unknown_code"),
        ("bleeding_risk.factors[1]", "recent_major_event", "unknown_code"),
        ("ulcr", "active", "unknown_field"),
        ("inflow", ["good"], "wrong_type"),
    ]
    assert all(w["message"] for w in warnings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ulcer", None),
        ("ulcer", ""),
        ("ulcer", "unknown"),
        ("ulcer", "  "),
        ("ulcer", " ACTIVE "),
        ("first_episode", "TRUE"),
        ("symptom_onset_days", "14"),
        ("segments_involved", "civ, EIV"),
        ("segments_involved", []),
        ("obstruction", {}),
        ("obstruction", "stenosis"),
        ("bleeding_risk", {"level": "low", "factors": []}),
        ("bleeding_risk", "high"),
    ],
)
def test_evaluate_gives_no_warning_for_not_recorded_or_readable_values(client_for, field, value):
    response = _post(client_for("clinician"), json.dumps({**CHRONIC_ULCER, field: value}))
    assert response.json()["warnings"] == []


def test_evaluate_warns_per_document_of_a_batch(client_for):
    response = _post(client_for("clinician"), json.dumps([CHRONIC_ULCER, {"side": "up"}]))
    first, second = response.json()
    assert first["warnings"] == []
    assert [(w["field"], w["reason"]) for w in second["warnings"]] == [("side", "unknown_code")]


def test_evaluate_schema_documents_the_warnings_and_the_limits(client_for):
    schema = client_for("nurse").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/evaluate"]["post"]
    assert "at most" in operation["responses"]["400"]["description"]
    assert "nested" in operation["responses"]["400"]["description"]
    components = schema["components"]["schemas"]
    warning = components["FactWarning"]
    assert set(warning["properties"]) == {"field", "value", "reason", "message"}
    assert warning["properties"]["reason"]["allOf"] == [
        {"$ref": "#/components/schemas/FactWarningReasonEnum"}
    ]
    assert set(components["FactWarningReasonEnum"]["enum"]) == {
        "unknown_field",
        "unknown_code",
        "wrong_type",
        "out_of_range",
        "unreadable",
    }
    evaluation = components["Evaluation"]
    assert "warnings" in evaluation["required"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("clinician", 200),
        ("nurse", 200),
        ("guideline_admin", 200),
        ("other_centre_clinician", 200),
        ("anonymous", 401),
    ],
)
def test_evaluate_per_persona(client_for, persona, status):
    """The facts travel in the request, so no centre is involved: every role may evaluate."""
    response = _post(client_for(persona), json.dumps(CHRONIC_ULCER))
    assert response.status_code == status


def test_evaluate_refuses_an_account_without_a_role(centre_a):
    client = Client()
    client.force_login(UserFactory(username="norole", centre=centre_a))
    response = _post(client, json.dumps(CHRONIC_ULCER))
    assert response.status_code == 403


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
fact_keys = st.sampled_from(
    [*sorted(CHRONIC_ULCER), "bleeding_risk", "symptom_onset_days", "phlegmasia", "first_episode"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=json_values | st.dictionaries(fact_keys, json_values, max_size=8))
def test_evaluate_never_answers_500(client_for, body):
    response = _post(client_for("clinician"), json.dumps(body))
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("clinician", 200),
        ("nurse", 200),
        ("guideline_admin", 200),
        ("other_centre_clinician", 404),
        ("anonymous", 401),
    ],
)
def test_case_recommendations_per_persona(client_for, case_a, persona, status):
    response = client_for(persona).get(f"/api/v1/cases/{case_a.pk}/recommendations")
    assert response.status_code == status


def test_case_recommendations_match_evaluating_the_case_facts(client_for, case_a):
    from cases.facts import case_facts

    response = client_for("clinician").get(f"/api/v1/cases/{case_a.pk}/recommendations")
    assert response.json() == json.loads(json.dumps(evaluate(case_facts(case_a))))
