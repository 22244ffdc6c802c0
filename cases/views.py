from functools import partial
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cases import ceap, extensions, selectors, services, thrombolysis
from cases.access import case_for_request, require_perm
from cases.facts import case_facts
from cases.forms import (
    BaseFindingFormSet,
    CaseFilterForm,
    CaseForm,
    FindingFormSet,
    PatientForm,
)
from cases.history import case_history
from cases.models import PATIENT_FIELDS, Case, Patient
from venousapp.accounts.requests import AuthenticatedHttpRequest
from venousapp.listing import keyset_page, ordering
from venousapp.pagecache import kept_page
from venousapp.pages import form_errors_apply
from venousapp.params import object_id


@kept_page
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(request, "cases.view_case")
    filters = CaseFilterForm(request.GET or None)
    wanted: dict[str, str] = {}
    if filters.is_bound:
        filters.is_valid()  # a bad value is shown on its field; the valid fields still filter
        wanted = filters.cleaned_data
    sort, order_by = ordering(
        request.GET.get("sort"), selectors.CASE_COLUMNS, selectors.CASE_DEFAULT_SORT
    )
    cases = selectors.case_list(
        user=request.user,
        query=wanted.get("q", ""),
        entity=wanted.get("entity", ""),
        status=wanted.get("status", ""),
        order_by=order_by,
    )
    page = keyset_page(cases, order_by, request.GET, per_page=25)
    # The stored status, unless a publish made it stale and the re-evaluation has not reached
    # the case yet: then it is evaluated now (patient and findings are loaded).
    rows = [
        (
            case,
            extensions.overall_status(
                stored=case.overall_status,
                evaluated_ruleset=case.evaluated_ruleset,
                evaluated_engine=case.evaluated_engine,
                facts=partial(case_facts, case),
            ),
        )
        for case in page
    ]
    return render(
        request,
        "cases/case_list.html",
        {"page": page, "rows": rows, "filters": filters, "sort": sort},
    )


def _patient_initial(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    patient_id = object_id(request.GET.get("patient", ""))
    if patient_id is None:
        return {}
    patient = selectors.patient_list(user=request.user).filter(pk=patient_id).first()
    if patient is None:
        return {}
    return {name: getattr(patient, name) for name in PATIENT_FIELDS}


def case_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(request, "cases.add_case")
    today = request.user.centre.today()
    patient_form = PatientForm(request.POST or None, initial=_patient_initial(request), today=today)
    case_form = CaseForm(request.POST or None, patient_form=patient_form, today=today)
    findings = cast(
        BaseFindingFormSet,
        FindingFormSet(request.POST or None, instance=Case(), prefix="findings"),
    )
    if request.method == "POST" and all(
        [patient_form.is_valid(), case_form.is_valid(), findings.is_valid()]
    ):
        try:
            case = services.patient_case_create(
                centre=request.user.centre,
                author=request.user,
                patient_data=patient_form.cleaned_data,
                case_data=case_form.case_data(),
                findings=findings.findings_data(),
            )
        except ValidationError as exc:
            form_errors_apply(exc, patient_form, case_form)
        else:
            messages.success(request, _("Case %(id)s was saved.") % {"id": case.pk})
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "cases/case_form.html",
        {
            "patient_form": patient_form,
            "form": case_form,
            "findings": findings,
            "case": None,
        },
    )


def case_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = case_for_request(request, pk, "cases.change_case")
    today = case.patient.centre.today()
    patient_form = PatientForm(
        request.POST or None,
        instance=Patient(
            pk=case.patient.pk,
            centre=case.patient.centre,
            **{name: getattr(case.patient, name) for name in PATIENT_FIELDS},
        ),
        today=today,
    )
    case_form = CaseForm(
        request.POST or None, instance=case, patient_form=patient_form, today=today
    )
    findings = cast(
        BaseFindingFormSet,
        FindingFormSet(request.POST or None, instance=case, prefix="findings"),
    )
    if request.method == "POST" and all(
        [patient_form.is_valid(), case_form.is_valid(), findings.is_valid()]
    ):
        try:
            with transaction.atomic():
                services.patient_update(
                    patient=case.patient, data=patient_form.cleaned_data, user=request.user
                )
                services.case_update(
                    case=case,
                    data=case_form.case_data(),
                    user=request.user,
                    findings=findings.findings_data(),
                )
        except ValidationError as exc:
            form_errors_apply(exc, patient_form, case_form)
        else:
            messages.success(request, _("Case %(id)s was updated.") % {"id": case.pk})
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "cases/case_form.html",
        {
            "patient_form": patient_form,
            "form": case_form,
            "findings": findings,
            "case": case,
        },
    )


CLASS_LABELS = {
    "none": gettext_lazy("none"),
    "relative": gettext_lazy("relative"),
    "absolute": gettext_lazy("absolute"),
}


def contraindication_context(facts: dict[str, Any]) -> dict[str, Any]:
    """The effective thrombolysis contraindication of a case and where it comes from."""
    bleeding = facts.get("bleeding_risk") or {}
    reading = thrombolysis.read(
        recorded=bleeding.get("contraindication_class"),
        factors=bleeding.get("factors"),
        pregnancy=facts.get("pregnancy"),
    )
    return {
        "code": reading.effective,
        "label": CLASS_LABELS.get(reading.effective or "", ""),
        "recorded": CLASS_LABELS.get(reading.recorded or "", ""),
        "sources": [_(label) for label in reading.labels],
        "understated": reading.understated,
    }


@kept_page
def case_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = case_for_request(request, pk)
    findings = list(case.findings.all())
    facts = case_facts(case, findings)
    parsed = None
    if case.ceap:
        try:
            parsed = ceap.parse(case.ceap)
        except ceap.CeapError:
            parsed = None
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "findings": findings,
            "facts": facts,
            "ceap": parsed,
            "contraindication": contraindication_context(facts),
            **extensions.case_page_context(request, case=case, facts=facts),
        },
    )


def case_history_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = case_for_request(request, pk)
    return render(request, "cases/case_history.html", {"case": case, "entries": case_history(case)})


@require_GET
def ceap_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Live plain-language reading of the CEAP text being typed (htmx partial)."""
    require_perm(request, "cases.view_case")
    text = request.GET.get("case-ceap", request.GET.get("ceap", ""))
    reading = error = ""
    if text.strip():
        try:
            parsed = ceap.parse(text)
            reading = parsed.describe()
            canonical = parsed.canonical()
        except ceap.CeapError as exc:
            error, canonical = str(exc), ""
    else:
        canonical = ""
    return render(
        request,
        "cases/_ceap_reading.html",
        {"reading": reading, "error": error, "canonical": canonical},
    )
