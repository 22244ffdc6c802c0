"""POST /api/v1/evaluate and GET /api/v1/cases/{id}/recommendations (brief §2.6 contract)."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    assert body == json.loads(json.dumps(evaluate(CHRONIC_ULCER)))
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


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("clinician", 200),
        ("nurse", 200),
        ("guideline_admin", 200),
        ("other_centre_clinician", 200),
        ("anonymous", 403),
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
        ("anonymous", 403),
    ],
)
def test_case_recommendations_per_persona(client_for, case_a, persona, status):
    response = client_for(persona).get(f"/api/v1/cases/{case_a.pk}/recommendations")
    assert response.status_code == status


def test_case_recommendations_match_evaluating_the_case_facts(client_for, case_a):
    from cases.facts import case_facts

    response = client_for("clinician").get(f"/api/v1/cases/{case_a.pk}/recommendations")
    assert response.json() == json.loads(json.dumps(evaluate(case_facts(case_a))))
