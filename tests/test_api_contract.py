"""The API keeps its OpenAPI contract: schemathesis with all its checks, on every operation,
for a clinician and for a nurse (basic auth), in-process against the test database.

Every answer has a documented status and matches its schema; a request the schema allows is
accepted and one it forbids is refused. The path's ids (and the ids a body refers to) are
those of objects of the persona's centre (tests/world.py), so reads and writes succeed and
their answers are checked too, not only the 404 of an id that does not exist.

Writes also apply rules a schema cannot state (an id must exist in your centre, a signed plan
is reopened before it changes, a patient's identifier is unique in the centre): a valid-looking
write may be refused with a 400, as long as the 400 names the field (or ``non_field_errors``)
like every 400 of this API. Bounded and derandomized: the same examples on every run.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from tests.world import World
from venousapp.wsgi import application

PERSONAS = {"clinician": "alice", "nurse": "nina"}
PASSWORD = "correct-horse-battery-staple"

# Rules only the server knows (see the module docstring): a write may answer 400 to a request
# the schema allows; every other status as schemathesis expects by default.
WRITES_REFUSED_BY_RULES = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# Examples and fuzzing, 8 cases an operation: about a minute for both personas. The coverage
# phase (every boundary of every field: some 9 000 requests a persona) would take several;
# ``st run`` against a server, with this configuration, runs it.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261206,
        "generation": {
            "deterministic": True,
            "max-examples": 8,
            "with-security-parameters": False,
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "operations": [
            {
                "include-method": ["POST", "PUT", "PATCH"],
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": WRITES_REFUSED_BY_RULES}
                },
            }
        ],
    }
)


def _document() -> dict[str, Any]:
    """The schema /api/schema/ serves, generated here (no request, no login needed)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.app = application

# The objects ids in a path or a body name, by the collection before "{id}" or by name.
COLLECTIONS = {
    "patients": "patient",
    "cases": "case",
    "visits": "done_visit",
    "escalations": "escalation",
    "devices": "device",
    "device-sizes": "size",
    "plans": "plan",
    "checklist-items": "item",
    "procedure-records": "record",
}
NAMED = {"decision_pk": "decision", "rule_id": "rule_id", "number": "draft"}
BODY_IDS = {"patient": "patient", "case": "case", "plan": "plan", "device": "device"}


def path_ids(path: str, world: World) -> dict[str, Any]:
    segments = path.strip("/").split("/")
    ids = {}
    for before, segment in itertools.pairwise(segments):
        name = segment.strip("{}")
        if segment.startswith("{") and name in NAMED:
            ids[name] = world.key(NAMED[name])
        elif segment.startswith("{"):
            ids[name] = world.key(COLLECTIONS[before])
    return ids


def use_world(case: Any, world: World) -> None:
    """Put the world's ids where the generated ones stand, in the parts generated valid."""
    meta = case.meta
    if case.path_parameters and not meta.is_negative_at(ParameterLocation.PATH):
        case.path_parameters = {**case.path_parameters, **path_ids(case.operation.path, world)}
    if isinstance(case.body, dict) and not meta.is_negative_at(ParameterLocation.BODY):
        for name, attr in BODY_IDS.items():
            if isinstance(case.body.get(name), int):
                case.body = {**case.body, name: world.key(attr)}


def _request_fields(case: Any) -> set[str]:
    operation = DOCUMENT["paths"][case.operation.path][case.method.lower()]
    names = {p["name"] for p in operation.get("parameters", [])}
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body = content.get("schema", {})
    if "$ref" in body:
        body = DOCUMENT["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return names | set(body.get("properties", {}))


def a_400_names_the_field(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 400 is a JSON object naming what is wrong: request fields, ``non_field_errors``
    (the request as a whole) or ``detail`` (a body that could not be read)."""
    if response.status_code != 400:
        return None
    body = response.json()
    assert isinstance(body, dict), f"A 400 that is no JSON object: {body!r}"
    assert body, "A 400 naming nothing"
    unknown = set(body) - _request_fields(case) - {"non_field_errors", "detail"}
    assert not unknown, f"A 400 names what the request does not have: {sorted(unknown)}"
    return None


@pytest.fixture
def in_test_transaction(db):
    """Requests through the WSGI app keep the test's connection (like Django's test client)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def no_lockout(settings):
    """The ``ignored_auth`` check sends wrong credentials; they must not lock the persona out
    for the rest of the test (log-in throttling is tested in tests/test_accounts.py)."""
    settings.AXES_ENABLED = False


@pytest.fixture
def world(clinician, nurse, guideline_admin) -> World:
    return World(clinician=clinician, nurse=nurse, guideline_admin=guideline_admin)


@pytest.mark.parametrize("persona", list(PERSONAS))
@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_keeps_its_contract(case, persona, request, world, in_test_transaction, no_lockout):
    request.getfixturevalue(persona)
    use_world(case, world)
    token = base64.b64encode(f"{PERSONAS[persona]}:{PASSWORD}".encode()).decode()
    case.call_and_validate(
        headers={"Authorization": f"Basic {token}"}, additional_checks=[a_400_names_the_field]
    )


# --- what the contract test found, kept as examples -----------------------------------------


@pytest.fixture
def api_client(client_for):
    return client_for("clinician")


def test_a_partial_update_answers_every_field_of_the_plan(api_client, world):
    response = api_client.patch(
        f"/api/v1/planning/plans/{world.plan.pk}/", {"notes": "x"}, content_type="application/json"
    )
    assert response.status_code == 200
    plan = response.json()
    assert plan["signed_by"] is None
    assert all("device_name" in stent and "size_verified" in stent for stent in plan["stents"])
    assert set(plan) == set(DOCUMENT["components"]["schemas"]["Plan"]["properties"])


def test_a_done_visit_answers_its_result_with_blank_codes_documented(api_client, world):
    result = api_client.get(f"/api/v1/followup/visits/{world.done_visit.pk}/").json()["result"]
    assert result["inflow_cfv"] == ""
    documented = DOCUMENT["components"]["schemas"]["ResultOutput"]["properties"]["inflow_cfv"]
    assert "" in documented["allOf"][0]["enum"]


def test_a_patch_with_an_incomplete_finding_is_a_400_naming_it(api_client, case_a):
    findings = [{"segment": "CIV", "finding": "occlusion"}]
    response = api_client.patch(
        f"/api/v1/cases/{case_a.pk}/", {"findings": findings}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"findings": [{"side": ["This field is required."]}]}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("name", 0, "string"), ("date_of_birth", 19750412, "string"), ("sex", True, "string")],
)
def test_a_value_of_the_wrong_json_type_is_a_400_naming_it(
    api_client, case_a, field, value, expected
):
    response = api_client.patch(
        f"/api/v1/patients/{case_a.patient.pk}/", {field: value}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {field: [f"Expected a JSON {expected}, not a {_name(value)}."]}


def _name(value: Any) -> str:
    return "boolean" if isinstance(value, bool) else "number"


def test_a_boolean_takes_true_or_false_only(api_client, world):
    url = f"/api/v1/planning/plans/{world.plan.pk}/"
    response = api_client.patch(url, {"bilateral_access": 1}, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"bilateral_access": ["Expected a JSON boolean, not a number."]}


def test_a_record_change_neither_takes_nor_documents_its_case_and_plan(api_client, world):
    record = world.record
    response = api_client.patch(
        f"/api/v1/planning/procedure-records/{record.pk}/",
        {"case": world.followed_case.pk, "plan": None, "operators": "Bert"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["case"], response.json()["plan"]) == (record.case_id, record.plan_id)
    body = DOCUMENT["components"]["schemas"]["PatchedProcedureRecordUpdateRequest"]
    assert not {"case", "plan"} & set(body["properties"])


@pytest.mark.parametrize(("path", "name"), [("planning/plans/", "case"), ("rules/", "topic")])
def test_an_empty_query_parameter_is_one_left_out(api_client, world, path, name):
    assert world.plan.pk
    everything = api_client.get(f"/api/v1/{path}").json()
    response = api_client.get(f"/api/v1/{path}", {name: ""})
    assert response.status_code == 200
    assert response.json() == everything
