"""Every case page and API endpoint for every persona (STYLE.md convention 12, issue 2).

Alice (clinician), Nina (nurse) and Gustav (guideline admin) work at centre A, Bob
(other_centre_clinician) at centre B. Clinicians read and write, nurses and guideline admins
only read (403 for writes), another centre's objects are 404 (their existence is not
revealed), anonymous users are sent to the login page (pages) or refused with 401 (API).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import Case, Patient
from tests.cases import entries
from tests.conftest import PERSONAS

LOGIN = "login"  # expected: 302 to the login page with ?next=

# endpoint: expected answer for (clinician, nurse, guideline_admin, other_centre_clinician,
# anonymous); the objects addressed are centre A's.
PAGES: dict[str, tuple[Any, ...]] = {
    "list": (200, 200, 200, 200, LOGIN),
    "create-get": (200, 403, 403, 200, LOGIN),
    "create-post": (302, 403, 403, 302, LOGIN),
    "detail": (200, 200, 200, 404, LOGIN),
    "edit-get": (200, 403, 403, 404, LOGIN),
    "edit-post": (302, 403, 403, 404, LOGIN),
    "history": (200, 200, 200, 404, LOGIN),
    "ceap-preview": (200, 200, 200, 200, LOGIN),
}
API: dict[str, tuple[int, ...]] = {
    "patients-list": (200, 200, 200, 200, 401),
    "patients-create": (201, 403, 403, 201, 401),
    "patients-retrieve": (200, 200, 200, 404, 401),
    "patients-update": (200, 403, 403, 404, 401),
    "patients-partial_update": (200, 403, 403, 404, 401),
    "cases-list": (200, 200, 200, 200, 401),
    "cases-create": (201, 403, 403, 201, 401),
    "cases-retrieve": (200, 200, 200, 404, 401),
    "cases-update": (200, 403, 403, 404, 401),
    "cases-partial_update": (200, 403, 403, 404, 401),
}


def table(expectations: dict[str, tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(endpoint, persona, expected, id=f"{endpoint}-{persona}")
        for endpoint, row in expectations.items()
        for persona, expected in zip(PERSONAS, row, strict=True)
    ]


def request_page(client: Client, endpoint: str, case: Case) -> Any:
    match endpoint:
        case "list":
            return client.get(reverse("cases:list"))
        case "create-get":
            return client.get(reverse("cases:create"))
        case "create-post":
            return client.post(reverse("cases:create"), entries.post_data())
        case "detail":
            return client.get(reverse("cases:detail", args=[case.pk]))
        case "edit-get":
            return client.get(reverse("cases:edit", args=[case.pk]))
        case "edit-post":
            data = entries.edit_post_data(case, case_changes={"side": "right"})
            return client.post(reverse("cases:edit", args=[case.pk]), data)
        case "history":
            return client.get(reverse("cases:history", args=[case.pk]))
        case "ceap-preview":
            return client.get(reverse("cases:ceap-preview"), {"case-ceap": "C3,s Esi Ad Po"})
    raise AssertionError(endpoint)


def assert_answer(response: Any, expected: Any) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        asked = response.request["PATH_INFO"]
        if response.request.get("QUERY_STRING"):
            asked += "?" + response.request["QUERY_STRING"]
        assert location.path == "/accounts/login/"
        assert parse_qs(location.query) == {"next": [asked]}
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(PAGES))
def test_case_pages_answer_each_persona(client_for, case_a, endpoint, persona, expected):
    client = client_for(persona)
    cases_before = Case.objects.count()
    response = request_page(client, endpoint, case_a)
    assert_answer(response, expected)
    case_a.refresh_from_db()
    if endpoint == "create-post":
        assert Case.objects.count() == cases_before + (1 if expected == 302 else 0)
    if endpoint == "edit-post":
        assert case_a.side == ("right" if expected == 302 else "left")


def test_case_create_by_other_centre_clinician_files_the_patient_in_his_centre(
    client_for, other_centre_clinician, patient_a
):
    data = entries.post_data(patient={"identifier": patient_a.identifier})
    response = client_for("other_centre_clinician").post(reverse("cases:create"), data)
    assert response.status_code == 302
    case = Case.objects.get(author=other_centre_clinician)
    assert case.patient.centre == other_centre_clinician.centre
    assert case.patient != patient_a
    assert Patient.objects.filter(identifier=patient_a.identifier).count() == 2


def test_case_create_prefill_ignores_other_centre_patient(client_for, patient_a):
    url = reverse("cases:create") + f"?patient={patient_a.pk}"
    response = client_for("other_centre_clinician").get(url)
    assert response.status_code == 200
    assert patient_a.identifier not in response.content.decode()
    response = client_for("clinician").get(url)
    assert f'value="{patient_a.identifier}"' in response.content.decode()


def test_case_list_other_centre_clinician_sees_no_centre_a_cases(client_for, case_a, case_b):
    response = client_for("other_centre_clinician").get(reverse("cases:list"))
    page = response.content.decode()
    assert case_b.patient.identifier in page
    assert case_a.patient.identifier not in page
    assert [c.pk for c in response.context["page"]] == [case_b.pk]


def test_case_list_clinician_sees_only_centre_a_cases(client_for, case_a, case_b):
    response = client_for("clinician").get(reverse("cases:list"))
    assert [c.pk for c in response.context["page"]] == [case_a.pk]
    assert case_b.patient.identifier not in response.content.decode()


@pytest.mark.parametrize("query", ["A-1001", "A-", "#{pk}", "{pk}"])
def test_case_list_search_does_not_reach_other_centres(client_for, case_a, case_b, query):
    query = query.format(pk=case_a.pk)
    response = client_for("other_centre_clinician").get(reverse("cases:list"), {"q": query})
    assert list(response.context["page"]) == []
    response = client_for("clinician").get(reverse("cases:list"), {"q": query})
    assert [c.pk for c in response.context["page"]] == [case_a.pk]


@pytest.mark.parametrize(
    ("persona", "can_edit"),
    [("clinician", True), ("nurse", False), ("guideline_admin", False)],
)
def test_case_pages_offer_edit_and_new_only_to_roles_that_may_write(
    client_for, case_a, persona, can_edit
):
    client = client_for(persona)
    detail = client.get(reverse("cases:detail", args=[case_a.pk])).content.decode()
    listing = client.get(reverse("cases:list")).content.decode()
    assert (f'href="{reverse("cases:edit", args=[case_a.pk])}"' in detail) is can_edit
    assert (f'href="{reverse("cases:create")}"' in listing) is can_edit


def _json(response: Any) -> Any:
    return response.json() if response.content else None


def case_payload(patient: Patient) -> dict[str, Any]:
    return {
        "patient": patient.pk,
        "case_date": "2026-11-02",
        "side": "right",
        "lesion_entity": "chronic_post_thrombotic",
        "ceap": "C3,s Esi Ad Po",
        "findings": [{"segment": "CIV", "side": "right", "finding": "stenosis"}],
    }


def patient_payload(identifier: str) -> dict[str, Any]:
    return {"identifier": identifier, "name": "", "date_of_birth": "1975-04-12", "sex": "male"}


def request_api(client: Client, endpoint: str, *, case: Case, own_patient: Patient) -> Any:
    """``case`` and its patient are centre A's; ``own_patient`` is in the caller's centre."""
    patient = case.patient
    kind, action = endpoint.split("-")
    collection = f"/api/v1/{kind}/"
    item = f"{collection}{case.pk if kind == 'cases' else patient.pk}/"
    if kind == "patients":
        body = patient_payload("NEW-1" if action == "create" else patient.identifier)
    else:
        body = case_payload(own_patient if action == "create" else patient)
    match action:
        case "list":
            return client.get(collection)
        case "create":
            return client.post(collection, body, content_type="application/json")
        case "retrieve":
            return client.get(item)
        case "update":
            return client.put(item, body, content_type="application/json")
        case "partial_update":
            return client.patch(
                item,
                {"side": "right"} if kind == "cases" else {"sex": "male"},
                content_type="application/json",
            )
    raise AssertionError(endpoint)


@pytest.mark.parametrize(("endpoint", "persona", "expected"), table(API))
def test_api_endpoints_answer_each_persona(
    client_for, case_a, patient_b, endpoint, persona, expected
):
    own_patient = patient_b if persona == "other_centre_clinician" else case_a.patient
    cases_before, patients_before = Case.objects.count(), Patient.objects.count()
    response = request_api(client_for(persona), endpoint, case=case_a, own_patient=own_patient)
    assert response.status_code == expected, _json(response)
    case_a.refresh_from_db()
    case_a.patient.refresh_from_db()
    written = expected in (200, 201) and not endpoint.endswith(("list", "retrieve"))
    if endpoint == "cases-create":
        assert Case.objects.count() == cases_before + written
    if endpoint == "patients-create":
        assert Patient.objects.count() == patients_before + written
    if endpoint.startswith("cases-") and endpoint.endswith("update"):
        assert case_a.side == ("right" if written else "left")
    if endpoint.startswith("patients-") and endpoint.endswith("update"):
        assert case_a.patient.sex == ("male" if written else "female")


def test_api_anonymous_answer_is_json(client, case_a):
    response = client.get(f"/api/v1/cases/{case_a.pk}/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


@pytest.mark.parametrize("persona", ["clinician", "other_centre_clinician"])
def test_api_case_list_is_scoped_to_the_centre(client_for, case_a, case_b, persona):
    own = case_a if persona == "clinician" else case_b
    body = client_for(persona).get("/api/v1/cases/").json()
    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [own.pk]


@pytest.mark.parametrize("persona", ["nurse", "other_centre_clinician"])
def test_api_patient_list_is_scoped_to_the_centre(client_for, case_a, case_b, persona):
    own = case_a.patient if persona == "nurse" else case_b.patient
    body = client_for(persona).get("/api/v1/patients/").json()
    assert [row["identifier"] for row in body["results"]] == [own.identifier]


def test_api_patient_filter_does_not_reach_other_centres(client_for, case_a, case_b):
    client = client_for("other_centre_clinician")
    body = client.get("/api/v1/patients/", {"identifier": case_a.patient.identifier}).json()
    assert body["results"] == []


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("clinician", 200),
        ("nurse", 200),
        ("guideline_admin", 200),
        ("other_centre_clinician", 200),
        ("anonymous", 401),
    ],
)
def test_api_schema_and_docs_need_login(client_for, path, persona, expected):
    response = client_for(persona).get(path)
    assert response.status_code == expected
