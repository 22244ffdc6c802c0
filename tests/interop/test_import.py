"""POST /api/v1/fhir/import and the import page: a patient and a draft case from a hospital
record; a refused bundle saves nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cases.models import Case, Patient
from interop.models import CaseDraft
from tests.conftest import PERSONAS
from tests.interop.conftest import SYSTEM, hospital_bundle

URL = "/api/v1/fhir/import"


@pytest.fixture
def hospital_system(centre_a):
    centre_a.patient_identifier_system = SYSTEM
    centre_a.save()
    return SYSTEM


def post(client, body, content_type="application/fhir+json"):
    return client.post(URL, json.dumps(body), content_type=content_type)


def counts() -> tuple[int, int, int]:
    return Patient.objects.count(), Case.objects.count(), CaseDraft.objects.count()


def test_a_hospital_bundle_creates_the_patient_and_a_draft_case(client_for, hospital_system):
    response = post(client_for("clinician"), hospital_bundle())
    assert response.status_code == 201, response.content
    body = response.json()
    patient = Patient.objects.get(pk=body["patient"])
    assert (patient.identifier, patient.name, patient.sex) == ("4711", "Erika Muster", "female")
    assert str(patient.date_of_birth) == "1984-03-02"
    assert patient.centre.code == "centre-a"
    draft = CaseDraft.objects.get(pk=body["draft"])
    assert draft.case is None
    assert draft.data["lesion_entity"] == "chronic_post_thrombotic"
    assert draft.data["side"] == "left"
    assert draft.data["ceap"] == "C4b,s Esi Ad Po"
    assert draft.data["symptom_onset_date"] == "2024-05-01"
    assert draft.data["case_date"] == "2026-11-10"
    assert draft.findings == [
        {"segment": "CIV", "finding": "occlusion", "imaging_method": "", "side": "left"}
    ]
    assert body["draft_url"].endswith(f"/interop/drafts/{draft.pk}/")
    not_mapped = {row["resource"] for row in body["not_mapped"]}
    assert {"Condition/c2", "Observation/o3", "AllergyIntolerance/a1"} <= not_mapped
    assert any(row["element"] == "lesion entity" for row in body["mapped"])


def test_a_second_import_updates_instead_of_duplicating(client_for, hospital_system):
    client = client_for("clinician")
    first = post(client, hospital_bundle()).json()
    bundle = hospital_bundle()
    bundle["entry"][3]["resource"]["valueString"] = "C6,s Esi Ad Po"
    bundle["entry"][0]["resource"]["telecom"] = [{"system": "phone", "value": "+49 30 999"}]
    second = post(client, bundle)
    assert second.status_code == 200
    assert (second.json()["patient"], second.json()["draft"]) == (first["patient"], first["draft"])
    assert counts() == (1, 0, 1)
    assert CaseDraft.objects.get().data["ceap"] == "C6,s Esi Ad Po"
    assert Patient.objects.get().phone == "+49 30 999"


def _bad_code() -> dict:
    bundle = hospital_bundle()
    bundle["entry"][3]["resource"]["code"]["coding"][0]["code"] = "no_such_fact"
    return bundle


def _no_identifier() -> dict:
    bundle = hospital_bundle()
    bundle["entry"][0]["resource"]["identifier"] = [
        {"system": "http://fhir.de/sid/gkv/kvid-10", "value": "A123456789"}
    ]
    return bundle


def _bad_entity() -> dict:
    bundle = hospital_bundle()
    bundle["entry"][1]["resource"]["code"]["coding"] = [
        {"system": "urn:venousapp:fhir:CodeSystem:lesion-entity", "code": "varicose"}
    ]
    return bundle


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda: {**hospital_bundle(), "resourceType": "Patient"}, "resourceType"),
        (lambda: [hospital_bundle()], "detail"),
        (_no_identifier, "entry"),
        (_bad_code, "entry"),
        (_bad_entity, "entry"),
        (lambda: {**hospital_bundle(), "type": 42}, "type"),
    ],
    ids=[
        "wrong-resource-type",
        "not-an-object",
        "no-identifier",
        "unknown-fact",
        "unknown-entity",
        "invalid-element",
    ],
)
def test_a_refused_bundle_is_a_400_with_reasons_and_saves_nothing(
    client_for, hospital_system, make, key
):
    response = post(client_for("clinician"), make())
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert key in response.json()
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    "path",
    [(0, "name", 0, "family"), (0, "identifier", 1, "value"), (3, "valueString")],
    ids=["name", "identifier", "ceap"],
)
def test_a_nul_character_in_a_bundle_is_a_400_and_saves_nothing(client_for, hospital_system, path):
    bundle = hospital_bundle()
    where: Any = bundle["entry"][path[0]]["resource"]
    for key in path[1:-1]:
        where = where[key]
    where[path[-1]] = "Mus\x00ter"
    response = post(client_for("clinician"), bundle)
    assert response.status_code == 400, response.content
    assert "NUL" in json.dumps(response.json())
    assert counts() == (0, 0, 0)


def test_a_bundle_over_ten_megabytes_is_refused_and_saves_nothing(client_for, hospital_system):
    padding = {"resource": {"resourceType": "Basic", "code": {"text": "x" * (10 * 1024 * 1024)}}}
    response = post(client_for("clinician"), hospital_bundle(extra=[padding]))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "10485760 bytes" in response.json()["detail"]
    assert counts() == (0, 0, 0)


def test_a_large_bundle_under_ten_megabytes_is_read(client_for, hospital_system):
    padding = {"resource": {"resourceType": "Basic", "code": {"text": "x" * (4 * 1024 * 1024)}}}
    response = post(client_for("clinician"), hospital_bundle(extra=[padding]), "application/json")
    assert response.status_code == 201, response.content[:300]


@pytest.mark.parametrize("persona", PERSONAS)
def test_import_permissions(client_for, hospital_system, persona):
    response = post(client_for(persona), hospital_bundle())
    expected = {"clinician": 201, "other_centre_clinician": 400, "anonymous": 401}
    assert response.status_code == expected.get(persona, 403), response.content
    if persona == "other_centre_clinician":  # centre B has not configured the system
        assert Patient.objects.count() == 0


def test_the_import_page_shows_what_was_mapped_and_links_the_draft(client_for, hospital_system):
    client = client_for("clinician")
    page = client.get("/interop/import/").content.decode()
    assert 'for="id_file"' in page
    assert 'for="id_text"' in page
    response = client.post("/interop/import/", {"text": json.dumps(hospital_bundle())})
    page = response.content.decode()
    draft = CaseDraft.objects.get()
    assert f'href="/interop/drafts/{draft.pk}/"' in page
    assert "Not mapped" in page
    assert "AllergyIntolerance/a1" in page
    for tag in ("\N{SECTION SIGN}", "brief", "[V]", "[S]", "[M]"):
        assert tag not in page


def test_a_refused_bundle_on_the_page_is_explained_in_the_error_summary(
    client_for, hospital_system
):
    response = client_for("clinician").post("/interop/import/", {"text": json.dumps(_bad_code())})
    page = response.content.decode()
    assert 'class="error-summary"' in page
    assert "no_such_fact" in page
    assert counts() == (0, 0, 0)


def test_text_nested_too_deeply_on_the_page_is_a_field_error(client_for, hospital_system):
    text = "[" * 100_000 + "]" * 100_000
    response = client_for("clinician").post("/interop/import/", {"text": text})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error-summary"' in page
    assert "This JSON nests too deeply to be read." in page
    assert counts() == (0, 0, 0)


def test_the_draft_page_saves_the_case_as_the_browser_posts_it(client_for, hospital_system):
    client = client_for("clinician")
    post(client, hospital_bundle())
    draft = CaseDraft.objects.get()
    page = client.get(f"/interop/drafts/{draft.pk}/")
    assert page.status_code == 200
    form = _form_data(page.content.decode())
    response = client.post(f"/interop/drafts/{draft.pk}/", form)
    assert response.status_code == 302, _errors(response)
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert (case.lesion_entity, case.side, case.ceap) == (
        "chronic_post_thrombotic",
        "left",
        "C4b,s Esi Ad Po",
    )
    assert list(case.findings.values_list("segment", "finding")) == [("CIV", "occlusion")]
    draft.refresh_from_db()
    assert draft.case == case


def _errors(response) -> str:
    return response.content.decode()[:3000] if response.status_code != 302 else ""


def _form_data(html: str) -> dict[str, str]:
    """The values the browser sends for the rendered form (inputs, selects, text areas)."""
    from html.parser import HTMLParser

    data: dict[str, str] = {}

    class Form(HTMLParser):
        select: str | None = None
        textarea: str | None = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("submit", "button"):
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        data[name] = a.get("value", "on")
                else:
                    data[name] = a.get("value") or ""
            elif tag == "select" and name:
                self.select = name
                data.setdefault(name, "")
            elif tag == "option" and self.select and "selected" in a:
                data[self.select] = a.get("value") or ""
            elif tag == "textarea" and name:
                self.textarea = name
                data[name] = ""

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            if tag == "textarea":
                self.textarea = None

        def handle_data(self, text):
            if self.textarea:
                data[self.textarea] += text

    start = html.index('id="case-form"')
    Form().feed(html[start : html.index("</form>", start)])
    return data
