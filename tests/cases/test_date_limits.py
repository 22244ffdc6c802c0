"""Dates typed for a patient and a case keep to plausible limits (venousapp.dates): a date of
birth from 1 January 1900 to today, a case date and a symptom onset within the configured
years before today and never after it. The page names the limit on the field and keeps what
was typed; the API answers 400 naming the field; nothing answers 500 (issue 11, item 5)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings

from cases import services
from cases.models import Case, Patient
from tests.cases import entries
from tests.cases.browser import form_data
from tests.cases.test_api import payload
from tests.cases.test_forms import assert_nothing_lost, errors_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
CREATE = "/cases/new/"

BIRTH_TOO_EARLY = "Enter a date on or after 1 January 1900."
TOO_EARLY = "Enter a date on or after 16 November 1996."  # 30 years, the default
TOO_LATE = "Enter a date no later than 16 November 2026."  # today


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alice(client_for):
    return client_for("clinician")


@pytest.fixture
def api(client_for):
    client = client_for("clinician")

    def call(method: str, path: str, body: Any) -> Any:
        return getattr(client, method)(path, body, content_type="application/json")

    return call


FORM_CASES = [
    pytest.param("patient", "date_of_birth", "0001-01-01", BIRTH_TOO_EARLY, id="birth-year-1"),
    pytest.param("patient", "date_of_birth", "1899-12-31", BIRTH_TOO_EARLY, id="birth-1899"),
    pytest.param("patient", "date_of_birth", "9999-12-31", TOO_LATE, id="birth-year-9999"),
    pytest.param("patient", "date_of_birth", "2026-11-17", TOO_LATE, id="birth-tomorrow"),
    pytest.param("case", "case_date", "0001-01-01", TOO_EARLY, id="case-year-1"),
    pytest.param("case", "case_date", "9999-12-31", TOO_LATE, id="case-year-9999"),
    pytest.param("case", "case_date", "2026-11-17", TOO_LATE, id="case-tomorrow"),
    pytest.param("case", "symptom_onset_date", "0001-01-01", TOO_EARLY, id="onset-year-1"),
    pytest.param("case", "symptom_onset_date", "9999-12-31", TOO_LATE, id="onset-year-9999"),
]


@pytest.mark.parametrize(("form", "field", "value", "message"), FORM_CASES)
def test_case_form_names_the_limit_and_keeps_the_input(alice, form, field, value, message):
    posted = entries.post_data(**{form: {field: value}})
    response = alice.post(CREATE, posted)
    assert response.status_code == 200
    assert errors_of(response)[f"{form}-{field}"] == [message]
    assert_nothing_lost(posted, response)
    assert not Case.objects.exists()
    assert not Patient.objects.exists()


def test_case_form_accepts_the_limits_themselves(alice):
    posted = entries.post_data(
        patient={"date_of_birth": "1900-01-01"},
        case={"case_date": "2026-11-16", "symptom_onset_date": "1996-11-16"},
    )
    response = alice.post(CREATE, posted)
    assert response.status_code == 302, errors_of(response)
    case = Case.objects.get()
    assert case.patient.date_of_birth == dt.date(1900, 1, 1)
    assert case.case_date == dt.date(2026, 11, 16)
    assert case.symptom_onset_date == dt.date(1996, 11, 16)


def date_input(html: str, name: str) -> tuple[str | None, str | None]:
    """The (min, max) of the rendered date input ``name``."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag is not None, name
    limits = [re.search(rf'{attr}="([^"]*)"', tag.group(0)) for attr in ("min", "max")]
    return limits[0] and limits[0].group(1), limits[1] and limits[1].group(1)


def test_case_form_date_inputs_offer_only_dates_within_the_limits(alice):
    html = alice.get(CREATE).content.decode()
    assert date_input(html, "patient-date_of_birth") == ("1900-01-01", "2026-11-16")
    assert date_input(html, "case-case_date") == ("1996-11-16", "2026-11-16")
    assert date_input(html, "case-symptom_onset_date") == ("1996-11-16", "2026-11-16")


def test_a_case_stored_with_an_implausible_date_shows_and_asks_for_a_correction(alice, case_a):
    Case.objects.filter(pk=case_a.pk).update(case_date=dt.date(9999, 12, 31))
    assert alice.get(f"/cases/{case_a.pk}/").status_code == 200
    page = alice.get(f"/cases/{case_a.pk}/edit/")
    assert page.status_code == 200
    posted = form_data(page.content, form_id="case-form")
    response = alice.post(f"/cases/{case_a.pk}/edit/", posted)
    assert response.status_code == 200
    assert errors_of(response)["case-case_date"] == [TOO_LATE]
    posted["case-case_date"] = ["2026-11-02"]
    assert alice.post(f"/cases/{case_a.pk}/edit/", posted).status_code == 302
    case_a.refresh_from_db()
    assert case_a.case_date == dt.date(2026, 11, 2)


@override_settings(CLINICAL_DATES_YEARS_BACK=2)
def test_the_years_back_come_from_the_settings(alice):
    refused = alice.post(CREATE, entries.post_data(case={"case_date": "2024-11-15"}))
    assert errors_of(refused)["case-case_date"] == ["Enter a date on or after 16 November 2024."]
    accepted = alice.post(
        CREATE,
        entries.post_data(case={"case_date": "2024-11-16", "symptom_onset_date": "2024-11-16"}),
    )
    assert accepted.status_code == 302


# --- API --------------------------------------------------------------------------------------

PATIENT = {"identifier": "A-3003", "sex": "female"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01", BIRTH_TOO_EARLY),
        ("1899-12-31", BIRTH_TOO_EARLY),
        ("9999-12-31", TOO_LATE),
        ("2026-11-17", TOO_LATE),
    ],
)
def test_api_patient_date_of_birth_out_of_limits_is_a_400_naming_the_field(api, value, message):
    created = api("post", "/api/v1/patients/", {**PATIENT, "date_of_birth": value})
    assert created.status_code == 400
    assert created.json() == {"date_of_birth": [message]}
    assert not Patient.objects.exists()


def test_api_patient_update_out_of_limits_is_a_400_naming_the_field(api, patient_a):
    answer = api("patch", f"/api/v1/patients/{patient_a.pk}/", {"date_of_birth": "9999-12-31"})
    assert answer.status_code == 400
    assert answer.json() == {"date_of_birth": [TOO_LATE]}
    patient_a.refresh_from_db()
    assert patient_a.date_of_birth == dt.date(1975, 4, 12)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"case_date": "0001-01-01"}, "case_date", TOO_EARLY),
        ({"case_date": "9999-12-31"}, "case_date", TOO_LATE),
        (
            {"lesion_entity": "acute_thrombotic", "symptom_onset_date": "0001-01-01"},
            "symptom_onset_date",
            TOO_EARLY,
        ),
        (
            {"lesion_entity": "acute_thrombotic", "symptom_onset_date": "9999-12-31"},
            "symptom_onset_date",
            TOO_LATE,
        ),
    ],
)
def test_api_case_dates_out_of_limits_are_a_400_naming_the_field(
    api, patient_a, changes, field, message
):
    created = api("post", "/api/v1/cases/", payload(patient_a, **changes))
    assert created.status_code == 400
    assert created.json()[field] == [message]
    assert not Case.objects.exists()


def test_api_case_partial_update_out_of_limits_is_a_400_naming_the_field(api, case_a):
    answer = api("patch", f"/api/v1/cases/{case_a.pk}/", {"case_date": "9999-12-31"})
    assert answer.status_code == 400
    assert answer.json() == {"case_date": [TOO_LATE]}


@override_settings(CLINICAL_DATES_YEARS_BACK=2)
def test_api_uses_the_years_back_of_the_settings(api, patient_a):
    refused = api("post", "/api/v1/cases/", payload(patient_a, case_date="2024-11-15"))
    assert refused.json() == {"case_date": ["Enter a date on or after 16 November 2024."]}
    accepted = api("post", "/api/v1/cases/", payload(patient_a, case_date="2024-11-16"))
    assert accepted.status_code == 201


# --- services (imports, scripts) --------------------------------------------------------------


def test_services_refuse_dates_out_of_limits_whoever_calls_them(centre_a, clinician, patient_a):
    with pytest.raises(ValidationError) as birth:
        services.patient_get_or_create(
            centre=centre_a,
            data={"identifier": "A-4004", "sex": "male", "date_of_birth": dt.date(1, 1, 1)},
            user=None,
        )
    assert birth.value.message_dict == {"date_of_birth": [BIRTH_TOO_EARLY]}
    with pytest.raises(ValidationError) as case:
        services.case_create(
            patient=patient_a,
            author=clinician,
            data={
                "case_date": dt.date(9999, 12, 31),
                "side": "left",
                "lesion_entity": "chronic_post_thrombotic",
            },
            findings=[{"segment": "CIV", "side": "left", "finding": "occlusion"}],
        )
    assert case.value.message_dict == {"case_date": [TOO_LATE]}
