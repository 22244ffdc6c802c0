"""GET /api/v1/cases/<id>/fhir and the case page's "Export as FHIR" button."""

from __future__ import annotations

import importlib
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.conftest import PERSONAS

EXPECTED = {
    "clinician": 200,
    "nurse": 200,
    "guideline_admin": 200,
    "other_centre_clinician": 404,
    "anonymous": 401,
}


def _export(client, case) -> dict:
    response = client.get(f"/api/v1/cases/{case.pk}/fhir")
    assert response.status_code == 200, response.content[:500]
    return response.json()


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_every_resource_validates_with_the_fhir_models(client_for, treated_case):
    bundle = _export(client_for("clinician"), treated_case)
    parsed = Bundle.model_validate(bundle)
    kinds = set()
    for entry in parsed.entry:
        resource = entry.resource
        kind = resource.get_resource_type()
        kinds.add(kind)
        module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
        getattr(module, kind).model_validate(resource.model_dump(mode="json"))
    assert kinds == {
        "Patient",
        "Condition",
        "Observation",
        "Procedure",
        "Device",
        "CarePlan",
        "GuidanceResponse",
    }


def test_two_procedures_and_their_schedules_are_exported(client_for, treated_case):
    bundle = _export(client_for("clinician"), treated_case)
    procedures = _resources(bundle, "Procedure")
    assert sorted(p["performedDateTime"] for p in procedures) == ["2026-08-03", "2026-10-05"]
    devices = _resources(bundle, "Device")
    assert len(devices) == 2
    assert {d.get("lotNumber") for d in devices} == {None, "LOT-77"}
    addresses = {e["fullUrl"] for e in bundle["entry"]}
    for procedure in procedures:
        (focal,) = procedure["focalDevice"]
        assert focal["manipulated"]["reference"] in addresses
    plans = _resources(bundle, "CarePlan")
    assert len(plans) == 2
    for plan in plans:
        windows = [a["detail"]["scheduledPeriod"] for a in plan["activity"]]
        assert windows
        assert all(w["start"] <= w["end"] for w in windows)


def test_clinical_content_is_coded_and_the_evaluation_names_rules_and_citations(
    client_for, treated_case
):
    bundle = _export(client_for("nurse"), treated_case)
    (patient,) = _resources(bundle, "Patient")
    assert patient["identifier"][0]["value"] == "A-1001"
    assert patient["identifier"][0]["system"] == "urn:venousapp:centre:centre-a:patient-id"
    (condition,) = _resources(bundle, "Condition")
    codings = {(c["system"], c["code"]) for c in condition["code"]["coding"]}
    assert ("http://hl7.org/fhir/sid/icd-10", "I87.0") in codings
    observations = _resources(bundle, "Observation")
    by_code = {o["code"]["coding"][-1]["code"]: o for o in observations}
    assert by_code["ceap"]["valueString"] == "C6,s Esi Ad Po"
    # Items as components; a total only where the score says one (all items graded).
    assert by_code["vcss"].get("valueInteger") == treated_case.vcss_total
    assert len(by_code["vcss"]["component"]) == 2
    assert by_code["villalta"].get("valueInteger") == treated_case.villalta_total
    assert {c["code"]["coding"][0]["code"] for c in by_code["villalta"]["component"]} >= {
        "pain",
        "cramps",
    }
    assert treated_case.villalta_category
    (category,) = [
        c for c in by_code["villalta"]["component"] if c["code"]["coding"][0]["code"] == "category"
    ]
    assert category["valueString"] == treated_case.villalta_category
    segments = [o for o in observations if o["code"]["coding"][-1]["code"] == "segment_finding"]
    assert sorted(o["bodySite"]["text"] for o in segments) == ["CIV", "EIV"]
    eiv = next(o for o in segments if o["bodySite"]["text"] == "EIV")
    assert {"value": 62, "unit": "%"}.items() <= eiv["component"][1]["valueQuantity"].items()
    (guidance,) = _resources(bundle, "GuidanceResponse")
    (output,) = guidance["contained"]
    rules = {
        p["part"][0]["valueCode"]: {q["name"]: q for q in p["part"]}
        for p in output["parameter"]
        if p["name"] == "recommendation"
    }
    assert len(rules) == 23
    assert rules["SVSAVF-2014-VLU-6.8"]["value"]["valueString"] == "recommend"
    assert "citation" in rules["SVSAVF-2014-VLU-6.8"]


def test_the_export_reads_back_into_the_same_case_values(client_for, treated_case):
    from interop.mapping import read_resources

    bundle = Bundle.model_validate(_export(client_for("clinician"), treated_case))
    reading = read_resources(
        [e.resource for e in bundle.entry],
        today=treated_case.case_date,
        identifier_system="urn:venousapp:centre:centre-a:patient-id",
    )
    assert reading.errors == []
    assert reading.patient["identifier"] == "A-1001"
    assert reading.case["lesion_entity"] == "chronic_post_thrombotic"
    assert reading.case["ceap"] == "C6,s Esi Ad Po"
    assert reading.case["vcss_pain"] == 2
    assert reading.case["villalta_cramps"] == 1
    assert [(f["segment"], f["finding"]) for f in reading.findings] == [
        ("CIV", "occlusion"),
        ("EIV", "stenosis"),
    ]
    assert reading.findings[1]["area_reduction_pct"] == 62


def test_an_exported_case_imports_back_into_a_draft_of_the_same_patient(client_for, treated_case):
    from cases.models import Patient
    from interop.models import CaseDraft

    client = client_for("clinician")
    patients = Patient.objects.count()
    response = client.post(
        "/api/v1/fhir/import",
        json.dumps(_export(client, treated_case)),
        content_type="application/fhir+json",
    )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["patient"] == treated_case.patient_id
    assert Patient.objects.count() == patients
    draft = CaseDraft.objects.get(pk=response.json()["draft"])
    assert draft.data["lesion_entity"] == treated_case.lesion_entity
    assert draft.data["ceap"] == treated_case.ceap
    assert draft.data["vcss_pain"] == treated_case.vcss_pain
    assert draft.data["villalta_cramps"] == treated_case.villalta_cramps
    assert [(f["segment"], f["finding"]) for f in draft.findings] == [
        ("CIV", "occlusion"),
        ("EIV", "stenosis"),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_export_permissions(client_for, treated_case, persona):
    response = client_for(persona).get(f"/api/v1/cases/{treated_case.pk}/fhir")
    assert response.status_code == EXPECTED[persona]
    assert response["Content-Type"] == "application/json"
    if persona == "other_centre_clinician":
        assert "A-1001" not in response.content.decode()


def test_case_page_has_the_export_button(client_for, case_a):
    page = client_for("nurse").get(f"/cases/{case_a.pk}/").content.decode()
    assert f'href="/api/v1/cases/{case_a.pk}/fhir"' in page
    assert "Export as FHIR" in page
