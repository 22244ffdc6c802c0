"""Every follow-up page and API endpoint for every persona (STYLE.md convention 12).

Alice (clinician), Nina (nurse) and Gustav (guideline admin) work at centre A, Bob
(other_centre_clinician) at centre B; the objects addressed are centre A's. Nurses run the
worklist (visits, contacts, results); clinicians read, acknowledge and decide escalations and
record re-interventions; guideline admins keep the protocols. A missing role permission is
403 (also for Bob: the permission is checked first), another centre's object 404, anonymous
users go to the login page (pages) or get 401 (API).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client

from followup.models import Escalation, Notification, Protocol, Visit
from followup.services.results import visit_result_record
from tests.conftest import PERSONAS
from tests.followup.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db

LOGIN = "login"
PAGES: dict[str, tuple[Any, ...]] = {
    # (clinician, nurse, guideline_admin, other_centre_clinician, anonymous)
    "home": (302, 302, 302, 302, LOGIN),
    "worklist": (200, 200, 403, 200, LOGIN),
    "visit": (200, 200, 403, 404, LOGIN),
    "contact-post": (403, 302, 403, 403, LOGIN),
    "reschedule-get": (403, 200, 403, 403, LOGIN),
    "reschedule-post": (403, 302, 403, 403, LOGIN),
    "close-get": (403, 200, 403, 403, LOGIN),
    "close-post": (403, 302, 403, 403, LOGIN),
    "letter": (200, 200, 403, 404, LOGIN),
    "result-get": (403, 200, 403, 403, LOGIN),
    "result-post": (403, 302, 403, 403, LOGIN),
    "schedule": (200, 200, 403, 404, LOGIN),
    "case": (302, 302, 403, 404, LOGIN),
    "reintervention-get": (200, 403, 403, 404, LOGIN),
    "reintervention-post": (302, 403, 403, 404, LOGIN),
    "escalations": (200, 200, 403, 200, LOGIN),
    "escalation": (200, 200, 403, 404, LOGIN),
    "acknowledge": (302, 403, 403, 404, LOGIN),
    "decide": (302, 403, 403, 404, LOGIN),
    "notifications": (200, 200, 200, 200, LOGIN),
    "notification-open": (404, 302, 404, 404, LOGIN),  # Nina's notification
    "notifications-read-all": (302, 302, 302, 302, LOGIN),
    "protocols": (200, 200, 200, 200, LOGIN),
    "protocol": (200, 200, 200, 200, LOGIN),
    "protocol-revise-get": (403, 403, 200, 403, LOGIN),
    "protocol-revise-post": (403, 403, 302, 403, LOGIN),
}
API: dict[str, tuple[int, ...]] = {
    "worklist": (200, 200, 403, 200, 401),
    "visit": (200, 200, 403, 404, 401),
    "visit-result": (403, 201, 403, 403, 401),
    "contacts-list": (200, 200, 403, 404, 401),
    "contacts-create": (403, 201, 403, 403, 401),
    "escalations": (200, 200, 403, 200, 401),
    "escalation": (200, 200, 403, 404, 401),
    "acknowledge": (200, 403, 403, 404, 401),
    "decide": (200, 403, 403, 404, 401),
}


def table(expectations: dict[str, tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(endpoint, persona, expected, id=f"{endpoint}-{persona}")
        for endpoint, row in expectations.items()
        for persona, expected in zip(PERSONAS, row, strict=True)
    ]


@pytest.fixture
def world(schedule, nurse, clinician) -> dict[str, Any]:
    """Centre A's schedule with an overdue visit, a done visit with an open escalation, and
    a notification for Nina."""
    visit = schedule.visits.get(label="3 months")
    done = schedule.visits.get(label="6 weeks")
    visit_result_record(
        visit=done,
        user=nurse,
        now=NOW,
        data={"performed_on": TODAY - dt.timedelta(days=55)},
        segments=[
            {"segment": "CIV", "side": "left", "patency": "occluded"},
            {"segment": "EIV", "side": "left", "patency": "patent"},
        ],
    )
    note = Notification.objects.create(
        recipient=nurse,
        kind="window_open",
        title="Due",
        url=f"/followup/visits/{visit.pk}/",
        visit=visit,
        created_at=NOW,
    )
    return {
        "schedule": schedule,
        "visit": visit,
        "done": done,
        "escalation": Escalation.objects.get(),
        "notification": note,
        "protocol": Protocol.objects.get(entity="nivl", retired_at__isnull=True),
    }


SEGMENT_POST = {
    "segments-TOTAL_FORMS": "2",
    "segments-INITIAL_FORMS": "2",
    "segments-MIN_NUM_FORMS": "0",
    "segments-MAX_NUM_FORMS": "1000",
    "segments-0-segment": "CIV",
    "segments-0-side": "left",
    "segments-0-patency": "patent",
    "segments-0-in_stent_thrombus": "false",
    "segments-0-isr_percent": "10",
    "segments-0-compression": "false",
    "segments-1-segment": "EIV",
    "segments-1-side": "left",
    "segments-1-patency": "patent",
    "segments-1-in_stent_thrombus": "unknown",
    "segments-1-compression": "unknown",
}


def protocol_post(protocol: Protocol) -> dict[str, str]:
    data = {
        "name": protocol.name,
        "description": "",
        "yearly_from_months": "24",
        "yearly_until_years": "5",
        "yearly_kind": "duplex",
        "yearly_with_clinical": "on",
        "yearly_window_days": "30",
        "due_soon_days": "14",
        "evidence": "M",
        "visits-TOTAL_FORMS": "1",
        "visits-INITIAL_FORMS": "0",
        "visits-MIN_NUM_FORMS": "0",
        "visits-MAX_NUM_FORMS": "1000",
        "visits-0-label": "6 weeks",
        "visits-0-offset_value": "6",
        "visits-0-offset_unit": "weeks",
        "visits-0-kind": "duplex",
        "visits-0-window_before_days": "7",
        "visits-0-window_after_days": "7",
    }
    return data


def request_page(client: Client, endpoint: str, w: dict[str, Any]) -> Any:
    visit, esc = w["visit"], w["escalation"]
    base = f"/followup/visits/{visit.pk}"
    match endpoint:
        case "home":
            return client.get("/")
        case "worklist":
            return client.get("/followup/worklist/")
        case "visit":
            return client.get(f"{base}/")
        case "contact-post":
            return client.post(f"{base}/contacts/", {"method": "phone", "outcome": "booked"})
        case "reschedule-get":
            return client.get(f"{base}/reschedule/")
        case "reschedule-post":
            return client.post(
                f"{base}/reschedule/",
                {"target_on": (TODAY + dt.timedelta(days=3)).isoformat(), "reason": "Ill"},
            )
        case "close-get":
            return client.get(f"{base}/close/")
        case "close-post":
            return client.post(f"{base}/close/", {"reason": "Moved away"})
        case "letter":
            return client.get(f"{base}/letter.pdf")
        case "result-get":
            return client.get(f"{base}/result/")
        case "result-post":
            return client.post(
                f"{base}/result/",
                {
                    "result-performed_on": TODAY.isoformat(),
                    "result-phasicity": "phasic",
                    **SEGMENT_POST,
                },
            )
        case "schedule":
            return client.get(f"/followup/schedules/{w['schedule'].pk}/")
        case "case":
            return client.get(f"/followup/cases/{w['schedule'].case_id}/")
        case "reintervention-get":
            return client.get(f"/followup/schedules/{w['schedule'].pk}/reinterventions/new/")
        case "reintervention-post":
            return client.post(
                f"/followup/schedules/{w['schedule'].pk}/reinterventions/new/",
                {
                    "performed_on": TODAY.isoformat(),
                    "kind": "angioplasty",
                    "successful": "on",
                    "segments": ["CIV:left"],
                },
            )
        case "escalations":
            return client.get("/followup/escalations/")
        case "escalation":
            return client.get(f"/followup/escalations/{esc.pk}/")
        case "acknowledge":
            return client.post(f"/followup/escalations/{esc.pk}/acknowledge/")
        case "decide":
            return client.post(
                f"/followup/escalations/{esc.pk}/decide/",
                {"decision": "observe", "note": "Duplex in 4 weeks"},
            )
        case "notifications":
            return client.get("/followup/notifications/")
        case "notification-open":
            return client.post(f"/followup/notifications/{w['notification'].pk}/open/")
        case "notifications-read-all":
            return client.post("/followup/notifications/read-all/")
        case "protocols":
            return client.get("/followup/protocols/")
        case "protocol":
            return client.get(f"/followup/protocols/{w['protocol'].pk}/")
        case "protocol-revise-get":
            return client.get(f"/followup/protocols/{w['protocol'].pk}/revise/")
        case "protocol-revise-post":
            return client.post(
                f"/followup/protocols/{w['protocol'].pk}/revise/", protocol_post(w["protocol"])
            )
    raise AssertionError(endpoint)


def assert_answer(response: Any, expected: Any) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == "/accounts/login/"
    else:
        assert response.status_code == expected, response.content[:2000]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(PAGES))
def test_followup_pages_answer_each_persona(client_for, world, endpoint, persona, expected):
    response = request_page(client_for(persona), endpoint, world)
    assert_answer(response, expected)


@time_machine.travel(NOW, tick=False)
def test_a_refused_write_changes_nothing(client_for, world):
    visit: Visit = world["visit"]
    for persona in ("clinician", "guideline_admin", "other_centre_clinician", "anonymous"):
        request_page(client_for(persona), "contact-post", world)
        request_page(client_for(persona), "result-post", world)
        request_page(client_for(persona), "close-post", world)
    visit.refresh_from_db()
    assert visit.state == "planned"
    assert not visit.contacts.exists()
    for persona in ("nurse", "guideline_admin", "other_centre_clinician"):
        request_page(client_for(persona), "acknowledge", world)
    assert Escalation.objects.get().acknowledged_at is None


def test_home_sends_each_role_to_its_work(client_for, world):
    assert client_for("nurse").get("/")["Location"] == "/followup/worklist/"
    assert client_for("clinician").get("/")["Location"] == "/cases/"
    assert client_for("guideline_admin").get("/")["Location"] == "/guidelines/rules/"


def request_api(client: Client, endpoint: str, w: dict[str, Any]) -> Any:
    visit, esc = w["visit"], w["escalation"]
    api = "/api/v1/followup"
    match endpoint:
        case "worklist":
            return client.get(f"{api}/worklist/")
        case "visit":
            return client.get(f"{api}/visits/{visit.pk}/")
        case "visit-result":
            return client.post(
                f"{api}/visits/{visit.pk}/result/",
                {
                    "performed_on": TODAY.isoformat(),
                    "phasicity": "phasic",
                    "segments": [
                        {"segment": "CIV", "side": "left", "patency": "patent"},
                        {"segment": "EIV", "side": "left", "patency": "patent"},
                    ],
                },
                content_type="application/json",
            )
        case "contacts-list":
            return client.get(f"{api}/visits/{visit.pk}/contacts/")
        case "contacts-create":
            return client.post(
                f"{api}/visits/{visit.pk}/contacts/",
                {"method": "phone", "outcome": "no_answer"},
                content_type="application/json",
            )
        case "escalations":
            return client.get(f"{api}/escalations/")
        case "escalation":
            return client.get(f"{api}/escalations/{esc.pk}/")
        case "acknowledge":
            return client.post(f"{api}/escalations/{esc.pk}/acknowledge/")
        case "decide":
            return client.post(
                f"{api}/escalations/{esc.pk}/decide/",
                {"decision": "reimage"},
                content_type="application/json",
            )
    raise AssertionError(endpoint)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(API))
def test_followup_api_answers_each_persona(client_for, world, endpoint, persona, expected):
    response = request_api(client_for(persona), endpoint, world)
    assert response.status_code == expected, response.content[:2000]
