"""/api/v1/ for patients and cases: nested findings, 400 bodies that name the field,
read-only computed fields, and an OpenAPI schema that validates without warnings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from rest_framework import status

from cases.models import Case, Patient, SegmentFinding
from tests.cases import entries
from venousapp.api import exception_handler

CASES = "/api/v1/cases/"
PATIENTS = "/api/v1/patients/"


@pytest.fixture
def api(client_for):
    """Alice's client, sending and reading JSON."""
    client = client_for("clinician")

    def call(method: str, path: str, body: Any = None) -> Any:
        if body is None:
            return getattr(client, method)(path)
        return getattr(client, method)(path, body, content_type="application/json")

    return call


def payload(patient: Patient, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient": patient.pk,
        "case_date": "2026-11-02",
        "side": "left",
        "lesion_entity": "chronic_post_thrombotic",
        "ceap": "c4b,s esi ad po (civ,eiv)",
        "ulcer": "none",
        "venous_claudication": True,
        "bleeding_risk_level": "low",
        "thrombolysis_contraindications": [entries.TICKS[0]],
        "findings": [
            {
                "segment": "CIV",
                "side": "left",
                "finding": "occlusion",
                "reference_diameter_mm": "16.0",
                "lesion_length_mm": 70,
                "imaging_method": "ivus",
            },
            {
                "segment": "EIV",
                "side": "left",
                "finding": "stenosis",
                "area_reduction_pct": 64,
                "diameter_reduction_pct": 41,
                "imaging_method": "ivus",
            },
        ],
    }
    body.update({f"vcss_{key}": 1 for key in entries.VCSS})
    body.update({f"villalta_{key}": 1 for key in entries.VILLALTA})
    body.update(changes)
    return body


def findings_of(case: Case) -> list[tuple[Any, ...]]:
    return list(
        case.findings.order_by("id").values_list("segment", "side", "finding", "area_reduction_pct")
    )


def test_api_case_create_with_nested_findings_returns_201(api, patient_a, clinician):
    response = api("post", CASES, payload(patient_a))
    assert response.status_code == status.HTTP_201_CREATED, response.json()
    body = response.json()
    case = Case.objects.get()
    assert body["id"] == case.pk
    assert body["author"] == "alice"
    assert case.author == clinician
    assert body["patient"] == patient_a.pk
    assert body["ceap"] == case.ceap == "C4b,s Esi Ad Po (CIV,EIV)"
    assert case.contraindications_assessed is True
    assert body["contraindications_assessed"] is True
    assert findings_of(case) == [
        ("CIV", "left", "occlusion", None),
        ("EIV", "left", "stenosis", 64),
    ]
    assert [(f["segment"], f["finding"]) for f in body["findings"]] == [
        ("CIV", "occlusion"),
        ("EIV", "stenosis"),
    ]
    assert {f["id"] for f in body["findings"]} == set(case.findings.values_list("id", flat=True))
    assert body["findings"][0]["reference_diameter_mm"] == "16.0"


def test_api_case_create_computes_the_read_only_fields(api, patient_a):
    body = payload(
        patient_a,
        vcss_total=99,
        villalta_total=99,
        villalta_category="none",
        symptom_onset_days=-5,
        author="mallory",
        ceap="C4b,6,s Esi Ad Po (CIV,EIV)",
        ulcer="active",
    )
    answer = api("post", CASES, body).json()
    assert answer["vcss_total"] == 10
    assert answer["villalta_total"] == 11
    assert answer["villalta_category"] == "severe"  # active ulcer
    assert answer["symptom_onset_days"] is None  # not an acute case
    assert answer["author"] == "alice"


def test_api_case_create_acute_reports_symptom_onset_days(api, patient_a):
    body = payload(
        patient_a,
        lesion_entity="acute_thrombotic",
        symptom_onset_date="2026-10-23",
        first_episode=True,
    )
    answer = api("post", CASES, body).json()
    assert answer["symptom_onset_days"] == 10
    assert answer["vcss_total"] is None  # rVCSS is not recorded for acute cases
    assert answer["vcss_pain"] is None
    assert answer["villalta_total"] == 11
    assert answer["villalta_category"] == "moderate"


def test_api_case_retrieve_has_the_computed_fields(api, case_a):
    answer = api("get", f"{CASES}{case_a.pk}/").json()
    assert answer["id"] == case_a.pk
    assert answer["vcss_total"] is None
    assert answer["villalta_total"] is None
    assert answer["villalta_category"] is None
    assert answer["symptom_onset_days"] is None
    assert [f["segment"] for f in answer["findings"]] == ["CIV"]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        pytest.param(
            {"ceap": "C4b,s Es Ai,p Pr,o"},
            {"ceap": ["Ai is not a CEAP anatomy code; did you mean Ad?"]},
            id="ceap",
        ),
        pytest.param(
            {"findings": []},
            {"findings": ["Record at least one segment finding."]},
            id="no-findings",
        ),
        pytest.param(
            {"findings": [{"segment": "CIV", "side": "left", "finding": "occlusion"}] * 2},
            {"findings": ["Each segment and side may be recorded once."]},
            id="duplicate-findings",
        ),
        pytest.param(
            {
                "findings": [
                    {"segment": "CIV", "side": "left", "finding": "occlusion"},
                    {
                        "segment": "EIV",
                        "side": "left",
                        "finding": "stenosis",
                        "area_reduction_pct": 120,
                    },
                ]
            },
            {
                "findings": {
                    "1": {"area_reduction_pct": ["Ensure this value is less than or equal to 100."]}
                }
            },
            id="finding-area-over-100",
        ),
        pytest.param(
            {"findings": [{"segment": "XYZ", "side": "left", "finding": "occlusion"}]},
            {"findings": {"0": {"segment": ['"XYZ" is not a valid choice.']}}},
            id="finding-segment",
        ),
        pytest.param(
            {"lesion_entity": "acute_thrombotic", "symptom_onset_date": "2026-11-03"},
            {"symptom_onset_date": ["Symptom onset cannot be after the case date."]},
            id="symptom-onset-date",
        ),
        pytest.param(
            {"lesion_entity": None},
            {"lesion_entity": ["This field may not be null."]},
            id="lesion-entity-null",
        ),
        pytest.param(
            {"lesion_entity": "acute"},
            {"lesion_entity": ['"acute" is not a valid choice.']},
            id="lesion-entity-unknown",
        ),
        pytest.param(
            {"vcss_pain": 4},
            {"vcss_pain": ["Ensure this value is less than or equal to 3."]},
            id="vcss-grade",
        ),
        pytest.param(
            {"thrombolysis_contraindications": ["bad_luck"]},
            {"thrombolysis_contraindications": {"0": ['"bad_luck" is not a valid choice.']}},
            id="contraindication-code",
        ),
        pytest.param(
            {"case_date": "02.11.2026"},
            {"case_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
            id="case-date-format",
        ),
    ],
)
def test_api_case_create_invalid_input_names_the_field(api, patient_a, changes, errors):
    response = api("post", CASES, payload(patient_a, **changes))
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert response.json() == errors
    assert not Case.objects.exists()


def test_api_case_update_unknown_contraindication_code_names_the_field(api, case_a):
    body = api("get", f"{CASES}{case_a.pk}/").json()
    body["thrombolysis_contraindications"] = ["recent_major_event"]
    response = api("put", f"{CASES}{case_a.pk}/", body)
    assert response.status_code == 400
    assert response.json() == {
        "thrombolysis_contraindications": {"0": ['"recent_major_event" is not a valid choice.']}
    }
    case_a.refresh_from_db()
    assert case_a.thrombolysis_contraindications == []


def test_api_case_read_back_is_accepted_unchanged(api, patient_a):
    created = api("post", CASES, payload(patient_a)).json()
    response = api("put", f"{CASES}{created['id']}/", created)
    assert response.status_code == 200, response.json()
    assert response.json()["thrombolysis_contraindications"] == [entries.TICKS[0]]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 100_000, id="unclosed-lists"),
        pytest.param('{"a":' * 5_000, id="unclosed-objects"),
        pytest.param('{"notes": ' + "[" * 40 + "]" * 40 + "}", id="closed-lists"),
    ],
)
def test_api_deeply_nested_json_is_a_400_not_a_500(client_for, body):
    response = client_for("clinician").post(CASES, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON nested too deeply: at most 32 levels of arrays and objects."
    }


def test_api_case_create_missing_fields_are_each_named(api):
    response = api("post", CASES, {})
    assert response.status_code == 400
    assert set(response.json()) == {"patient", "case_date", "side", "lesion_entity", "findings"}


def test_api_case_create_patient_of_another_centre_is_refused(api, patient_b):
    response = api("post", CASES, payload(patient_b))
    assert response.status_code == 400
    assert response.json() == {"patient": [f'Invalid pk "{patient_b.pk}" - object does not exist.']}
    assert not Case.objects.exists()


def test_api_case_update_replaces_the_findings(api, case_a):
    old_ids = set(case_a.findings.values_list("id", flat=True))
    body = payload(
        case_a.patient,
        findings=[
            {"segment": "CIV", "side": "left", "finding": "stenosis", "area_reduction_pct": 58},
            {"segment": "CFV", "side": "left", "finding": "normal"},
        ],
    )
    response = api("put", f"{CASES}{case_a.pk}/", body)
    assert response.status_code == 200, response.json()
    assert findings_of(case_a) == [("CIV", "left", "stenosis", 58), ("CFV", "left", "normal", None)]
    assert not old_ids & set(case_a.findings.values_list("id", flat=True))
    assert not SegmentFinding.objects.filter(pk__in=old_ids).exists()
    answer = response.json()
    assert [(f["segment"], f["finding"]) for f in answer["findings"]] == [
        ("CIV", "stenosis"),
        ("CFV", "normal"),
    ]
    assert answer["ceap"] == "C4b,s Esi Ad Po (CIV,EIV)"


def test_api_case_update_without_findings_is_refused(api, case_a):
    body = payload(case_a.patient)
    del body["findings"]
    response = api("put", f"{CASES}{case_a.pk}/", body)
    assert response.status_code == 400
    assert response.json() == {"findings": ["This field is required."]}
    assert findings_of(case_a) == [("CIV", "left", "occlusion", None)]


def test_api_case_partial_update_without_findings_keeps_them(api, case_a):
    response = api("patch", f"{CASES}{case_a.pk}/", {"side": "bilateral", "ceap": "C6 Es Ad Po"})
    assert response.status_code == 200
    case_a.refresh_from_db()
    assert (case_a.side, case_a.ceap) == ("bilateral", "C6 Es Ad Po")
    assert findings_of(case_a) == [("CIV", "left", "occlusion", None)]
    assert [f["segment"] for f in response.json()["findings"]] == ["CIV"]


def test_api_case_partial_update_with_findings_replaces_them(api, case_a):
    body = {"findings": [{"segment": "EIV", "side": "left", "finding": "compression"}]}
    response = api("patch", f"{CASES}{case_a.pk}/", body)
    assert response.status_code == 200
    assert findings_of(case_a) == [("EIV", "left", "compression", None)]
    assert [f["segment"] for f in response.json()["findings"]] == ["EIV"]


def test_api_case_partial_update_checks_onset_against_the_stored_case_date(api, case_a):
    path = f"{CASES}{case_a.pk}/"
    assert api("patch", path, {"lesion_entity": "acute_thrombotic"}).status_code == 200
    response = api("patch", path, {"symptom_onset_date": "2026-11-05"})
    assert response.status_code == 400
    assert response.json() == {
        "symptom_onset_date": ["Symptom onset cannot be after the case date."]
    }
    response = api("patch", path, {"symptom_onset_date": "2026-10-30"})
    assert response.json()["symptom_onset_days"] == 3


def test_api_case_update_clears_inputs_that_do_not_apply(api, patient_a):
    case_id = api("post", CASES, payload(patient_a, inflow="good")).json()["id"]
    response = api("patch", f"{CASES}{case_id}/", {"lesion_entity": "acute_thrombotic"})
    answer = response.json()
    assert answer["inflow"] == ""
    assert answer["vcss_pain"] is None
    assert answer["vcss_total"] is None
    assert Case.objects.get(pk=case_id).vcss_pain is None


def test_api_case_update_cannot_move_a_case_to_another_centre(api, case_a, patient_b):
    response = api("patch", f"{CASES}{case_a.pk}/", {"patient": patient_b.pk})
    assert response.status_code == 400
    assert set(response.json()) == {"patient"}
    case_a.refresh_from_db()
    assert case_a.patient.centre.code == "centre-a"


def test_api_case_list_filters_by_lesion_entity(api, case_a, patient_a, clinician):
    from tests.factories import CaseFactory

    nivl = CaseFactory(patient=patient_a, author=clinician, lesion_entity="nivl")
    body = api("get", f"{CASES}?lesion_entity=nivl").json()
    assert [row["id"] for row in body["results"]] == [nivl.pk]
    body = api("get", CASES).json()
    assert {row["id"] for row in body["results"]} == {nivl.pk, case_a.pk}


def test_api_patient_create_and_update(api, clinician):
    body = {
        "identifier": "A-3003",
        "name": "",
        "date_of_birth": "1990-01-31",
        "sex": "other",
        "phone": "+49 30 1234567",
        "email": "kim@example.org",
        "preferred_contact": "phone",
        "address": "Hauptstr. 1\n10115 Berlin",
        "general_practitioner": "Dr Meyer, Praxis am Markt, 030 765432",
    }
    response = api("post", PATIENTS, body)
    assert response.status_code == 201
    patient = Patient.objects.get(identifier="A-3003")
    assert patient.centre == clinician.centre
    assert response.json() == {"id": patient.pk, **body}
    response = api("patch", f"{PATIENTS}{patient.pk}/", {"name": "Kim Example"})
    assert response.json()["name"] == "Kim Example"
    patient.refresh_from_db()
    assert patient.name == "Kim Example"


def test_api_patient_duplicate_identifier_names_the_field(api, patient_a):
    body = {"identifier": "A-1001", "date_of_birth": "1975-04-12", "sex": "female"}
    response = api("post", PATIENTS, body)
    assert response.status_code == 400
    assert response.json() == {
        "identifier": ["A patient with this identifier already exists in your centre."]
    }


def test_api_patient_same_identifier_in_another_centre_is_allowed(api, patient_b):
    body = {"identifier": patient_b.identifier, "date_of_birth": "1960-01-01", "sex": "male"}
    assert api("post", PATIENTS, body).status_code == 201
    assert Patient.objects.filter(identifier=patient_b.identifier).count() == 2


def test_api_patient_update_to_an_existing_identifier_names_the_field(api, patient_a):
    other = Patient.objects.create(
        centre=patient_a.centre, identifier="A-9", date_of_birth=dt.date(2000, 1, 1), sex="male"
    )
    response = api("patch", f"{PATIENTS}{other.pk}/", {"identifier": "A-1001"})
    assert response.status_code == 400
    assert set(response.json()) == {"identifier"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"identifier": "X", "date_of_birth": "1990-02-30", "sex": "female"}, "date_of_birth"),
        ({"identifier": "X", "date_of_birth": "1990-02-01", "sex": "f"}, "sex"),
        ({"date_of_birth": "1990-02-01", "sex": "female"}, "identifier"),
    ],
)
def test_api_patient_create_invalid_input_names_the_field(api, body, field):
    response = api("post", PATIENTS, body)
    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_api_exception_handler_turns_a_service_validation_error_into_a_400():
    response = exception_handler(DjangoValidationError({"findings": ["Record one."]}), {})
    assert response.status_code == 400
    assert response.data == {"findings": ["Record one."]}
    response = exception_handler(DjangoValidationError("Not now."), {})
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["Not now."]}


def test_api_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/cases/", "/api/v1/cases/{id}/", "/api/v1/patients/"):
        assert path in schema["paths"]
    components = schema["components"]["schemas"]
    computed = {"vcss_total", "villalta_total", "villalta_category", "symptom_onset_days"}
    for name in computed | {"id", "author"}:
        assert components["Case"]["properties"][name]["readOnly"] is True, name
        assert name not in components["CaseRequest"]["properties"], name
    assert "findings" in components["CaseRequest"]["required"]


def test_api_schema_endpoint_serves_the_schema(client_for):
    response = client_for("nurse").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/cases/" in response.json()["paths"]


def test_api_case_list_does_not_build_its_fields_on_every_request(api, case_a, monkeypatch):
    """The serializers' fields come from the model once per process, not per request."""
    from rest_framework import serializers

    built: list[str] = []
    build_field = serializers.ModelSerializer.build_field

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(type(self).__name__)
        return build_field(self, *args, **kwargs)

    monkeypatch.setattr(serializers.ModelSerializer, "build_field", counting)
    assert api("get", CASES).status_code == 200  # the first request may build them
    built.clear()
    for _ in range(2):
        assert api("get", CASES).status_code == 200
        assert api("get", f"{CASES}{case_a.pk}/").status_code == 200
    assert built == []


def test_api_case_fields_keep_each_requests_centre(client_for, patient_a, patient_b):
    """Fields built once still take the patient from the requesting user's centre."""
    alice, bob = client_for("clinician"), client_for("other_centre_clinician")
    for client, own, other in ((alice, patient_a, patient_b), (bob, patient_b, patient_a)):
        refused = client.post(CASES, payload(other), content_type="application/json")
        assert refused.status_code == 400
        assert set(refused.json()) == {"patient"}
        created = client.post(CASES, payload(own), content_type="application/json")
        assert created.status_code == 201
