"""Audit by default (STYLE.md convention 11): every change of a case, its findings, its patient, a
centre or a user leaves a django-simple-history row; through a request the row names who."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from cases import services
from cases.history import case_history
from cases.models import Case, Patient, SegmentFinding
from tests.cases import entries
from tests.cases.browser import form_data
from tests.factories import CaseFactory, CentreFactory, PatientFactory, UserFactory
from venousapp.accounts import services as account_services
from venousapp.accounts.models import ApiToken, Centre, User


def types(records: Any) -> list[str]:
    """History types oldest first: "+" created, "~" changed, "-" deleted."""
    return [r.history_type for r in records.order_by("history_date", "history_id")]


def finding_history(case: Case) -> Any:
    return SegmentFinding.history.filter(case_id=case.pk)


@pytest.fixture
def created_by_service(clinician, patient_a):
    return services.case_create(
        patient=patient_a,
        author=clinician,
        data={"case_date": dt.date(2026, 11, 2), "side": "left", "lesion_entity": "nivl"},
        findings=[
            {"segment": "CIV", "side": "left", "finding": "compression"},
            {"segment": "EIV", "side": "left", "finding": "normal"},
        ],
    )


def test_history_case_create_via_service_leaves_rows(created_by_service):
    case = created_by_service
    assert types(case.history.all()) == ["+"]
    assert types(finding_history(case)) == ["+", "+"]
    assert case.history.get().lesion_entity == "nivl"
    assert case.history.get().history_user == case.author  # the service names who acted


def test_history_case_update_via_service_leaves_a_changed_row(created_by_service):
    case = created_by_service
    services.case_update(
        case=case, user=case.author, data={"side": "right", "nivl_cause": "tumour"}
    )
    assert types(case.history.all()) == ["+", "~"]
    latest = case.history.latest()
    assert (latest.side, latest.nivl_cause) == ("right", "tumour")
    delta = latest.diff_against(latest.prev_record)
    assert {c.field for c in delta.changes} == {"side", "nivl_cause"}


def test_history_findings_added_and_removed_via_service(created_by_service):
    case = created_by_service
    civ, eiv = case.findings.order_by("id")
    services.case_update(
        case=case,
        user=case.author,
        data={},
        findings=[
            {"id": civ.pk, "segment": "CIV", "side": "left", "finding": "stenosis"},
            {"segment": "CFV", "side": "left", "finding": "thrombus"},
        ],
    )
    assert types(SegmentFinding.history.filter(id=civ.pk)) == ["+", "~"]
    assert types(SegmentFinding.history.filter(id=eiv.pk)) == ["+", "-"]
    cfv = case.findings.get(segment="CFV")
    assert types(SegmentFinding.history.filter(id=cfv.pk)) == ["+"]


def test_history_case_create_via_page_names_the_user(client_for, clinician):
    response = client_for("clinician").post("/cases/new/", entries.post_data())
    assert response.status_code == 302
    case = Case.objects.get()
    record = case.history.get()
    assert (record.history_type, record.history_user) == ("+", clinician)
    assert {(r.history_type, r.history_user) for r in finding_history(case)} == {("+", clinician)}
    assert finding_history(case).count() == 2
    patient = case.patient.history.get()
    assert (patient.history_type, patient.history_user) == ("+", clinician)


@pytest.fixture
def edited_via_page(client_for, case_a):
    """Alice changes the side and CEAP, removes the CIV row and adds an EIV row."""
    client = client_for("clinician")
    url = reverse("cases:edit", args=[case_a.pk])
    posted = form_data(client.get(url).content, "case-form")
    posted |= {
        "case-side": ["right"],
        "case-ceap": ["C4a,s Esi Ad Po"],
        "findings-0-DELETE": ["on"],
        "findings-TOTAL_FORMS": ["2"],
        "findings-1-id": [""],
        "findings-1-case": [str(case_a.pk)],
        "findings-1-segment": ["EIV"],
        "findings-1-side": ["right"],
        "findings-1-finding": ["stenosis"],
        "findings-1-area_reduction_pct": ["55"],
    }
    response = client.post(url, posted)
    assert response.status_code == 302
    return case_a


def test_history_case_update_via_page_names_the_user(edited_via_page, clinician):
    case = edited_via_page
    assert types(case.history.all()) == ["+", "~"]
    latest = case.history.latest()
    assert latest.history_user == clinician
    assert (latest.side, latest.ceap) == ("right", "C4a,s Esi Ad Po")


def test_history_findings_added_and_removed_via_page_name_the_user(edited_via_page, clinician):
    records = finding_history(edited_via_page).order_by("history_date", "history_id")
    assert [(r.segment, r.history_type) for r in records] == [
        ("CIV", "+"),
        ("CIV", "-"),
        ("EIV", "+"),
    ]
    assert [r.history_user for r in records[1:]] == [clinician, clinician]


def test_history_case_update_via_api_names_the_user(client_for, case_a, clinician):
    response = client_for("clinician").patch(
        f"/api/v1/cases/{case_a.pk}/", {"side": "bilateral"}, content_type="application/json"
    )
    assert response.status_code == 200
    latest = case_a.history.latest()
    assert (latest.history_type, latest.side, latest.history_user) == ("~", "bilateral", clinician)


def test_history_page_lists_who_changed_what(client_for, edited_via_page):
    response = client_for("nurse").get(reverse("cases:history", args=[edited_via_page.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>side</strong>: Left → Right" in html  # labels, not codes
    assert "<strong>CEAP 2020</strong>: C3,s Esi Ad Po → C4a,s Esi Ad Po" in html
    rows = [(e.who, e.subject, e.action) for e in response.context["entries"]]
    assert ("alice", "Case", "changed") in rows
    assert ("alice", "Finding CIV left", "deleted") in rows
    assert ("alice", "Finding EIV right", "created") in rows
    assert ("system", "Case", "created") in rows  # made by the factory, outside a request
    changed = next(
        e for e in response.context["entries"] if e.subject == "Case" and e.action == "changed"
    )
    assert sorted(changed.changes) == [
        ("CEAP 2020", "C3,s Esi Ad Po", "C4a,s Esi Ad Po"),
        ("side", "Left", "Right"),
    ]


def test_history_page_lists_newest_first(client_for, edited_via_page):
    response = client_for("clinician").get(reverse("cases:history", args=[edited_via_page.pk]))
    whens = [e.when for e in response.context["entries"]]
    assert whens == sorted(whens, reverse=True)


def test_history_unchanged_save_adds_no_entry(clinician, case_a):
    before = len(case_history(case_a))
    services.case_update(case=case_a, user=case_a.author, data={})
    assert case_a.history.count() == 2  # the row exists ...
    assert len(case_history(case_a)) == before  # ... but says nothing, so it is not listed


def test_history_of_a_case_does_not_show_other_cases(clinician, case_a, patient_a):
    other = CaseFactory(
        patient=PatientFactory(centre=patient_a.centre),
        author=clinician,
        findings=[{"segment": "FV", "side": "right", "finding": "occlusion"}],
    )
    subjects = {e.subject for e in case_history(case_a)}
    assert "Finding FV right" not in subjects
    assert "Finding FV right" in {e.subject for e in case_history(other)}


# --- every audited model ------------------------------------------------------------------

AUDITED: dict[type[models.Model], tuple[Callable[[], Any], Callable[[Any], None]]] = {
    Case: (
        lambda: CaseFactory(findings=[]),
        lambda case: setattr(case, "ceap", "C2 Ep As Pr"),
    ),
    SegmentFinding: (
        lambda: SegmentFinding.objects.create(
            case=CaseFactory(findings=[]), segment="EIV", side="left", finding="stenosis"
        ),
        lambda finding: setattr(finding, "area_reduction_pct", 70),
    ),
    Patient: (
        lambda: PatientFactory(),
        lambda patient: setattr(patient, "name", "Changed Name"),
    ),
    Centre: (
        lambda: CentreFactory(),
        lambda centre: setattr(centre, "name", "Renamed Hospital"),
    ),
    User: (
        lambda: UserFactory(),
        lambda user: setattr(user, "email", "changed@example.org"),
    ),
    ApiToken: (
        lambda: account_services.api_token_create(
            user=UserFactory(), name="Registry export", lifetime=None
        )[0],
        lambda token: setattr(token, "name", "Registry export (old)"),
    ),
}


def test_history_every_audited_model_is_covered_here():
    """A new audited model of cases/accounts must be added to AUDITED."""
    audited = {
        model
        for model in apps.get_models()
        if model._meta.app_label in {"cases", "accounts"}
        and hasattr(model._meta, "simple_history_manager_attribute")
    }
    assert audited == set(AUDITED)


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(AUDITED), ids=lambda m: m.__name__)
def test_history_every_audited_model_change_leaves_a_row(model):
    create, change = AUDITED[model]
    obj = create()
    history = model.history.filter(**{model._meta.pk.attname: obj.pk})
    assert types(history) == ["+"]
    change(obj)
    obj.save()
    assert types(history) == ["+", "~"]
    assert (
        history.order_by("history_date", "history_id")
        .last()
        .diff_against(history.order_by("history_date", "history_id").first())
        .changes
    )
    obj.delete()
    assert types(history) == ["+", "~", "-"]


def test_history_of_users_keeps_no_password():
    tracked = {f.name for f in User.history.model._meta.fields}
    assert "password" not in tracked
    assert "last_login" not in tracked
    assert "email" in tracked


def test_ticking_a_contraindication_keeps_the_history_page_readable(client_for, clinician):
    """A list value (the checklist) in the audit trail used to answer 500 for ever."""
    from tests.factories import CaseFactory, PatientFactory

    case = CaseFactory(patient=PatientFactory(centre=clinician.centre), author=clinician)
    client = client_for("clinician")
    answer = client.patch(
        f"/api/v1/cases/{case.pk}/",
        {"thrombolysis_contraindications": ["renal_failure"]},
        content_type="application/json",
    )
    assert answer.status_code == 200
    page = client.get(f"/cases/{case.pk}/history/")
    assert page.status_code == 200
    assert "Renal failure (eGFR &lt;60 mL/min)" in page.content.decode()


def test_history_rows_of_a_service_outside_any_request_name_who(created_by_service, nurse):
    """A command, a task or an import writes through the services without a request: the
    history still names the person the service was told acted."""
    case = created_by_service
    assert case.history.latest().history_user == case.author
    services.case_update(
        case=case,
        user=nurse,
        data={"side": "right"},
        findings=[{"segment": "CIV", "side": "right", "finding": "compression"}],
    )
    assert case.history.latest().history_user == nurse
    assert {row.history_user for row in finding_history(case).filter(history_type="-")} == {nurse}
    services.patient_update(patient=case.patient, data={"name": "Renamed"}, user=nurse)
    assert case.patient.history.latest().history_user == nurse
