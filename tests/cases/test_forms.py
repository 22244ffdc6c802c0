"""The case form in the browser: precise field errors, nothing typed is lost, valid entries
are stored (issue 2: "Mistakes get precise field errors and nothing typed is lost").

Submissions are what a browser without JavaScript sends: every section is visible, so values
of other lesion entities are submitted too and must survive a re-render.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape

from cases.entities import fields_not_applicable
from cases.forms import FindingFormSet
from cases.models import EVALUATION_FIELDS, Case, LesionEntity, Patient
from tests.cases import entries
from tests.cases.browser import form_data, lost_values
from tests.factories import CaseFactory, PatientFactory

CREATE = "/cases/new/"


@pytest.fixture
def alice(client_for):
    return client_for("clinician")


def errors_of(response: Any) -> dict[str, Any]:
    """Every error of the re-rendered page, keyed like the form inputs."""
    ctx = response.context
    found: dict[str, list[str]] = {}
    for form in (ctx["patient_form"], ctx["form"]):
        for field, errors in form.errors.items():
            name = form.add_prefix(field) if field != "__all__" else f"{form.prefix}-__all__"
            found[name] = list(errors)
    formset = ctx["findings"]
    if formset.non_form_errors():
        found["findings-__all__"] = list(formset.non_form_errors())
    for form in formset.forms:
        for field, errors in form.errors.items():
            found[form.add_prefix(field)] = list(errors)
    return found


def assert_nothing_lost(posted: dict[str, Any], response: Any) -> None:
    assert lost_values(posted, response.content, form_id="case-form") == set()


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        pytest.param(
            entries.post_data(case={"lesion_entity": ""}),
            "case-lesion_entity",
            "This field is required.",
            id="missing-lesion-entity",
        ),
        pytest.param(
            entries.post_data(drop=["lesion_entity"]),
            "case-lesion_entity",
            "This field is required.",
            id="lesion-entity-not-sent",
        ),
        pytest.param(
            entries.post_data(case={"side": ""}),
            "case-side",
            "This field is required.",
            id="missing-side",
        ),
        pytest.param(
            entries.post_data(patient={"identifier": ""}),
            "patient-identifier",
            "This field is required.",
            id="missing-patient-identifier",
        ),
        pytest.param(
            entries.post_data(case={"ceap": "C4b,s Es Ai,p Pr,o"}),
            "case-ceap",
            "Ai is not a CEAP anatomy code; did you mean Ad?",
            id="invalid-ceap",
        ),
        pytest.param(
            entries.post_data(case={"symptom_onset_date": "2026-11-03"}),
            "case-symptom_onset_date",
            "Symptom onset cannot be after the case date.",
            id="onset-after-case-date",
        ),
        pytest.param(
            entries.post_data(findings=[]),
            "findings-__all__",
            "Record at least one segment finding.",
            id="no-segment-finding",
        ),
        pytest.param(
            entries.post_data() | {"findings-0-DELETE": "on", "findings-1-DELETE": "on"},
            "findings-__all__",
            "Record at least one segment finding.",
            id="every-finding-removed",
        ),
        pytest.param(
            entries.post_data(
                findings=[entries.FINDINGS[0], entries.FINDINGS[1] | {"segment": "CIV"}]
            ),
            "findings-1-segment",
            "This segment and side is already recorded.",
            id="duplicate-segment-and-side",
        ),
        pytest.param(
            entries.post_data(
                findings=[entries.FINDINGS[0], entries.FINDINGS[1] | {"area_reduction_pct": "120"}]
            ),
            "findings-1-area_reduction_pct",
            "Ensure this value is less than or equal to 100.",
            id="area-over-100",
        ),
        pytest.param(
            entries.post_data(findings=[entries.FINDINGS[0] | {"segment": ""}]),
            "findings-0-segment",
            "This field is required.",
            id="finding-without-segment",
        ),
    ],
)
def test_case_create_mistake_gives_precise_error_and_keeps_every_value(
    alice, posted, field, message
):
    response = alice.post(CREATE, posted)
    assert response.status_code == 200
    assert errors_of(response) == {field: [message]}
    html = response.content.decode()
    assert escape(message) in html
    assert 'id="error-summary"' in html
    assert_nothing_lost(posted, response)
    assert not Case.objects.exists()
    assert not Patient.objects.filter(identifier=entries.PATIENT["identifier"]).exists()


def test_case_create_several_mistakes_are_all_reported(alice):
    posted = entries.post_data(
        case={"ceap": "C9", "symptom_onset_date": "2027-01-01", "life_expectancy_years": "-1"},
        findings=[entries.FINDINGS[0] | {"area_reduction_pct": "101"}],
    )
    response = alice.post(CREATE, posted)
    assert set(errors_of(response)) == {
        "case-ceap",
        "case-symptom_onset_date",
        "case-life_expectancy_years",
        "findings-0-area_reduction_pct",
    }
    assert_nothing_lost(posted, response)


def test_case_create_finding_rows_are_re_rendered_with_their_values(alice):
    posted = entries.post_data(case={"ceap": "C4b,s Es Ai,p Pr,o"})
    response = alice.post(CREATE, posted)
    rendered = form_data(response.content, "case-form")
    assert rendered["findings-TOTAL_FORMS"] == ["2"]
    for i, row in enumerate(entries.FINDINGS):
        for name, value in row.items():
            assert rendered[f"findings-{i}-{name}"] == [value], name
    assert rendered["case-ceap"] == ["C4b,s Es Ai,p Pr,o"]
    assert sorted(rendered["case-thrombolysis_contraindications"]) == sorted(entries.TICKS)


def test_case_create_valid_post_stores_patient_case_and_findings(alice, clinician):
    response = alice.post(CREATE, entries.post_data())
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    patient = case.patient
    assert (patient.centre, patient.identifier, patient.name) == (
        clinician.centre,
        "A-2002",
        "Erika Mustermann",
    )
    assert (patient.date_of_birth, patient.sex) == (dt.date(1980, 3, 15), "female")
    assert case.author == clinician
    assert case.case_date == dt.date(2026, 11, 2)
    assert (case.side, case.lesion_entity) == ("left", "acute_thrombotic")
    assert case.symptom_onset_date == dt.date(2026, 10, 27)
    assert case.symptom_onset_days == 6
    assert (case.thrombosis_entity, case.symptom_severity) == ("descending", "severe")
    assert (case.first_episode, case.phlegmasia) == (True, False)
    assert case.underlying_iliac_lesion == "unknown"
    assert (case.ulcer, case.venous_claudication, case.qol_impairment) == (
        "none",
        True,
        "moderate",
    )
    assert case.life_expectancy_years == Decimal("25.5")
    assert (case.ambulatory, case.pregnancy, case.thrombophilia) == (True, False, True)
    assert case.bleeding_risk_level == "low"
    assert case.contraindications_assessed is True
    assert sorted(case.thrombolysis_contraindications) == sorted(entries.TICKS)
    assert (case.active_infection, case.severe_tortuosity) == (False, False)
    assert (case.diameter_mismatch, case.endovascular_contraindication) == (True, False)
    assert case.villalta_values() == {
        key: int(entries.CASE[f"villalta_{key}"]) for key in entries.VILLALTA
    }
    assert case.notes == "Swollen left leg since last week.\nNo trauma."
    # Inputs of other entities were typed but do not apply to an acute case.
    assert case.nivl_cause == ""
    assert case.ivc_filter_related is None
    assert case.conservative_therapy_months is None
    assert (case.inflow, case.stent_thrombosis_risk) == ("", "")
    assert case.long_term_anticoagulation_possible is None
    assert set(case.vcss_values().values()) == {None}
    rows = [
        (
            f.segment,
            f.side,
            f.finding,
            f.area_reduction_pct,
            f.diameter_reduction_pct,
            f.reference_diameter_mm,
            f.lesion_length_mm,
            f.imaging_method,
        )
        for f in case.findings.order_by("id")
    ]
    assert rows == [
        ("CIV", "left", "occlusion", None, None, Decimal("14.5"), 60, "ivus"),
        ("EIV", "left", "stenosis", 62, 40, Decimal("12.0"), 45, "venography"),
    ]


def test_case_create_then_detail_page_shows_the_case(alice):
    response = alice.post(CREATE, entries.post_data(), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "A-2002" in html
    assert "C3,4b,s Esi Ad Po (CIV,EIV)" in html
    assert "Common iliac vein (CIV)" in html
    assert "External iliac vein (EIV)" in html


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("c3, C4B,S  esi ad po (civ, eiv)", "C3,4b,s Esi Ad Po (CIV,EIV)"),
        ("C4b,s", "C4b,s"),
        ("  C6r,s Esi Ad Pr,o  ", "C6r,s Esi Ad Pr,o"),
        ("", ""),
    ],
)
def test_case_create_stores_the_canonical_ceap(alice, typed, stored):
    ulcer = "active" if "6" in typed else "none"
    response = alice.post(CREATE, entries.post_data(case={"ceap": typed, "ulcer": ulcer}))
    assert response.status_code == 302
    assert Case.objects.get().ceap == stored


def test_case_create_ticked_contraindication_marks_the_checklist_assessed(alice):
    posted = entries.post_data(
        case={"thrombolysis_contraindications": [entries.ABSOLUTE_TICK]},
        drop=["contraindications_assessed"],
    )
    assert alice.post(CREATE, posted).status_code == 302
    case = Case.objects.get()
    assert case.contraindications_assessed is True
    assert case.thrombolysis_contraindications == [entries.ABSOLUTE_TICK]


def test_case_create_unknown_contraindication_code_is_a_field_error(alice):
    """A code outside the SIR 2014 checklist (as an old page or a script might post) is refused;
    the ticks that are on the checklist and everything else typed stay."""
    posted = entries.post_data(
        case={"thrombolysis_contraindications": [entries.TICKS[0], "recent_major_event"]}
    )
    response = alice.post(CREATE, posted)
    assert response.status_code == 200
    assert errors_of(response) == {
        "case-thrombolysis_contraindications": [
            "Select a valid choice. recent_major_event is not one of the available choices."
        ]
    }
    kept = {**posted, "case-thrombolysis_contraindications": [entries.TICKS[0]]}
    assert lost_values(kept, response.content, form_id="case-form") == set()
    assert not Case.objects.exists()


def test_case_create_not_recorded_answers_stay_not_recorded(alice):
    unknown = ["first_episode", "phlegmasia", "venous_claudication", "ambulatory", "pregnancy"]
    posted = entries.post_data(case=dict.fromkeys(unknown, "unknown"))
    assert alice.post(CREATE, posted).status_code == 302
    case = Case.objects.get()
    for name in unknown:
        assert getattr(case, name) is None, name


def test_case_create_existing_identifier_reuses_the_patient(alice, patient_a):
    posted = entries.post_data(
        patient={"identifier": "A-1001", "date_of_birth": "1975-04-12", "name": "", "sex": "female"}
    )
    assert alice.post(CREATE, posted).status_code == 302
    assert Case.objects.get().patient == patient_a
    assert Patient.objects.count() == 1


def test_case_create_existing_identifier_with_other_birth_date_is_a_date_of_birth_error(
    alice, patient_a
):
    posted = entries.post_data(patient={"identifier": "A-1001", "date_of_birth": "1975-04-21"})
    response = alice.post(CREATE, posted)
    assert response.status_code == 200
    message = (
        "Patient A-1001 is already registered with another date of birth; "
        "check the identifier or the date of birth."
    )
    assert errors_of(response) == {"patient-date_of_birth": [message]}
    assert escape(message) in response.content.decode()
    assert_nothing_lost(posted, response)
    assert not Case.objects.exists()
    patient_a.refresh_from_db()
    assert patient_a.date_of_birth == dt.date(1975, 4, 12)


def test_case_create_form_offers_one_empty_finding_row(alice):
    rendered = form_data(alice.get(CREATE).content, "case-form")
    assert rendered["findings-TOTAL_FORMS"] == ["1"]
    assert "findings-0-segment" in rendered
    assert not any(name.startswith("findings-1-") for name in rendered)


# --- editing -------------------------------------------------------------------------------


@pytest.fixture
def full_case(clinician, patient_a):
    """A NIVL case with every input recorded, also those of other entities (stored directly,
    as an older version of the app or an import could have left them)."""
    return CaseFactory(
        patient=patient_a,
        author=clinician,
        lesion_entity="nivl",
        nivl_cause="may_thurner",
        ivc_filter_related=True,
        thrombosis_entity="ascending",
        symptom_onset_date=dt.date(2026, 10, 20),
        symptom_severity="moderate",
        first_episode=False,
        phlegmasia=False,
        underlying_iliac_lesion="true",
        ceap="C3,s Esi Ad Po",
        ulcer="none",
        venous_claudication=True,
        qol_impairment="mild",
        conservative_therapy_months=3,
        inflow="poor",
        stent_thrombosis_risk="low",
        long_term_anticoagulation_possible=False,
        life_expectancy_years=Decimal("10.0"),
        ambulatory=True,
        pregnancy=False,
        thrombophilia=False,
        bleeding_risk_level="high",
        contraindications_assessed=True,
        thrombolysis_contraindications=[entries.TICKS[0]],
        **{f"vcss_{key}": 1 for key in entries.VCSS},
        **{f"villalta_{key}": 2 for key in entries.VILLALTA},
        findings=[
            {"segment": "CIV", "side": "left", "finding": "compression", "area_reduction_pct": 70},
            {"segment": "EIV", "side": "left", "finding": "normal"},
        ],
    )


def edit_url(case: Case) -> str:
    return reverse("cases:edit", args=[case.pk])


def stored(case: Case) -> dict[str, Any]:
    # The inputs: not the save time, nor the stored evaluation derived from them.
    fields = [
        f.name
        for f in Case._meta.concrete_fields
        if f.name not in ("updated_at", *EVALUATION_FIELDS)
    ]
    values = {name: getattr(case, name) for name in fields}
    values["findings"] = list(case.findings.order_by("id").values())
    return values


def test_case_edit_unchanged_submission_changes_nothing(alice, full_case):
    before = stored(Case.objects.get(pk=full_case.pk))
    # Save as NIVL first: the stored inputs of other entities are cleared by any save.
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    assert alice.post(edit_url(full_case), posted).status_code == 302
    after_first = stored(Case.objects.get(pk=full_case.pk))
    for name in fields_not_applicable("nivl"):
        before[name] = after_first[name]
    assert after_first == before
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    assert alice.post(edit_url(full_case), posted).status_code == 302
    assert stored(Case.objects.get(pk=full_case.pk)) == after_first


def test_case_edit_form_shows_the_stored_values(alice, full_case):
    rendered = form_data(alice.get(edit_url(full_case)).content, "case-form")
    assert rendered["patient-identifier"] == ["A-1001"]
    assert rendered["case-lesion_entity"] == ["nivl"]
    assert rendered["case-nivl_cause"] == ["may_thurner"]
    assert rendered["case-ceap"] == ["C3,s Esi Ad Po"]
    assert rendered["case-ambulatory"] == ["true"]
    assert rendered["case-pregnancy"] == ["false"]
    assert rendered["case-symptom_onset_date"] == ["2026-10-20"]
    assert rendered["case-thrombolysis_contraindications"] == [entries.TICKS[0]]
    assert rendered["findings-INITIAL_FORMS"] == ["2"]
    assert rendered["findings-0-area_reduction_pct"] == ["70"]
    assert rendered["findings-1-finding"] == ["normal"]


@pytest.mark.parametrize("entity", LesionEntity.values)
def test_case_edit_changing_the_entity_clears_inputs_that_do_not_apply(alice, full_case, entity):
    before = stored(Case.objects.get(pk=full_case.pk))
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    posted["case-lesion_entity"] = [entity]
    response = alice.post(edit_url(full_case), posted)
    assert response.status_code == 302, errors_of(response)
    after = stored(Case.objects.get(pk=full_case.pk))
    cleared = set(fields_not_applicable(entity))
    for name in cleared:
        assert after[name] in (None, ""), name
    kept = {name for name in before if name not in cleared | {"lesion_entity"}}
    assert {n: after[n] for n in kept} == {n: before[n] for n in kept}
    assert after["lesion_entity"] == entity


def test_case_edit_to_acute_keeps_the_acute_inputs_typed_in_the_same_submission(alice, full_case):
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    posted |= {
        "case-lesion_entity": ["acute_thrombotic"],
        "case-symptom_onset_date": ["2026-10-30"],
        "case-phlegmasia": ["true"],
    }
    assert alice.post(edit_url(full_case), posted).status_code == 302
    case = Case.objects.get(pk=full_case.pk)
    assert (case.symptom_onset_days, case.phlegmasia) == (3, True)
    assert (case.nivl_cause, case.vcss_pain, case.inflow) == ("", None, "")


def test_case_edit_mistake_keeps_values_and_changes_nothing(alice, full_case):
    before = stored(Case.objects.get(pk=full_case.pk))
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    posted |= {
        "case-ceap": ["C4b,s Es Ai,p Pr,o"],
        "case-side": ["right"],
        "findings-1-finding": ["stenosis"],
        "findings-1-area_reduction_pct": ["55"],
    }
    response = alice.post(edit_url(full_case), posted)
    assert response.status_code == 200
    assert errors_of(response) == {"case-ceap": ["Ai is not a CEAP anatomy code; did you mean Ad?"]}
    assert_nothing_lost(posted, response)
    assert stored(Case.objects.get(pk=full_case.pk)) == before


def test_case_edit_removes_and_adds_finding_rows(alice, full_case):
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    posted |= {
        "findings-0-DELETE": ["on"],
        "findings-TOTAL_FORMS": ["3"],
        "findings-2-id": [""],
        "findings-2-case": [str(full_case.pk)],
        "findings-2-segment": ["CFV"],
        "findings-2-side": ["left"],
        "findings-2-finding": ["stenosis"],
        "findings-2-area_reduction_pct": ["58"],
    }
    response = alice.post(edit_url(full_case), posted)
    assert response.status_code == 302, errors_of(response)
    rows = list(full_case.findings.order_by("id").values_list("segment", "finding"))
    assert rows == [("EIV", "normal"), ("CFV", "stenosis")]


def test_case_edit_replaces_a_removed_row_by_a_new_row_of_the_same_segment(alice, full_case):
    """Deleting "CIV left" and adding a new "CIV left" row in one save is a correction, not a
    duplicate: the removed row must be gone before the new one is stored."""
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    posted |= {
        "findings-0-DELETE": ["on"],
        "findings-TOTAL_FORMS": ["3"],
        "findings-2-id": [""],
        "findings-2-case": [str(full_case.pk)],
        "findings-2-segment": ["CIV"],
        "findings-2-side": ["left"],
        "findings-2-finding": ["occlusion"],
    }
    response = alice.post(edit_url(full_case), posted)
    assert response.status_code == 302, errors_of(response)
    rows = list(full_case.findings.order_by("id").values_list("segment", "side", "finding"))
    assert rows == [("EIV", "left", "normal"), ("CIV", "left", "occlusion")]


def test_case_edit_patient_identifier_of_another_patient_is_refused(alice, full_case):
    PatientFactory(centre=full_case.patient.centre, identifier="A-7777")
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    posted["patient-identifier"] = ["A-7777"]
    response = alice.post(edit_url(full_case), posted)
    assert response.status_code == 200
    assert errors_of(response) == {
        "patient-identifier": ["Another patient of this centre has the identifier A-7777."]
    }
    assert_nothing_lost(posted, response)
    full_case.patient.refresh_from_db()
    assert full_case.patient.identifier == "A-1001"


def test_case_edit_updates_the_patient(alice, full_case):
    posted = form_data(alice.get(edit_url(full_case)).content, "case-form")
    posted["patient-name"] = ["Anna Beispiel"]
    assert alice.post(edit_url(full_case), posted).status_code == 302
    full_case.patient.refresh_from_db()
    assert full_case.patient.name == "Anna Beispiel"


# --- live CEAP reading --------------------------------------------------------------------


def test_ceap_preview_reads_a_valid_classification(alice):
    response = alice.get(reverse("cases:ceap-preview"), {"case-ceap": "c3,s esi ad po (civ)"})
    html = response.content.decode()
    assert "<code>C3,s Esi Ad Po (CIV)</code>" in html
    assert "Clinical: " in html
    assert "field-error" not in html


def test_ceap_preview_explains_a_mistake(alice):
    response = alice.get(reverse("cases:ceap-preview"), {"case-ceap": "C4b,s Es Ai,p Pr,o"})
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert escape("Ai is not a CEAP anatomy code; did you mean Ad?") in html


def test_ceap_preview_without_text_shows_an_example(alice):
    response = alice.get(reverse("cases:ceap-preview"))
    assert "Type a CEAP 2020 classification" in response.content.decode()


@pytest.mark.django_db
def test_finding_formset_never_passes_the_unsaved_case_to_the_service():
    """A new case's unsaved parent must never reach the service through the finding rows."""

    for _ in range(2):  # the inline formset edits its form's field list in place
        formset = FindingFormSet(entries.post_data(), instance=Case(), prefix="findings")
        assert formset.is_valid()
        assert all("case" not in row for row in formset.findings_data())
