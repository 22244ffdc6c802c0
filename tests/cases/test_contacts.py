"""Patient contact details and the centre's address: who may read and change them, the audit
trail, a new case for a known patient, and the invitation letter's address block."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import Patient
from tests.cases import entries
from tests.conftest import PERSONAS
from tests.factories import PatientFactory

CONTACT = {
    "phone": "+49 30 555 0101",
    "email": "erika@example.org",
    "preferred_contact": "letter",
    "address": "Lindenweg 4\n12345 Musterstadt",
    "general_practitioner": "Dr Weber, Hausarztpraxis Nord, 030 555 0199",
}
# persona -> (GET /api/v1/patients/<id>/, PATCH the phone)
EXPECTED = {
    "clinician": (200, 200),
    "nurse": (200, 403),
    "guideline_admin": (200, 403),
    "other_centre_clinician": (404, 404),
    "anonymous": (401, 401),
}


@pytest.fixture
def patient(centre_a):
    return PatientFactory(centre=centre_a, identifier="A-5005", **CONTACT)


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_details_by_persona(client_for, patient, persona):
    client = client_for(persona)
    read, change = EXPECTED[persona]
    response = client.get(f"/api/v1/patients/{patient.pk}/")
    assert response.status_code == read
    if read == 200:
        assert response.json()["phone"] == CONTACT["phone"]
        assert response.json()["address"] == CONTACT["address"]
    response = client.patch(
        f"/api/v1/patients/{patient.pk}/", {"phone": "0800 1"}, content_type="application/json"
    )
    assert response.status_code == change
    patient.refresh_from_db()
    assert patient.phone == ("0800 1" if change == 200 else CONTACT["phone"])


def test_a_contact_change_leaves_an_audit_row(client_for, patient, clinician):
    client_for("clinician").patch(
        f"/api/v1/patients/{patient.pk}/",
        {"phone": "0800 2", "preferred_contact": "phone"},
        content_type="application/json",
    )
    latest = patient.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == clinician
    assert (latest.phone, latest.preferred_contact) == ("0800 2", "phone")
    assert latest.prev_record.phone == CONTACT["phone"]


def test_a_new_case_for_a_known_patient_keeps_the_contact_details_typed(client_for, patient):
    posted = entries.post_data(
        patient={
            "identifier": patient.identifier,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex": patient.sex,
            "phone": "+49 30 555 0202",
        }
    )
    response = client_for("clinician").post(reverse("cases:create"), posted)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+49 30 555 0202"
    assert patient.address == CONTACT["address"]  # not typed: kept
    assert Patient.objects.filter(identifier=patient.identifier).count() == 1


def test_the_case_form_offers_the_contact_fields(client_for):
    html = client_for("clinician").get(reverse("cases:create")).content.decode()
    for name in CONTACT:
        assert f'name="patient-{name}"' in html
