"""The follow-up API: worklist, visits (retrieve, record the result), contact attempts,
escalations (acknowledge, decide), and their OpenAPI documentation."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from followup.models import Escalation, Visit
from tests.followup.conftest import NOW, TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

API = "/api/v1/followup"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def visit(schedule) -> Visit:
    return schedule.visits.get(label="3 months")


def test_worklist_lists_statuses_and_filters(client_for, schedule, visit):
    client = client_for("nurse")
    rows = client.get(f"{API}/worklist/").json()["results"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[visit.pk]["status"] == "overdue"
    assert by_id[visit.pk]["patient_identifier"] == schedule.case.patient.identifier
    assert by_id[visit.pk]["entity"] == "post_thrombotic"
    assert by_id[visit.pk]["last_contact"] is None
    overdue = client.get(f"{API}/worklist/", {"status": "overdue"}).json()["results"]
    assert {row["status"] for row in overdue} == {"overdue"}
    assert client.get(f"{API}/worklist/", {"entity": "nivl"}).json()["count"] == 0
    bad = client.get(f"{API}/worklist/", {"status": "sometime"})
    assert bad.status_code == 400
    assert "status" in bad.json()


def test_record_a_result_with_an_abnormal_segment_escalates(client_for, visit, clinician):
    client = client_for("nurse")
    response = client.post(
        f"{API}/visits/{visit.pk}/result/",
        {
            "performed_on": TODAY.isoformat(),
            "phasicity": "phasic",
            "vcss_pain": 2,
            "segments": [
                {"segment": "CIV", "side": "left", "patency": "patent", "isr_percent": 70},
                {"segment": "EIV", "side": "left", "patency": "patent"},
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["abnormal_reasons"] == ["isr"]
    assert body["vcss_pain"] == 2
    escalation = Escalation.objects.get()
    assert body["escalations"] == [escalation.pk]
    assert escalation.clinician == clinician
    detail = client.get(f"{API}/visits/{visit.pk}/").json()
    assert detail["state"] == "done"
    assert detail["status"] == "done"
    assert detail["result"]["segments"][0]["isr_percent"] == 70
    # Correcting the result answers 200 and raises nothing new.
    again = client.post(
        f"{API}/visits/{visit.pk}/result/",
        {
            "performed_on": TODAY.isoformat(),
            "segments": [
                {"segment": "CIV", "side": "left", "patency": "patent", "isr_percent": 75},
                {"segment": "EIV", "side": "left", "patency": "patent"},
            ],
        },
        content_type="application/json",
    )
    assert again.status_code == 200
    assert Escalation.objects.count() == 1


def test_result_errors_name_the_field(client_for, visit):
    client = client_for("nurse")
    response = client.post(
        f"{API}/visits/{visit.pk}/result/",
        {
            "performed_on": TODAY.isoformat(),
            "vcss_pain": 4,
            "segments": [{"segment": "CIV", "side": "left", "patency": "patent"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "vcss_pain" in response.json()
    response = client.post(
        f"{API}/visits/{visit.pk}/result/",
        {
            "performed_on": TODAY.isoformat(),
            "segments": [{"segment": "CIV", "side": "left", "patency": "patent"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "missing: EIV left" in response.json()["segments"][0]


def test_contact_attempts_list_and_create(client_for, visit, nurse):
    client = client_for("nurse")
    created = client.post(
        f"{API}/visits/{visit.pk}/contacts/",
        {"method": "email", "outcome": "sent", "note": "Invitation"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["by"] == nurse.username
    listed = client.get(f"{API}/visits/{visit.pk}/contacts/").json()
    assert [c["method"] for c in listed] == ["email"]
    worklist = client.get(f"{API}/worklist/", {"status": "overdue"}).json()["results"]
    row = next(r for r in worklist if r["id"] == visit.pk)
    assert row["last_contact"]["outcome"] == "sent"
    future = client.post(
        f"{API}/visits/{visit.pk}/contacts/",
        {
            "method": "phone",
            "outcome": "booked",
            "attempted_at": (NOW + dt.timedelta(days=1)).isoformat(),
        },
        content_type="application/json",
    )
    assert future.status_code == 400
    assert "attempted_at" in future.json()


def test_escalations_acknowledge_and_decide(client_for, visit, nurse, clinician):
    client_for("nurse").post(
        f"{API}/visits/{visit.pk}/result/",
        {
            "performed_on": TODAY.isoformat(),
            "segments": [
                {"segment": "CIV", "side": "left", "patency": "occluded"},
                {"segment": "EIV", "side": "left", "patency": "patent"},
            ],
        },
        content_type="application/json",
    )
    client = client_for("clinician")
    listed = client.get(f"{API}/escalations/", {"open": "true", "mine": "true"}).json()
    assert [e["reasons"] for e in listed["results"]] == [["occlusion"]]
    pk = listed["results"][0]["id"]
    acknowledged = client.post(f"{API}/escalations/{pk}/acknowledge/").json()
    assert acknowledged["acknowledged_by"] == clinician.username
    assert client.get(f"{API}/escalations/", {"open": "true"}).json()["count"] == 0
    decided = client.post(
        f"{API}/escalations/{pk}/decide/",
        {"decision": "reintervene", "note": "Thrombectomy"},
        content_type="application/json",
    )
    assert decided.status_code == 200
    assert decided.json()["decision"] == "reintervene"
    refused = client.post(
        f"{API}/escalations/{pk}/decide/", {"decision": "wait"}, content_type="application/json"
    )
    assert refused.status_code == 400


def test_openapi_documents_the_followup_endpoints(client_for):
    schema = client_for("clinician").get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    expected = {
        "/api/v1/followup/worklist/": {"get"},
        "/api/v1/followup/visits/{id}/": {"get"},
        "/api/v1/followup/visits/{id}/result/": {"post"},
        "/api/v1/followup/visits/{id}/contacts/": {"get", "post"},
        "/api/v1/followup/escalations/": {"get"},
        "/api/v1/followup/escalations/{id}/": {"get"},
        "/api/v1/followup/escalations/{id}/acknowledge/": {"post"},
        "/api/v1/followup/escalations/{id}/decide/": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            operation = paths[path][method]
            assert operation.get("summary"), (path, method)
            assert "403" in operation["responses"], (path, method)
    worklist = paths["/api/v1/followup/worklist/"]["get"]
    assert {p["name"] for p in worklist["parameters"]} >= {
        "status",
        "entity",
        "date_from",
        "date_to",
    }
