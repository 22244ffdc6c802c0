"""Fixtures of the hospital-interface tests: a case with two completed procedures (each hands
over to a follow-up schedule) and a realistic FHIR Bundle from a hospital record."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest

from cases.models import Case
from planning import services as planning_services
from planning.models import Device
from tests.factories import CaseFactory

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=BERLIN)
SYSTEM = "urn:oid:1.2.276.0.76.4.8"


@pytest.fixture
def treated_case(patient_a, clinician) -> Case:
    """Centre A's chronic post-thrombotic case with scores, IVUS values and two completed
    procedures (the second a re-intervention with a lot number)."""
    case = CaseFactory(
        patient=patient_a,
        author=clinician,
        ulcer="active",
        ceap="C6,s Esi Ad Po",
        vcss_pain=2,
        vcss_oedema=1,
        villalta_pain=2,
        villalta_cramps=1,
        findings=[
            {
                "segment": "CIV",
                "side": "left",
                "finding": "occlusion",
                "imaging_method": "ivus",
                "reference_diameter_mm": Decimal("14.0"),
            },
            {
                "segment": "EIV",
                "side": "left",
                "finding": "stenosis",
                "area_reduction_pct": 62,
                "lesion_length_mm": 80,
            },
        ],
    )
    stent = Device.objects.filter(kind="stent").order_by("pk").first()
    for performed_on, lot in ((dt.date(2026, 8, 3), ""), (dt.date(2026, 10, 5), "LOT-77")):
        record = planning_services.procedure_record_create(
            case=case,
            author=clinician,
            data={
                "performed_on": performed_on,
                "operators": "Dr Test",
                "access_used": "Right CFV",
                "technical_success": True,
                "antithrombotic_regimen": "DOAC",
                "follow_up_entity": "post_thrombotic",
            },
            implants=[
                {
                    "segment": "CIV",
                    "side": "left",
                    "device": stent,
                    "diameter_mm": Decimal("14.0"),
                    "length_mm": 90,
                    "lot": lot,
                }
            ],
        )
        planning_services.procedure_record_complete(record=record, user=clinician, now=NOW)
    return case


def hospital_bundle(identifier: str = "4711", *, extra: list[dict[str, Any]] | None = None) -> dict:
    """A Bundle as a hospital record system sends it: the patient under the hospital's
    identifier system (next to an insurance number), an ICD-10 coded lesion with laterality,
    an unrelated diagnosis, observations venousapp knows and one it does not."""
    subject = {"reference": "urn:uuid:p1"}
    fact = "urn:venousapp:fhir:CodeSystem:fact"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": "urn:uuid:p1",
            "resource": {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [
                    {"system": "http://fhir.de/sid/gkv/kvid-10", "value": "A123456789"},
                    {"system": SYSTEM, "value": identifier},
                ],
                "name": [{"family": "Muster", "given": ["Erika"]}],
                "gender": "female",
                "birthDate": "1984-03-02",
                "telecom": [{"system": "phone", "value": "+49 30 1234567"}],
            },
        },
        {
            "resource": {
                "resourceType": "Condition",
                "id": "c1",
                "subject": subject,
                "code": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I87.0"}],
                    "text": "Postthrombotisches Syndrom",
                },
                "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "7771000"}]}],
                "onsetDateTime": "2024-05-01",
                "recordedDate": "2026-11-10",
            },
        },
        {
            "resource": {
                "resourceType": "Condition",
                "id": "c2",
                "subject": subject,
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]},
            },
        },
        {
            "resource": {
                "resourceType": "Observation",
                "id": "o1",
                "status": "final",
                "subject": subject,
                "code": {"coding": [{"system": fact, "code": "ceap"}]},
                "valueString": "C4b,s Esi Ad Po",
            },
        },
        {
            "resource": {
                "resourceType": "Observation",
                "id": "o2",
                "status": "final",
                "subject": subject,
                "code": {"coding": [{"system": fact, "code": "segment_finding"}]},
                "bodySite": {
                    "coding": [
                        {"system": "urn:venousapp:fhir:CodeSystem:ceap-segment", "code": "CIV"}
                    ]
                },
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "urn:venousapp:fhir:CodeSystem:segment-finding",
                            "code": "occlusion",
                        }
                    ]
                },
                "component": [
                    {
                        "code": {"coding": [{"system": fact, "code": "segment_side"}]},
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": "urn:venousapp:fhir:CodeSystem:segment-side",
                                    "code": "left",
                                }
                            ]
                        },
                    }
                ],
            },
        },
        {
            "resource": {
                "resourceType": "Observation",
                "id": "o3",
                "status": "final",
                "subject": subject,
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "valueQuantity": {"value": 72, "unit": "/min"},
            },
        },
        {
            "resource": {
                "resourceType": "AllergyIntolerance",
                "id": "a1",
                "patient": subject,
                "code": {"text": "Penicillin"},
            },
        },
        *(extra or []),
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
