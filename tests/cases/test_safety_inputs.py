"""Case inputs of the safety rules (docs/safety.md#one-contraindication-class,
docs/safety.md#pregnancy): pregnancy and the thrombolysis checklist, pregnancy for a male
patient, CEAP against the ulcer status, and the effective contraindication class on the case
page. Posted as the browser sends the form."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cases.models import Case
from tests.cases import entries
from tests.cases.browser import form_data
from tests.cases.test_forms import CREATE, assert_nothing_lost, errors_of
from tests.factories import CaseFactory, PatientFactory

PREGNANCY_CODE = "pregnancy_or_lactation"


@pytest.fixture
def alice(client_for):
    return client_for("clinician")


def stored_case(clinician, **fields):
    """A case of a female patient at the clinician's centre, stored as is (no services: as an
    older version of the app or an import could have left it)."""
    return CaseFactory(
        patient=PatientFactory(centre=clinician.centre, sex="female"), author=clinician, **fields
    )


# --- pregnancy ticks the checklist --------------------------------------------------------


def test_pregnancy_ticks_pregnancy_or_lactation_on_the_checklist(alice):
    posted = entries.post_data(case={"pregnancy": "true", "thrombolysis_contraindications": []})
    response = alice.post(CREATE, posted)
    assert response.status_code == 302, errors_of(response)
    case = Case.objects.get()
    assert case.thrombolysis_contraindications == [PREGNANCY_CODE]
    assert case.contraindications_assessed is True


def test_pregnancy_keeps_the_other_ticks(alice):
    posted = entries.post_data(case={"pregnancy": "true"})
    assert alice.post(CREATE, posted).status_code == 302
    assert Case.objects.get().thrombolysis_contraindications == [*entries.TICKS, PREGNANCY_CODE]


def test_the_form_shows_the_tick_locked_while_pregnancy_is_yes(alice, clinician):
    case = stored_case(
        clinician,
        pregnancy=True,
        contraindications_assessed=True,
        thrombolysis_contraindications=[PREGNANCY_CODE],
    )
    html = alice.get(reverse("cases:edit", args=[case.pk])).content.decode()
    tick = next(line for line in html.splitlines() if f'value="{PREGNANCY_CODE}"' in line)
    assert "checked" in tick
    assert 'aria-disabled="true"' in tick
    assert "ticked and locked while pregnancy is “Yes”" in html


def test_unticking_the_locked_item_does_not_remove_it(alice):
    posted = entries.post_data(
        case={"pregnancy": "true", "thrombolysis_contraindications": [entries.TICKS[0]]}
    )
    assert alice.post(CREATE, posted).status_code == 302
    assert PREGNANCY_CODE in Case.objects.get().thrombolysis_contraindications


# --- plausibility: errors on the field, nothing typed is lost -----------------------------


def test_pregnancy_for_a_male_patient_is_refused_on_the_field(alice):
    posted = entries.post_data(patient={"sex": "male"}, case={"pregnancy": "true"})
    response = alice.post(CREATE, posted)
    assert response.status_code == 200
    errors = errors_of(response)
    assert list(errors) == ["case-pregnancy"]
    assert "Pregnancy cannot be recorded for a male patient" in errors["case-pregnancy"][0]
    assert_nothing_lost(posted, response)
    assert not Case.objects.exists()


def test_pregnancy_for_a_patient_of_other_sex_is_accepted(alice):
    posted = entries.post_data(patient={"sex": "other"}, case={"pregnancy": "true"})
    assert alice.post(CREATE, posted).status_code == 302


def test_changing_the_patient_to_male_on_the_edit_page_is_refused(alice, clinician):
    case = stored_case(
        clinician,
        pregnancy=True,
        ceap="C3,s",
        ulcer="none",
    )
    page = alice.get(reverse("cases:edit", args=[case.pk]))
    posted = form_data(page.content, form_id="case-form")
    posted["patient-sex"] = ["male"]
    response = alice.post(reverse("cases:edit", args=[case.pk]), posted)
    assert response.status_code == 200
    assert "case-pregnancy" in errors_of(response)
    case.patient.refresh_from_db()
    assert case.patient.sex == "female"


@pytest.mark.parametrize(
    ("ceap", "ulcer"),
    [
        ("C5,s", "active"),
        ("C6,s", "healed"),
        ("C6r,s", "none"),
        ("C3,s", "active"),
        ("C4b,s", "healed"),
        ("C5,s", "none"),
        ("C5,6,s", "healed"),
    ],
)
def test_ceap_and_ulcer_must_agree(alice, ceap, ulcer):
    posted = entries.post_data(case={"ceap": ceap, "ulcer": ulcer})
    response = alice.post(CREATE, posted)
    assert response.status_code == 200
    errors = errors_of(response)
    assert set(errors) == {"case-ceap", "case-ulcer"}
    message = errors["case-ceap"][0]
    assert errors["case-ulcer"] == [message]
    assert "CEAP" in message
    assert "venous ulcer" in message
    assert_nothing_lost(posted, response)


@pytest.mark.parametrize(
    ("ceap", "ulcer"),
    [
        ("C6,s", "active"),
        ("C6r,s", "active"),
        ("C5,6,s", "active"),
        ("C5,s", "healed"),
        ("C4b,s", "none"),
        ("C2,a", "none"),
        ("", "active"),  # CEAP not recorded: nothing to compare
        ("C6,s", ""),  # ulcer not recorded
    ],
)
def test_ceap_and_ulcer_that_agree_are_saved(alice, ceap, ulcer):
    response = alice.post(CREATE, entries.post_data(case={"ceap": ceap, "ulcer": ulcer}))
    assert response.status_code == 302, errors_of(response)


def test_both_plausibility_errors_at_once(alice):
    posted = entries.post_data(
        patient={"sex": "male"}, case={"pregnancy": "true", "ceap": "C6,s", "ulcer": "none"}
    )
    response = alice.post(CREATE, posted)
    assert set(errors_of(response)) == {"case-pregnancy", "case-ceap", "case-ulcer"}
    assert_nothing_lost(posted, response)


# --- the API refuses the same, naming the fields --------------------------------------------


def _api(client_for) -> Any:
    client = client_for("clinician")

    def call(method: str, path: str, body: Any) -> Any:
        return getattr(client, method)(path, body, content_type="application/json")

    return call


def _body(patient: Any, **changes: Any) -> dict[str, Any]:
    return {
        "patient": patient.pk,
        "case_date": "2026-11-02",
        "side": "left",
        "lesion_entity": "nivl",
        "ceap": "C3,s",
        "ulcer": "none",
        "findings": [{"segment": "CIV", "side": "left", "finding": "stenosis"}],
        **changes,
    }


def test_api_refuses_pregnancy_for_a_male_patient(client_for, clinician):
    patient = PatientFactory(centre=clinician.centre, sex="male")
    answer = _api(client_for)("post", "/api/v1/cases/", _body(patient, pregnancy=True))
    assert answer.status_code == 400
    assert "pregnancy" in answer.json()
    assert not Case.objects.exists()


def test_api_refuses_ceap_that_contradicts_the_ulcer(client_for, clinician):
    patient = PatientFactory(centre=clinician.centre, sex="female")
    answer = _api(client_for)("post", "/api/v1/cases/", _body(patient, ceap="C6,s"))
    assert answer.status_code == 400
    assert {"ceap", "ulcer"} <= set(answer.json())


def test_api_patch_of_one_field_is_checked_against_the_stored_others(client_for, clinician):
    patient = PatientFactory(centre=clinician.centre, sex="female")
    api = _api(client_for)
    case_id = api("post", "/api/v1/cases/", _body(patient)).json()["id"]
    answer = api("patch", f"/api/v1/cases/{case_id}/", {"ulcer": "active"})
    assert answer.status_code == 400
    assert {"ceap", "ulcer"} <= set(answer.json())


def test_api_pregnancy_ticks_the_checklist(client_for, clinician):
    patient = PatientFactory(centre=clinician.centre, sex="female")
    api = _api(client_for)
    case_id = api("post", "/api/v1/cases/", _body(patient)).json()["id"]
    answer = api("patch", f"/api/v1/cases/{case_id}/", {"pregnancy": True})
    assert answer.status_code == 200
    assert answer.json()["thrombolysis_contraindications"] == [PREGNANCY_CODE]


# --- the case page: effective class and where it comes from ---------------------------------


def _page(client_for, case: Case) -> str:
    return client_for("clinician").get(reverse("cases:detail", args=[case.pk])).content.decode()


def _block(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</dd>", start)]


def test_case_page_shows_relative_because_of_pregnancy(client_for, clinician):
    case = stored_case(
        clinician,
        pregnancy=True,
        contraindications_assessed=True,
        thrombolysis_contraindications=[PREGNANCY_CODE],
    )
    block = _block(_page(client_for, case), "contraindication-class")
    assert "Relative" in block
    assert "Pregnancy or lactation" in block


def test_case_page_shows_absolute_and_the_ticked_item(client_for, clinician):
    case = stored_case(
        clinician,
        contraindications_assessed=True,
        thrombolysis_contraindications=["cerebrovascular_event_3m", "renal_failure"],
    )
    html = _page(client_for, case)
    block = _block(html, "contraindication-class")
    assert "Absolute" in block
    assert "Cerebrovascular event (including TIA) within 3 months" in block
    assert "cerebrovascular_event_3m" not in html


def test_case_page_warns_when_the_recorded_class_understates_the_pregnancy(client_for, clinician):
    """A case stored before pregnancy ticked the checklist: assessed, nothing ticked."""
    case = stored_case(
        clinician,
        pregnancy=True,
        contraindications_assessed=True,
        thrombolysis_contraindications=[],
    )
    html = _page(client_for, case)
    assert "Pregnancy" in _block(html, "contraindication-class")
    assert 'id="contraindication-understated"' in html
    assert "understates" in html


def test_case_page_has_no_warning_when_the_class_is_whole(client_for, clinician):
    case = stored_case(
        clinician,
        pregnancy=False,
        contraindications_assessed=True,
        thrombolysis_contraindications=[],
    )
    html = _page(client_for, case)
    assert "None" in _block(html, "contraindication-class")
    assert 'id="contraindication-understated"' not in html
