"""Guideline-admin API: every endpoint × every persona, the workflow, 400 with field errors,
and the OpenAPI document."""

import copy

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidelines.models import Rule, RuleVersion
from guidelines.services import authoring
from tests.conftest import PERSONAS
from tests.guidelines.rule_admin import (
    ETR03,
    active_version,
    acute_facts,
    onset_draft,
    second_admin,
    shipped_rules,  # noqa: F401  (fixture)
    with_onset_limit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shipped_rules")]

DENIED = (401, 403)


@pytest.fixture
def drafts(guideline_admin, centre_a):
    """Gustav's draft v2; admin2's pending v3 (so Gustav may approve it)."""
    mine = onset_draft(guideline_admin)
    admin2 = second_admin(centre_a)
    theirs = onset_draft(admin2, days=28)
    authoring.rule_version_submit(version=theirs, user=admin2)
    return mine, theirs


def _call(client, method, url, data=None):
    return getattr(client, method)(url, data=data, content_type="application/json")


def _endpoints(drafts):
    mine, theirs = drafts
    base = f"/api/v1/rules/{ETR03}/versions"
    v2 = f"{base}/{mine.number}"
    return {
        "list": ("get", "/api/v1/rules/", None, 200),
        "detail": ("get", f"/api/v1/rules/{ETR03}/", None, 200),
        "create-draft": ("post", f"{base}/", {"change_note": "api"}, 201),
        "read-version": ("get", f"{v2}/", None, 200),
        "patch-draft": ("patch", f"{v2}/", {"change_note": "edited"}, 200),
        "add-test-case": (
            "post",
            f"{v2}/test-cases/",
            {"name": "api", "facts": acute_facts(), "expected": "consider"},
            201,
        ),
        "run-tests": ("post", f"{v2}/run-tests", None, 200),
        "submit": ("post", f"{v2}/submit", None, 200),
        "approve": ("post", f"{base}/{theirs.number}/approve", None, 200),
        "export": ("get", "/api/v1/rules/export", None, 200),
        "import": ("post", "/api/v1/rules/import", None, 200),
    }


READ_FOR_ALL = {"list", "detail"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "endpoint",
    [
        "list",
        "detail",
        "create-draft",
        "read-version",
        "patch-draft",
        "add-test-case",
        "run-tests",
        "submit",
        "approve",
        "export",
        "import",
    ],
)
def test_every_endpoint_for_every_persona(client_for, drafts, persona, endpoint):
    client = client_for(persona)
    method, url, data, ok = _endpoints(drafts)[endpoint]
    if endpoint == "import":
        data = client_for("guideline_admin").get("/api/v1/rules/export").json()
    response = _call(client, method, url, data)
    if persona == "anonymous":
        assert response.status_code in DENIED
    elif persona == "guideline_admin" or endpoint in READ_FOR_ALL:
        assert response.status_code == ok, response.content
    else:
        assert response.status_code == 403


def test_reading_rules(client_for):
    rules = client_for("nurse").get("/api/v1/rules/", {"topic": "device"}).json()
    assert [r["rule_id"] for r in rules] == ["DEV-IFU-CONTRA", "PRACTICE-PREGNANCY-DEFER"]
    assert rules[0]["active_version"] == 1
    detail = client_for("clinician").get(f"/api/v1/rules/{ETR03}/").json()
    assert detail["definition"]["criteria"][0]["test"]["value"] == 14
    assert detail["versions"][0]["status"] == "active"
    assert client_for("clinician").get("/api/v1/rules/NOPE/").status_code == 404


def test_the_workflow_through_the_api(client_for, guideline_admin, centre_a):
    author = client_for("guideline_admin")
    response = _call(author, "post", f"/api/v1/rules/{ETR03}/versions/", {})
    assert response.status_code == 201
    number = response.json()["number"]
    url = f"/api/v1/rules/{ETR03}/versions/{number}"
    definition = with_onset_limit(response.json()["definition"], 21)
    response = _call(author, "patch", f"{url}/", {"definition": definition})
    assert response.status_code == 200
    assert response.json()["definition"]["criteria"][0]["test"]["value"] == 21

    response = _call(
        author,
        "post",
        f"{url}/test-cases/",
        {"name": "18 days", "facts": acute_facts(symptom_onset_days=18), "expected": "against"},
    )
    assert response.status_code == 201
    run = _call(author, "post", f"{url}/run-tests").json()
    assert run["passed"] is False
    assert [r["value"] for r in run["results"] if not r["passed"]] == ["consider"]
    response = _call(author, "post", f"{url}/submit")
    assert response.status_code == 400
    assert "fail" in response.json()["non_field_errors"][0]

    RuleVersion.objects.get(rule__rule_id=ETR03, number=number).test_cases.filter(
        name="18 days"
    ).delete()
    assert _call(author, "post", f"{url}/submit").json()["status"] == "pending"
    response = _call(author, "post", f"{url}/approve")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "The author cannot approve their own version; a second guideline admin must."
        ]
    }

    reviewer = client_for("guideline_admin")
    reviewer.force_login(second_admin(centre_a))
    response = _call(reviewer, "post", f"{url}/approve")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["approver"]) == (
        "active",
        "guidelines_admin2",
    )
    assert active_version().number == number


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"definition": "not an object"}, "definition"),
        ({"definition": {"id": ETR03}}, "definition"),
    ],
)
def test_bad_input_is_400_with_the_field_named(client_for, drafts, body, field):
    mine, _ = drafts
    response = _call(
        client_for("guideline_admin"),
        "patch",
        f"/api/v1/rules/{ETR03}/versions/{mine.number}/",
        body,
    )
    assert response.status_code == 400
    assert field in response.json()


def test_schema_problems_name_their_path(client_for, drafts):
    mine, _ = drafts
    definition = dict(mine.definition, positive="maybe")
    response = _call(
        client_for("guideline_admin"),
        "patch",
        f"/api/v1/rules/{ETR03}/versions/{mine.number}/",
        {"definition": definition},
    )
    assert response.status_code == 400
    assert response.json()["definition"][0].startswith("positive: Input should be")


def test_test_case_input_is_validated(client_for, drafts):
    mine, _ = drafts
    url = f"/api/v1/rules/{ETR03}/versions/{mine.number}/test-cases/"
    response = _call(
        client_for("guideline_admin"), "post", url, {"name": "", "facts": [], "expected": "maybe"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"name", "facts", "expected"}


def test_a_nul_character_anywhere_in_a_json_body_is_a_400_naming_where(client_for, drafts):
    mine, _ = drafts
    url = f"/api/v1/rules/{ETR03}/versions/{mine.number}/test-cases/"
    count = mine.test_cases.count()
    body = {"name": "nul", "facts": {**acute_facts(), "note": "x\x00"}, "expected": "consider"}
    response = _call(client_for("guideline_admin"), "post", url, body)
    assert response.status_code == 400
    assert "facts.note" in response.json()["detail"]
    assert mine.test_cases.count() == count


def test_malformed_json_body_is_400(client_for):
    response = client_for("guideline_admin").post(
        "/api/v1/rules/import", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_unknown_base_version_is_400(client_for):
    response = _call(
        client_for("guideline_admin"),
        "post",
        f"/api/v1/rules/{ETR03}/versions/",
        {"base_version": 99},
    )
    assert response.status_code == 400
    assert "base_version" in response.json()


def test_the_operations_are_in_the_openapi_document(client_for):
    schema = client_for("guideline_admin").get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/v1/rules/{rule_id}/versions/{number}/"]) >= {"get", "patch"}
    for path in (
        "/api/v1/rules/",
        "/api/v1/rules/{rule_id}/",
        "/api/v1/rules/export",
        "/api/v1/rules/import",
        "/api/v1/rules/{rule_id}/versions/",
        "/api/v1/rules/{rule_id}/versions/{number}/test-cases/",
        "/api/v1/rules/{rule_id}/versions/{number}/run-tests",
        "/api/v1/rules/{rule_id}/versions/{number}/submit",
        "/api/v1/rules/{rule_id}/versions/{number}/approve",
    ):
        assert path in paths, path
    assert "400" in paths["/api/v1/rules/{rule_id}/versions/{number}/approve"]["post"]["responses"]


def test_rules_are_not_centre_data(client_for):
    assert client_for("other_centre_clinician").get(f"/api/v1/rules/{ETR03}/").status_code == 200
    assert Rule.objects.count() == len(client_for("nurse").get("/api/v1/rules/").json())


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = [
    "population",
    "criteria",
    "switch",
    "positive",
    "failure",
    "strength",
    "source",
    "topic",
    "text",
    "id",
    "engine",
    "verification",
    "notes",
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=st.sampled_from(_KEYS), value=_json, leaf=_json)
def test_a_mangled_definition_is_200_or_400_never_500(client_for, drafts, key, value, leaf):
    mine, _ = drafts
    definition = copy.deepcopy(mine.definition)
    definition[key] = value
    definition.setdefault("criteria", [{}])
    if isinstance(definition["criteria"], list) and definition["criteria"]:
        first = definition["criteria"][0]
        if isinstance(first, dict) and isinstance(first.get("test"), dict):
            first["test"]["value"] = leaf
    response = _call(
        client_for("guideline_admin"),
        "patch",
        f"/api/v1/rules/{ETR03}/versions/{mine.number}/",
        {"definition": definition},
    )
    assert response.status_code in (200, 400), response.content


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=_json)
def test_an_import_of_any_json_is_400_never_500(client_for, body):
    response = _call(client_for("guideline_admin"), "post", "/api/v1/rules/import", body)
    assert response.status_code == 400, response.content
