"""Pages of the hospital interfaces: importing a FHIR Bundle, completing the draft case it
filled in, opening a patient's case from a CDS Hooks card, and the registered CDS Hooks
clients (guideline admins)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import inlineformset_factory
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cases import services as case_services
from cases.access import require_perm
from cases.forms import BaseFindingFormSet, CaseForm, PatientForm, SegmentFindingForm
from cases.models import PATIENT_FIELDS, Case, Patient, SegmentFinding
from interop.fhir_import import ImportRefused, fhir_import
from interop.forms import CdsClientForm, ImportForm
from interop.models import CaseDraft, CdsClient
from venousapp.accounts.requests import AuthenticatedHttpRequest
from venousapp.pages import form_errors_apply

IMPORT_PERMS = ("cases.add_patient", "cases.add_case", "interop.add_casedraft")


def _require_import(request: AuthenticatedHttpRequest) -> None:
    if not request.user.has_perms(IMPORT_PERMS):
        raise PermissionDenied


def fhir_import_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_import(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    refused: dict[str, list[str]] = {}
    if request.method == "POST" and form.is_valid():
        try:
            result = fhir_import(user=request.user, data=form.cleaned_data["bundle"])
        except ImportRefused as exc:
            refused = exc.reasons
    return render(
        request,
        "interop/import.html",
        {"form": form, "result": result, "refused": refused},
    )


def _draft_for_request(request: AuthenticatedHttpRequest, pk: int) -> CaseDraft:
    _require_import(request)
    draft = (
        CaseDraft.objects.filter(centre_id=request.user.centre_id, pk=pk)
        .select_related("patient", "case")
        .first()
    )
    if draft is None:
        raise Http404
    return draft


def _findings_formset(request: AuthenticatedHttpRequest, draft: CaseDraft) -> BaseFindingFormSet:
    rows = draft.findings or []
    formset_class = inlineformset_factory(
        Case,
        SegmentFinding,
        form=SegmentFindingForm,
        formset=BaseFindingFormSet,
        extra=max(len(rows) - 1, 0),
        min_num=1,
        validate_min=False,
        can_delete=True,
    )
    return cast(
        BaseFindingFormSet,
        formset_class(request.POST or None, instance=Case(), prefix="findings", initial=rows),
    )


def draft_case(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The case form pre-filled with the draft; saving it creates the case."""
    draft = _draft_for_request(request, pk)
    if draft.case_id is not None:
        return redirect("cases:detail", pk=draft.case_id)
    today = request.user.centre.today()
    patient = draft.patient
    patient_form = PatientForm(
        request.POST or None,
        initial={name: getattr(patient, name) for name in PATIENT_FIELDS},
        today=today,
    )
    case_form = CaseForm(
        request.POST or None, initial=draft.data, patient_form=patient_form, today=today
    )
    findings = _findings_formset(request, draft)
    if request.method == "POST" and all(
        [patient_form.is_valid(), case_form.is_valid(), findings.is_valid()]
    ):
        try:
            with transaction.atomic():
                case = case_services.patient_case_create(
                    centre=request.user.centre,
                    author=request.user,
                    patient_data=patient_form.cleaned_data,
                    case_data=case_form.case_data(),
                    findings=findings.findings_data(),
                )
                draft.case = case
                draft.save(update_fields=["case", "updated_at"])
        except ValidationError as exc:
            form_errors_apply(exc, patient_form, case_form)
        else:
            messages.success(request, _("Case %(id)s was saved.") % {"id": case.pk})
            return redirect("cases:detail", pk=case.pk)
    return render(
        request,
        "interop/draft_case.html",
        {
            "patient_form": patient_form,
            "form": case_form,
            "findings": findings,
            "case": None,
            "draft": draft,
        },
    )


def open_patient(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where a CDS Hooks card's link leads: the patient's latest case, else the open draft,
    else a new case for the patient (or a new patient)."""
    require_perm(request, "cases.view_case")
    identifier = request.GET.get("patient", "")
    patient = (
        Patient.objects.filter(centre_id=request.user.centre_id, identifier=identifier).first()
        if identifier and "\x00" not in identifier  # no stored identifier holds a NUL
        else None
    )
    if patient is not None:
        case = Case.objects.filter(patient=patient).order_by("-case_date", "-id").first()
        if case is not None:
            return redirect("cases:detail", pk=case.pk)
        draft = CaseDraft.objects.filter(patient=patient, case__isnull=True).first()
        if draft is not None and request.user.has_perms(IMPORT_PERMS):
            return redirect("interop:draft", pk=draft.pk)
    if not request.user.has_perm("cases.add_case"):
        raise Http404
    target = reverse("cases:create")
    return redirect(f"{target}?patient={patient.pk}" if patient is not None else target)


def _require_client_admin(request: AuthenticatedHttpRequest) -> None:
    if not request.user.has_perms(("interop.view_cdsclient", "interop.add_cdsclient")):
        raise PermissionDenied


def cds_clients(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The hospital systems of this centre allowed to call the CDS Hooks service."""
    _require_client_admin(request)
    centre = request.user.centre
    form = CdsClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = form.save(commit=False)
        client.centre = centre
        client.full_clean()
        client.save()
        messages.success(request, _("%(name)s may now call the service.") % {"name": client.name})
        return redirect("interop:cds-clients")
    clients = CdsClient.objects.filter(centre=centre).order_by("name")
    return render(request, "interop/cds_clients.html", {"form": form, "clients": clients})


def cds_client_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_client_admin(request)
    client = CdsClient.objects.filter(centre_id=request.user.centre_id, pk=pk).first()
    if client is None:
        raise Http404
    form = CdsClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("%(name)s was saved.") % {"name": client.name})
        return redirect("interop:cds-clients")
    context: dict[str, Any] = {"form": form, "client": client}
    return render(request, "interop/cds_client_form.html", context)
