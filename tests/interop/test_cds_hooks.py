"""The CDS Hooks 2.0 service as a hospital record system calls it: signed JWT, prefetch (or
a FHIR server to fetch from), cards, feedback."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pydantic
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidelines.models import CardFeedback
from guidelines.vocabulary import CEAP_SEGMENTS, CONTRAINDICATION_FACTORS, FACT_FIELDS
from interop.cds_hooks import HOOK, validated_model
from interop.jwt_auth import NotAuthenticated, Verified, claim, registration
from interop.models import CdsClient, HookCall
from interop.resources import facts_resources
from tests.guidelines.builders import acute_if
from venousapp.accounts.models import Centre

SERVICE = "/cds-services/venousapp-patient-view"
AUDIENCE = f"http://testserver{SERVICE}"
ISSUER = "https://ehr.example.org"
STUB_PORT = 18311


def _key() -> tuple[Any, str]:
    private = ec.generate_private_key(ec.SECP384R1())
    public = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


PRIVATE, PUBLIC = _key()
OTHER_PRIVATE, _OTHER_PUBLIC = _key()


@pytest.fixture
def ehr(centre_a) -> CdsClient:
    return CdsClient.objects.create(
        name="Hospital record", issuer=ISSUER, public_key_pem=PUBLIC, centre=centre_a
    )


def token(
    *,
    key: Any = PRIVATE,
    aud: str = AUDIENCE,
    iss: str = ISSUER,
    expires_in: int = 300,
    drop: str | None = None,
    jti: str | None = None,
) -> str:
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "iat": now, "exp": now + expires_in, "jti": jti}
    claims["jti"] = jti or str(uuid.uuid4())
    if drop:
        del claims[drop]
    return jwt.encode(claims, key, algorithm="ES384", headers={"kid": "ehr-1"})


def _segment(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _resigned(**claims: Any) -> str:
    """A token of the registered key whose claims are changed after they were made."""
    made = jwt.decode(token(), options={"verify_signature": False})
    return jwt.PyJWS().encode(json.dumps({**made, **claims}).encode(), PRIVATE, algorithm="ES384")


def call(client, body: dict, bearer: str | None = None, path: str = SERVICE):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer or token(aud=f'http://testserver{path}')}"}
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def _today(centre) -> dt.date:
    return centre.today()


def hook_body(facts: dict, today: dt.date, **extra: Any) -> dict:
    """A patient-view request whose prefetch holds ``facts`` as the record would."""
    resources = facts_resources(facts, today=today, patient_id="pat-1")
    patient = resources[0].model_dump(mode="json", exclude_none=True)
    conditions = [r for r in resources if r.get_resource_type() == "Condition"]
    observations = [r for r in resources if r.get_resource_type() == "Observation"]

    def searchset(items: list[Any]) -> dict:
        bundle = Bundle(type="searchset", entry=[{"resource": r} for r in items])
        return bundle.model_dump(mode="json", exclude_none=True)

    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/1", "patientId": "pat-1"},
        "prefetch": {
            "patient": patient,
            "conditions": searchset(conditions),
            "observations": searchset(observations),
        },
        **extra,
    }


PREGNANT_ACUTE_DVT = {
    "age": 31,
    "sex": "female",
    "side": "left",
    "lesion_entity": "acute_thrombotic",
    "segments_involved": ["CIV", "EIV", "CFV"],
    "obstruction": {"type": "occlusion"},
    "pregnancy": True,
    "symptom_onset_days": 4,
    "first_episode": True,
    "phlegmasia": False,
    "symptom_severity": "severe",
    "ambulatory": True,
    "life_expectancy_years": 40,
    "bleeding_risk": {"level": "low", "factors": []},
}


def test_discovery_lists_the_patient_view_service_with_its_prefetch(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    (service,) = response.json()["services"]
    assert service["hook"] == "patient-view"
    assert service["id"] == "venousapp-patient-view"
    assert service["title"]
    assert service["description"]
    assert service["prefetch"] == {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}",
        "observations": "Observation?patient={{context.patientId}}",
    }


def test_pregnant_patient_with_acute_iliofemoral_dvt_gets_a_critical_card(client, ehr):
    response = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre)))
    assert response.status_code == 200, response.content
    cards = response.json()["cards"]
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert len(critical) == 1
    (card,) = critical
    assert "Thrombolysis contraindicated (relative)" in card["summary"]
    assert "regnan" in card["summary"]  # pregnancy or lactation, named
    for card in cards:
        assert len(card["summary"]) <= 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        assert card["links"][0]["type"] == "absolute"
        assert card["links"][0]["url"].startswith("http")
        assert "/interop/open/" in card["links"][0]["url"]
        assert {r["code"] for r in card["overrideReasons"]} >= {"patient_preference", "other"}
        text = json.dumps(card, ensure_ascii=False)
        for tag in ("\N{SECTION SIGN}", "brief", "[V]", "[S]", "[M]"):
            assert tag not in text
    assert "**met**" in critical[0]["detail"] or "**" in critical[0]["detail"]


def test_the_card_link_opens_the_patients_case(client_for, ehr, case_a):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    body["prefetch"]["patient"]["identifier"] = [
        {"system": ehr.centre.patient_system, "value": case_a.patient.identifier}
    ]
    cards = call(client_for("anonymous"), body).json()["cards"]
    link = cards[0]["links"][0]["url"]
    path = link[link.index("/interop/") :]
    response = client_for("nurse").get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case_a.pk}/"


def test_a_guideline_advising_against_what_others_support_is_a_warning_card(client, ehr):
    """Acute iliofemoral DVT without a contraindication: the guidelines disagree on early
    thrombus removal. The card advising against it is a warning, the others are info; each
    names its guideline with the address of its source, and its detail lists every
    criterion as met, not met or unknown."""
    response = call(client, hook_body(acute_if(), _today(ehr.centre)))
    assert response.status_code == 200, response.content
    cards = response.json()["cards"]
    by_indicator = {}
    for card in cards:
        by_indicator.setdefault(card["indicator"], []).append(card)
    assert set(by_indicator) == {"info", "warning"}
    (warning,) = by_indicator["warning"]
    assert "ACCP" in warning["source"]["label"]
    assert warning["source"]["url"].startswith("https://")
    labels = {"met", "not met", "unknown"}
    for card in cards:
        lines = [line for line in card["detail"].splitlines() if line.startswith("- **")]
        assert lines, card["summary"]
        for line in lines:
            assert line[4 : line.index("**", 4)] in labels, line


def test_the_card_link_starts_a_case_for_a_patient_without_one(client_for, ehr, patient_a):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    body["prefetch"]["patient"]["identifier"] = [
        {"system": ehr.centre.patient_system, "value": patient_a.identifier}
    ]
    link = call(client_for("anonymous"), body).json()["cards"][0]["links"][0]["url"]
    path = link[link.index("/interop/") :]
    response = client_for("clinician").get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/cases/new/?patient={patient_a.pk}"
    assert client_for("clinician").get(response["Location"]).status_code == 200
    # Someone who may not create cases is not sent to an empty form.
    assert client_for("nurse").get(path).status_code == 404


def test_a_card_link_with_an_identifier_no_record_can_hold_starts_a_new_case(client_for):
    response = client_for("clinician").get("/interop/open/", {"patient": "12\x0034"})
    assert response.status_code == 302
    assert response["Location"] == "/cases/new/"


# --- same rule values as POST /api/v1/evaluate -----------------------------------------------

_VALUES: dict[str, st.SearchStrategy] = {}
for _name, _field in FACT_FIELDS.items():
    if _field.kind == "bool":
        _VALUES[_name] = st.booleans()
    elif _field.kind == "enum":
        _VALUES[_name] = st.sampled_from(_field.values)
    elif _field.kind == "number":
        top = int(min(_field.maximum or 100, 100))
        _VALUES[_name] = st.integers(min_value=0, max_value=top)
_VALUES["age"] = st.integers(min_value=18, max_value=95)
_VALUES["life_expectancy_years"] = st.integers(0, 60) | st.sampled_from([0.5, 2.5, 12.5])
_VALUES["underlying_iliac_lesion"] = st.sampled_from([True, False, "unknown"])
_VALUES["ceap"] = st.sampled_from(["C6,s Esi Ad Po", "C4b,s", "C3,a", "C2r,a", "C0,s", "C5"])
_VALUES["segments_involved"] = st.lists(
    st.sampled_from(CEAP_SEGMENTS), min_size=1, max_size=4, unique=True
)
_VALUES["obstruction"] = st.fixed_dictionaries(
    {"type": st.sampled_from(["occlusion", "stenosis"])},
    optional={
        "area_reduction_pct": st.integers(0, 100),
        "diameter_reduction_pct": st.integers(0, 100),
    },
)
_VALUES["bleeding_risk"] = st.fixed_dictionaries(
    {"factors": st.lists(st.sampled_from(CONTRAINDICATION_FACTORS), max_size=3, unique=True)},
    optional={
        "level": st.sampled_from(["low", "high"]),
        "contraindication_class": st.sampled_from(["none", "relative", "absolute"]),
    },
)
FACTS = st.fixed_dictionaries({}, optional=dict(_VALUES.items()))


def _applicable(rules: dict) -> dict[str, str]:
    return {rule_id: r["value"] for rule_id, r in rules.items() if r["value"] != "not_applicable"}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(facts=FACTS)
def test_the_hook_gives_the_rule_values_of_evaluate(client_for, ehr, facts):
    """Random facts documents, written as a record holds them and read back by the hook,
    evaluate to the rule values POST /api/v1/evaluate gives for the documents themselves."""
    from interop.mapping import read_resources

    today = _today(ehr.centre)
    evaluated = client_for("nurse").post(
        "/api/v1/evaluate", json.dumps(facts), content_type="application/json"
    )
    assert evaluated.status_code == 200
    expected = evaluated.json()
    assert expected["warnings"] == []
    reading = read_resources(facts_resources(facts, today=today), today=today)
    assert reading.errors == []
    mapped = client_for("nurse").post(
        "/api/v1/evaluate", json.dumps(reading.facts), content_type="application/json"
    )
    assert {k: v["value"] for k, v in mapped.json()["rules"].items()} == {
        k: v["value"] for k, v in expected["rules"].items()
    }
    assert mapped.json()["overall"] == expected["overall"]
    assert mapped.json()["planning"] == expected["planning"]
    body = hook_body(facts, today)
    response = call(client_for("anonymous"), body)
    assert response.status_code == 200, response.content
    (issued,) = HookCall.objects.filter(hook_instance=body["hookInstance"])
    assert {card["rule_id"]: card["value"] for card in issued.cards.values()} == _applicable(
        expected["rules"]
    )


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bearer",
    [
        pytest.param(lambda: token(iss="https://unknown.example.org"), id="unknown-issuer"),
        pytest.param(lambda: token(key=OTHER_PRIVATE), id="bad-signature"),
        pytest.param(lambda: token(expires_in=-120), id="expired"),
        pytest.param(lambda: token(aud="https://elsewhere.example.org/cds"), id="wrong-audience"),
        pytest.param(lambda: token(drop="jti"), id="no-jti"),
        pytest.param(lambda: "not-a-jwt", id="garbage"),
        pytest.param(lambda: "e30.!!!.e30", id="payload-not-base64"),
        pytest.param(lambda: "e30.bm90IGpzb24.e30", id="payload-not-json"),
        pytest.param(lambda: "e30.WyJpc3MiXQ.e30", id="payload-not-an-object"),
        pytest.param(lambda: f"e30.{_segment('[' * 3000 + ']' * 3000)}.e30", id="payload-too-deep"),
        pytest.param(lambda: _resigned(iss=["https://ehr.example.org"]), id="issuer-not-text"),
    ],
)
def test_a_bad_token_is_a_401(client, ehr, bearer):
    response = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre)), bearer())
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert not HookCall.objects.exists()


@pytest.mark.parametrize("path", [SERVICE, SERVICE + "/feedback"])
def test_a_body_nested_too_deeply_is_a_400(client, ehr, path):
    body = '{"hook": ' + "[" * 100_000 + "]" * 100_000 + "}"
    bearer = token(aud=f"http://testserver{path}")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"}
    response = client.post(path, body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_nul_character_in_the_hook_instance_is_a_400_and_in_the_jti_a_401(client, ehr):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre), hookInstance="a\x00b")
    response = call(client, body)
    assert response.status_code == 400
    assert "hookInstance" in response.json()["detail"]
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    response = call(client, body, token(jti="a\x00b"))
    assert response.status_code == 401
    assert "jti" in response.json()["detail"]
    assert HookCall.objects.count() == 1


def test_no_token_and_a_replayed_token_are_401(client, ehr):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    response = client.post(SERVICE, json.dumps(body), content_type="application/json")
    assert response.status_code == 401
    once = token(jti="once")
    assert call(client, body, once).status_code == 200
    assert call(client, body, once).status_code == 401


def test_the_caller_and_its_centre_are_read_as_the_orm_reads_them(ehr):
    """The written-out query of the caller's client: every column of both rows, in place."""
    from interop.jwt_auth import registration

    def values(instance) -> dict:
        return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.fields}

    read = registration(ISSUER).client
    expected = CdsClient.objects.select_related("centre").get(pk=ehr.pk)
    assert values(read) == values(expected)
    assert values(read.centre) == values(expected.centre)
    assert read.centre.today() == expected.centre.today()
    assert registration("https://unknown.example.org") is None


def test_an_inactive_client_is_refused(client, ehr):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    assert call(client, body).status_code == 200
    ehr.active = False
    ehr.save()
    assert call(client, body).status_code == 401


def _client_reads(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT c.")]


@pytest.mark.django_db(transaction=True)
def test_a_process_reads_a_clients_registration_once(client, ehr):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    with CaptureQueriesContext(connection) as first:
        assert call(client, body).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert call(client, body).status_code == 200
    assert len(_client_reads(first)) == 1
    assert _client_reads(second) == []
    assert HookCall.objects.count() == 2


def _elsewhere(model, pk: int, **changes: Any) -> None:
    """A change made by another process: no signal reaches this one."""
    model.objects.filter(pk=pk).update(**changes)


@pytest.mark.django_db(transaction=True)
def test_a_client_deactivated_elsewhere_is_refused_at_its_next_call(client, ehr):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    assert call(client, body).status_code == 200
    _elsewhere(CdsClient, ehr.pk, active=False)
    response = call(client, body)
    assert response.status_code == 401
    assert response.json()["detail"] == "Unknown issuer."
    assert HookCall.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_key_changed_elsewhere_is_used_at_the_next_call(client, ehr):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    assert call(client, body).status_code == 200
    _elsewhere(CdsClient, ehr.pk, public_key_pem=_OTHER_PUBLIC)
    assert call(client, body, token(key=OTHER_PRIVATE)).status_code == 200
    assert call(client, body, token()).status_code == 401


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic", [False, True], ids=["alone", "in-a-transaction"])
def test_a_call_answers_with_the_registration_as_it_is_when_the_call_is_recorded(
    client, ehr, monkeypatch, atomic
):
    """A change made elsewhere while this process still holds the earlier registration (a
    centre's time zone, here) is not answered with: the call is made again as it is now."""
    from interop import cds_hooks

    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    assert call(client, body).status_code == 200
    _elsewhere(Centre, ehr.centre_id, time_zone="Pacific/Kiritimati")
    zones = []
    service_call = cds_hooks.service_call

    def spy(*, body, client):
        zones.append(client.centre.time_zone)
        return service_call(body=body, client=client)

    monkeypatch.setattr("interop.cds_views.service_call", spy)
    with transaction.atomic() if atomic else contextlib.nullcontext():
        assert call(client, body).status_code == 200
    assert zones == ["Europe/Berlin", "Pacific/Kiritimati"]
    assert HookCall.objects.count() == 2
    assert call(client, body).status_code == 200
    assert zones[2:] == ["Pacific/Kiritimati"]


def test_a_prefetch_that_cannot_be_mapped_is_a_412(client, ehr):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    entry = body["prefetch"]["observations"]["entry"][0]["resource"]
    entry["code"]["coding"][-1]["code"] = "no_such_fact"
    assert call(client, body).status_code == 412
    body["prefetch"]["patient"] = {"resourceType": "Observation"}
    assert call(client, body).status_code == 412


@pytest.mark.parametrize(
    ("where", "element"),
    [("patient", "identifier"), ("conditions", "bodySite"), ("observations", "component")],
)
def test_a_null_in_a_list_of_elements_is_a_412_naming_the_element(client, ehr, where, element):
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    prefetch = body["prefetch"]
    resource = prefetch[where] if where == "patient" else prefetch[where]["entry"][0]["resource"]
    resource[element] = [None]
    response = call(client, body)
    assert response.status_code == 412
    assert f"None is not allowed as an element of {element}" in response.json()["detail"]


@pytest.mark.parametrize("model", [Patient, Condition, Observation])
def test_the_services_models_refuse_a_null_in_every_list_the_library_refuses_it_in(model):
    """The service's checked models find a null in a list of complex elements without
    looking at every element the resource type defines; they refuse what the library's
    models refuse and accept what they accept."""
    checked = validated_model(model.get_resource_type())
    assert checked is validated_model(model.get_resource_type())
    assert issubclass(checked, model)
    for name, field in model.model_fields.items():
        data = {"status": "final", "code": {"text": "x"}} if model is Observation else {}
        data[field.alias or name] = [None]
        assert _errors(checked, data) == _errors(model, data), name


def _errors(model: Any, data: dict) -> list[str]:
    try:
        model(**data)
    except pydantic.ValidationError as exc:
        return [error["msg"] for error in exc.errors()]
    return []


def test_a_coded_element_is_validated_whatever_calls_came_before(client, ehr):
    """Coded elements seen before are not validated again; one that differs at all is, and
    an invalid one is refused every time."""
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    assert call(client, body).status_code == 200
    concept = body["prefetch"]["observations"]["entry"][0]["resource"]["code"]
    concept["coding"][0]["userSelected"] = "perhaps"
    for _attempt in range(2):
        response = call(client, {**body, "hookInstance": str(uuid.uuid4())})
        assert response.status_code == 412
        assert "userSelected" in response.json()["detail"]
    del concept["coding"][0]["userSelected"]
    assert call(client, {**body, "hookInstance": str(uuid.uuid4())}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_call_record_is_one_statement_that_alone_does_not_wait_for_the_disk(client, ehr):
    """Recording a call with its cards is one row, committed without waiting for the WAL
    flush (a call is a read; its record guards a token's jti for minutes); every other write
    still waits."""
    with CaptureQueriesContext(connection) as queries:
        response = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre)))
    assert response.status_code == 200
    (record,) = [q["sql"] for q in queries.captured_queries if "interop_hookcall" in q["sql"]]
    assert "set_config('synchronous_commit', 'off', true)" in record
    stored = HookCall.objects.get()
    answered = response.json()["cards"]
    assert len(answered) >= 2
    assert set(stored.cards) == {card["uuid"] for card in answered}
    uuids = [uuid.UUID(card["uuid"]) for card in answered]
    assert {u.version for u in uuids} == {4}
    assert len(set(uuids)) == len(uuids)
    assert {str(u)[:18] for u in uuids} == {str(stored.card_prefix)[:18]}
    critical = next(card for card in answered if card["indicator"] == "critical")
    assert stored.cards[critical["uuid"]] == {
        "rule_id": "SIR-2014-QI-CONTRA",
        "value": "against",
        "indicator": "critical",
    }
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def _verified(ehr, jti: str) -> Verified:
    now = int(time.time())
    return Verified(registration=registration(ehr.issuer), claims={"jti": jti, "exp": now + 300})


@pytest.mark.django_db(transaction=True)
def test_a_call_without_cards_is_recorded_and_its_token_taken(ehr):
    caller = claim(_verified(ehr, "no-cards"), hook=HOOK, hook_instance="i")
    assert HookCall.objects.get(pk=caller.call.pk).jti == "no-cards"
    with pytest.raises(NotAuthenticated):
        claim(_verified(ehr, "no-cards"), hook=HOOK, hook_instance="j")
    assert HookCall.objects.count() == 1


def test_inside_a_transaction_the_record_is_an_ordinary_save_that_leaves_it_usable(ehr):
    """Another caller's transaction (and ``make run``'s SQLite) keeps its own commit: the
    record is a plain save in a savepoint, and a replay leaves the transaction usable."""
    cards = {str(uuid.uuid4()): {"rule_id": "R-1", "value": "recommend", "indicator": "info"}}
    with transaction.atomic():
        caller = claim(_verified(ehr, "orm"), hook=HOOK, hook_instance="i", cards=cards)
        with pytest.raises(NotAuthenticated):
            claim(_verified(ehr, "orm"), hook=HOOK, hook_instance="j")
        assert HookCall.objects.get().cards == cards
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert HookCall.objects.get().pk == caller.call.pk


# --- fetching from the caller's FHIR server -----------------------------------------------------


@pytest.fixture
def fhir_server(ehr):
    """A FHIR server on 127.0.0.1 holding the pregnant patient; it wants the bearer token.
    Yields its address, the requests it saw and its answers by path (JSON, or bytes)."""
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))["prefetch"]
    routes = {
        "/fhir/Patient/pat-1": body["patient"],
        "/fhir/Condition?patient=pat-1": body["conditions"],
        "/fhir/Observation?patient=pat-1": body["observations"],
    }
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            if self.headers.get("Authorization") != "Bearer ehr-token" or self.path not in routes:
                self.send_response(401 if self.path in routes else 404)
                self.end_headers()
                return
            route = routes[self.path]
            payload = route if isinstance(route, bytes) else json.dumps(route).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", STUB_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{STUB_PORT}/fhir", seen, routes
    server.shutdown()
    server.server_close()


def test_without_prefetch_the_service_fetches_from_the_fhir_server(client, ehr, fhir_server):
    address, seen, _routes = fhir_server
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    del body["prefetch"]
    body["fhirServer"] = address
    body["fhirAuthorization"] = {
        "access_token": "ehr-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "venousapp",
    }
    response = call(client, body)
    assert response.status_code == 200, response.content
    assert any(c["indicator"] == "critical" for c in response.json()["cards"])
    assert sorted(path for path, _auth in seen) == [
        "/fhir/Condition?patient=pat-1",
        "/fhir/Observation?patient=pat-1",
        "/fhir/Patient/pat-1",
    ]
    assert {auth for _path, auth in seen} == {"Bearer ehr-token"}


def test_a_fhir_server_that_refuses_is_a_412(client, ehr, fhir_server):
    address, _seen, _routes = fhir_server
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    del body["prefetch"]
    body["fhirServer"] = address
    body["fhirAuthorization"] = {"access_token": "wrong", "token_type": "Bearer"}
    assert call(client, body).status_code == 412


def test_a_fhir_server_answer_nested_too_deeply_is_a_412(client, ehr, fhir_server):
    address, _seen, routes = fhir_server
    routes["/fhir/Patient/pat-1"] = b"[" * 100_000 + b"]" * 100_000
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    del body["prefetch"]
    body["fhirServer"] = address
    body["fhirAuthorization"] = {"access_token": "ehr-token", "token_type": "Bearer"}
    assert call(client, body).status_code == 412


@pytest.mark.parametrize("patient_id", ["pat 1", "pat-1&_count=1000", "../Observation", "p" * 65])
def test_a_patient_id_that_is_no_fhir_id_is_a_400_and_nothing_is_fetched(
    client, ehr, fhir_server, patient_id
):
    address, seen, _routes = fhir_server
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    del body["prefetch"]
    body["context"]["patientId"] = patient_id
    body["fhirServer"] = address
    body["fhirAuthorization"] = {"access_token": "ehr-token", "token_type": "Bearer"}
    response = call(client, body)
    assert response.status_code == 400
    assert "context.patientId" in response.json()["detail"]
    assert seen == []


@pytest.mark.parametrize(
    ("server", "access_token"),
    [(None, "ehr\ntoken"), ("http://127.0.0.1:1/fhir\n", "ehr-token")],
    ids=["token-with-a-line-break", "address-with-a-line-break"],
)
def test_a_fhir_server_request_that_cannot_be_sent_is_a_412(
    client, ehr, fhir_server, server, access_token
):
    address, _seen, _routes = fhir_server
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    del body["prefetch"]
    body["fhirServer"] = server or address
    body["fhirAuthorization"] = {"access_token": access_token, "token_type": "Bearer"}
    assert call(client, body).status_code == 412


# --- feedback ------------------------------------------------------------------------------------


def test_feedback_is_stored_as_card_feedback(client, ehr):
    cards = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))).json()["cards"]
    critical = next(c for c in cards if c["indicator"] == "critical")
    accepted = next(c for c in cards if c["indicator"] != "critical")
    feedback_path = f"{SERVICE}/feedback"
    body = {
        "feedback": [
            {
                "card": critical["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "bleeding_risk",
                        "system": critical["overrideReasons"][0]["system"],
                    },
                    "userComment": "Discussed with obstetrics",
                },
                "outcomeTimestamp": "2026-12-06T10:00:00Z",
            },
            {
                "card": accepted["uuid"],
                "outcome": "accepted",
                "outcomeTimestamp": "2026-12-06T10:01:00Z",
            },
        ]
    }
    response = call(client, body, path=feedback_path)
    assert response.status_code == 200, response.content
    stored = {str(f.hook_card): f for f in CardFeedback.objects.all()}
    overridden = stored[critical["uuid"]]
    assert (overridden.rule_id, overridden.value, overridden.action, overridden.reason) == (
        "SIR-2014-QI-CONTRA",
        "against",
        "overridden",
        "bleeding_risk",
    )
    assert overridden.comment == "Discussed with obstetrics"
    assert overridden.decision is None
    assert overridden.history.count() == 1
    assert stored[accepted["uuid"]].action == "accepted"


def test_feedback_with_a_nul_character_in_its_comment_is_a_400_and_stores_nothing(client, ehr):
    cards = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))).json()["cards"]
    item = {
        "card": cards[0]["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": {"code": "other"}, "userComment": "seen\x00"},
    }
    response = call(client, {"feedback": [item]}, path=f"{SERVICE}/feedback")
    assert response.status_code == 400
    assert "userComment" in response.json()["detail"]
    assert not CardFeedback.objects.exists()


def test_one_feedback_names_cards_of_several_calls(client, ehr):
    first, second = (
        call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))).json()["cards"][0]
        for _call in range(2)
    )
    body = {
        "feedback": [
            {"card": first["uuid"], "outcome": "accepted"},
            {"card": second["uuid"], "outcome": "accepted"},
        ]
    }
    assert call(client, body, path=f"{SERVICE}/feedback").status_code == 200
    assert {str(f.hook_card) for f in CardFeedback.objects.all()} == {
        first["uuid"],
        second["uuid"],
    }


def test_feedback_for_an_unknown_card_or_without_a_token_is_refused(client, ehr):
    feedback_path = f"{SERVICE}/feedback"
    body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted"}]}
    assert call(client, body, path=feedback_path).status_code == 400
    response = client.post(feedback_path, json.dumps(body), content_type="application/json")
    assert response.status_code == 401
    assert not CardFeedback.objects.exists()


def test_feedback_on_a_card_answered_to_another_client_is_refused(client, ehr, centre_a):
    card = call(client, hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))).json()["cards"][0]
    other_private, other_public = _key()
    CdsClient.objects.create(
        name="Other record",
        issuer="https://other.example.org",
        public_key_pem=other_public,
        centre=centre_a,
    )
    feedback_path = f"{SERVICE}/feedback"
    other = token(
        key=other_private, iss="https://other.example.org", aud=f"http://testserver{feedback_path}"
    )
    body = {"feedback": [{"card": card["uuid"], "outcome": "accepted"}]}
    response = call(client, body, other, path=feedback_path)
    assert response.status_code == 400
    assert card["uuid"] in response.json()["detail"]
    assert not CardFeedback.objects.exists()
    assert call(client, body, path=feedback_path).status_code == 200
    assert CardFeedback.objects.get().rule_id


def test_a_client_registered_by_its_jwks_address_is_checked_against_it(client, centre_a):
    """The key is fetched from the client's JWKS (a local server), matched by the token's kid."""
    from jwt.algorithms import ECAlgorithm

    jwk = json.loads(ECAlgorithm.to_jwk(PRIVATE.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "ehr-1", "use": "sig", "alg": "ES384"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", STUB_PORT + 1), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        CdsClient.objects.create(
            name="Record with JWKS",
            issuer=ISSUER,
            jwks_url=f"http://127.0.0.1:{STUB_PORT + 1}/jwks.json",
            centre=centre_a,
        )
        body = hook_body(PREGNANT_ACUTE_DVT, _today(centre_a))
        assert call(client, body).status_code == 200
        assert call(client, body, token(key=OTHER_PRIVATE)).status_code == 401
    finally:
        server.shutdown()
        server.server_close()


def test_a_resource_sent_again_is_not_validated_again(client, ehr, monkeypatch):
    """A chart opened again sends the same resources: each is validated once per process;
    one that differs at all is validated afresh, and an invalid one is refused every time."""
    from interop import cds_hooks

    validated: list[str] = []
    model_of = cds_hooks.validated_model

    def counting(kind):
        model = model_of(kind)

        def build(**data):
            validated.append(kind)
            return model(**data)

        return build

    monkeypatch.setattr(cds_hooks, "validated_model", counting)
    monkeypatch.setattr(cds_hooks, "_kept_resources", {})  # what earlier tests sent
    body = hook_body(PREGNANT_ACUTE_DVT, _today(ehr.centre))
    assert call(client, body).status_code == 200
    first = len(validated)
    assert first > 0
    assert call(client, {**body, "hookInstance": str(uuid.uuid4())}).status_code == 200
    assert len(validated) == first

    observation = body["prefetch"]["observations"]["entry"][0]["resource"]
    observation["status"] = "amended"
    assert call(client, {**body, "hookInstance": str(uuid.uuid4())}).status_code == 200
    assert validated[first:] == ["Observation"]

    observation["status"] = "amended twice\n"
    for _attempt in range(2):
        response = call(client, {**body, "hookInstance": str(uuid.uuid4())})
        assert response.status_code == 412
        assert "status" in response.json()["detail"]
