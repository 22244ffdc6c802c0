"""Pages of procedure planning: the plan (checklist, stents, diagram, PDF), the procedure
record, and the device catalogue and checklist templates for guideline admins.

Access (one helper, :func:`_plan`/:func:`_record`): a missing role permission is 403, another
centre's object 404 (its existence is not revealed). htmx requests get partials
``templates/planning/_*.html``; without JavaScript every form posts and redirects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.access import case_for_request, require_perm
from cases.facts import case_facts
from cases.models import overall_label
from guidelines.selectors import recommendations_evaluate
from planning import forms, history, pdf, selectors, services
from planning.models import (
    ChecklistItem,
    ChecklistTemplate,
    Device,
    DeviceKind,
    ProcedurePlan,
    ProcedureRecord,
)
from planning.proposal import PLANNING_STATUSES, open_contraindications
from venousapp.accounts.requests import AuthenticatedHttpRequest
from venousapp.pagecache import kept_page
from venousapp.pages import form_errors_apply, is_htmx


def _plan(
    request: AuthenticatedHttpRequest, pk: int, perm: str = "planning.view_procedureplan"
) -> ProcedurePlan:
    require_perm(request, perm)
    try:
        return selectors.plan_get(user=request.user, pk=pk)
    except ProcedurePlan.DoesNotExist:
        raise Http404 from None


def _item(request: AuthenticatedHttpRequest, pk: int, perm: str) -> ChecklistItem:
    require_perm(request, perm)
    try:
        return selectors.checklist_item_get(user=request.user, pk=pk)
    except ChecklistItem.DoesNotExist:
        raise Http404 from None


def _record(
    request: AuthenticatedHttpRequest, pk: int, perm: str = "planning.view_procedurerecord"
) -> ProcedureRecord:
    require_perm(request, perm)
    try:
        return selectors.record_get(user=request.user, pk=pk)
    except ProcedureRecord.DoesNotExist:
        raise Http404 from None


def _errors_to_messages(request: AuthenticatedHttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_context(form: Any = None, *formsets: Any, errors: Any = ()) -> dict[str, Any]:
    """What ``planning/_errors.html`` needs: the form, the formsets and whether any failed."""
    has_errors = bool(
        (form is not None and form.errors)
        or errors
        or any(fs.is_bound and fs.total_error_count() for fs in formsets)
    )
    return {
        "form": form,
        "formsets": list(formsets),
        "errors": list(errors),
        "has_errors": has_errors,
    }


def _address_by_id(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for any pk, the pattern reversed once: a page that links
    every row of a long list would otherwise reverse it for each row."""
    marker = 918273645  # any id; its digits mark where the id goes
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def _item_links(items: Iterable[ChecklistItem]) -> None:
    """Give each checklist item the addresses its row links to: tick or untick, change."""
    tick, untick, edit = (
        _address_by_id(f"planning:{name}") for name in ("item-tick", "item-untick", "item-edit")
    )
    for item in items:
        item.toggle_url = (untick if item.ticked else tick)(item.pk)  # type: ignore[attr-defined]
        item.edit_url = edit(item.pk)  # type: ignore[attr-defined]


# --- plan -----------------------------------------------------------------------------------


def plan_context(plan: ProcedurePlan, *, id_prefix: str = "plan-diagram") -> dict[str, Any]:
    """Everything the plan page and the PDF show (a constant number of queries)."""
    case = plan.case
    findings = list(case.findings.all())
    facts = case_facts(case, findings)
    result, _ruleset = recommendations_evaluate(facts=facts)
    items = list(plan.items.all())
    _item_links(items)
    return {
        "plan": plan,
        "case": case,
        "facts": facts,
        "findings": findings,
        "access_sites": list(plan.access_sites.all()),
        "stents": list(plan.stents.all()),
        "phases": selectors.checklist_phases(items),
        "warnings": selectors.plan_warnings(plan, facts),
        "contraindications": open_contraindications(facts),
        "overall_now": result["overall"],
        "overall_now_label": overall_label(result["overall"]),
        "still_plannable": result["overall"] in PLANNING_STATUSES,
        "records": list(plan.records.all()),
        "diagram": selectors.plan_diagram(
            plan,
            findings,
            id_prefix=id_prefix,
            title=_("Iliocaval diagram of case %(id)s with the planned stents") % {"id": case.pk},
        ),
    }


def plan_create(request: AuthenticatedHttpRequest, case_pk: int) -> HttpResponse:
    """GET: what the plan will be made from (or why it cannot be); POST: create it."""
    case = case_for_request(request, case_pk)
    require_perm(request, "planning.add_procedureplan")
    findings = list(case.findings.all())
    facts = case_facts(case, findings)
    result, ruleset = recommendations_evaluate(facts=facts)
    form = forms.PlanCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                case=case,
                author=request.user,
                indication_override_reason=form.cleaned_data["indication_override_reason"],
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)  # the page again, with what was typed
        else:
            messages.success(request, _("Plan %(id)s was created from the case.") % {"id": plan.pk})
            return redirect("planning:plan-detail", pk=plan.pk)
    against = selectors.advice_against(result, ruleset)
    return render(
        request,
        "planning/plan_create.html",
        {
            "case": case,
            "result": result,
            "form": form,
            "against": against,
            "needs_reason": bool(against) or result["overall"] == "stent_conflict",
            "overall_label": overall_label(result["overall"]),
            "plannable": result["overall"] in PLANNING_STATUSES,
            "plans": list(selectors.plan_list(user=request.user, case=case)),
        },
    )


@kept_page
def plan_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    return render(request, "planning/plan_detail.html", plan_context(plan))


def plan_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    content = pdf.plan_pdf(plan_context(plan, id_prefix="pdf-diagram"), request=request)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="plan-{plan.pk}-case-{plan.case_id}.pdf"'
    )
    return response


def plan_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, "planning.change_procedureplan")
    if plan.is_signed:
        messages.error(request, _("The plan is signed; reopen it before changing it."))
        return redirect("planning:plan-detail", pk=plan.pk)
    form = forms.PlanForm(request.POST or None, instance=plan, prefix="plan")
    access = forms.AccessSiteFormSet(request.POST or None, instance=plan, prefix="access")
    if request.method == "POST" and form.is_valid() and access.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            with transaction.atomic():
                services.plan_update(plan=plan, user=request.user, data=data)
                services.plan_access_sites_replace(
                    plan=plan,
                    user=request.user,
                    rows=forms.formset_rows(access, order_field="position"),
                )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The plan was updated."))
            return redirect("planning:plan-detail", pk=plan.pk)
    # The form validated the instance in place; show the stored plan in the heading.
    return render(
        request,
        "planning/plan_form.html",
        {"plan": plan, "access": access, **_form_context(form, access)},
    )


def plan_stents(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, "planning.change_plannedstent")
    if plan.is_signed:
        messages.error(request, _("The plan is signed; reopen it before changing it."))
        return redirect("planning:plan-detail", pk=plan.pk)
    formset = forms.PlannedStentFormSet(request.POST or None, instance=plan, prefix="stents")
    errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            services.plan_stents_replace(
                plan=plan,
                user=request.user,
                rows=forms.formset_rows(formset),
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("The stents were updated."))
            return redirect(reverse("planning:plan-detail", args=[plan.pk]) + "#stents")
    findings = list(plan.case.findings.all())
    return render(
        request,
        "planning/plan_stents.html",
        {
            "plan": plan,
            "formset": formset,
            **_form_context(None, formset, errors=errors),
            "findings": findings,
            "catalogue": selectors.device_list().filter(kind=DeviceKind.STENT),
        },
    )


@require_POST
def plan_stents_propose(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, "planning.change_plannedstent")
    try:
        services.plan_stents_propose(plan=plan, user=request.user)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("Stents were sized again from the case's measurements."))
    return redirect(reverse("planning:plan-detail", args=[plan.pk]) + "#stents")


def plan_sign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, "planning.change_procedureplan")
    form = forms.SignForm(
        request.POST or None, initial={"override_reason": plan.contraindication_override_reason}
    )
    contraindications = open_contraindications(case_facts(plan.case))
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_sign(
                plan=plan,
                user=request.user,
                override_reason=form.cleaned_data["override_reason"],
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The plan was signed."))
            return redirect("planning:plan-detail", pk=plan.pk)
    return render(
        request,
        "planning/plan_sign.html",
        {"plan": plan, "contraindications": contraindications, **_form_context(form)},
    )


@require_POST
def plan_reopen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, "planning.change_procedureplan")
    try:
        services.plan_reopen(plan=plan, user=request.user)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("The plan is a draft again; sign it after your changes."))
    return redirect("planning:plan-detail", pk=plan.pk)


def plan_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    return render(
        request,
        "planning/plan_history.html",
        {"plan": plan, "entries": history.plan_history(plan)},
    )


# --- checklist ------------------------------------------------------------------------------


def _item_response(request: AuthenticatedHttpRequest, item: ChecklistItem) -> HttpResponse:
    if is_htmx(request):
        plan = item.plan
        phase_items = list(
            plan.items.filter(phase=item.phase).select_related("ticked_by").order_by("position")
        )
        phase = next(p for p in selectors.checklist_phases(phase_items) if p.code == item.phase)
        fresh = next(i for i in phase_items if i.pk == item.pk)
        _item_links([fresh])
        return render(
            request,
            "planning/_item_swap.html",
            {
                "items": [fresh],
                "plan": plan,
                "phase": phase,
                "can_edit": not plan.is_signed,
            },
        )
    return redirect(reverse("planning:plan-detail", args=[item.plan_id]) + f"#item-{item.pk}")


@require_POST
def item_tick(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk, "planning.change_checklistitem")
    item = services.checklist_item_tick(item=item, user=request.user)
    return _item_response(request, item)


@require_POST
def item_untick(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk, "planning.change_checklistitem")
    item = services.checklist_item_untick(item=item, user=request.user)
    return _item_response(request, item)


@require_POST
def item_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, "planning.add_checklistitem")
    form = forms.ChecklistItemAddForm(request.POST)
    if form.is_valid():
        try:
            services.checklist_item_add(
                plan=plan,
                user=request.user,
                phase=form.cleaned_data["phase"],
                category=form.cleaned_data["category"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, _("The item was added."))
    else:
        messages.error(request, _("Give the item a text."))
    return redirect(
        reverse("planning:plan-detail", args=[plan.pk]) + f"#phase-{request.POST.get('phase')}"
    )


def item_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk, "planning.change_checklistitem")
    form = forms.ChecklistItemTextForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            services.checklist_item_update(
                item=item,
                user=request.user,
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            return redirect(
                reverse("planning:plan-detail", args=[item.plan_id]) + f"#item-{item.pk}"
            )
    return render(request, "planning/item_form.html", {"item": item, **_form_context(form)})


@require_POST
def item_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk, "planning.delete_checklistitem")
    plan_id = item.plan_id
    try:
        services.checklist_item_remove(item=item, user=request.user)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("The item was removed (it stays in the history)."))
    return redirect("planning:plan-detail", pk=plan_id)


# --- procedure record -----------------------------------------------------------------------


def _implant_rows(formset: Any) -> list[dict[str, Any]]:
    return forms.formset_rows(formset)


def record_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record the procedure of a plan, pre-filled from it."""
    plan = _plan(request, pk, "planning.add_procedurerecord")
    existing = plan.records.first()
    if existing is not None:
        return redirect("planning:record-detail", pk=existing.pk)
    initial = services.procedure_record_initial(plan=plan, user=request.user)
    implants_initial = initial.pop("implants")
    form = forms.ProcedureRecordForm(
        request.POST or None,
        initial=initial,
        prefix="record",
        today=plan.case.patient.centre.today(),
    )
    implants = forms.ImplantFormSet(
        request.POST or None,
        instance=ProcedureRecord(),
        prefix="implants",
        initial=implants_initial,
    )
    if request.method == "GET":
        implants.extra = len(implants_initial) + 1
    if request.method == "POST" and form.is_valid() and implants.is_valid():
        try:
            record = services.procedure_record_create(
                case=plan.case,
                plan=plan,
                author=request.user,
                data=form.cleaned_data,
                implants=_implant_rows(implants),
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The procedure was recorded."))
            return redirect("planning:record-detail", pk=record.pk)
    return render(
        request,
        "planning/record_form.html",
        {
            "plan": plan,
            "case": plan.case,
            "implants": implants,
            "record": None,
            **_form_context(form, implants),
        },
    )


def record_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    return render(
        request,
        "planning/record_detail.html",
        {
            "record": record,
            "case": record.case,
            "implants": list(record.implants.all()),
            "planned_count": (
                record.plan.stents.filter(device__isnull=False).count() if record.plan else 0
            ),
        },
    )


def record_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk, "planning.change_procedurerecord")
    if record.is_completed:
        messages.error(
            request, _("The procedure record is completed and can no longer be changed.")
        )
        return redirect("planning:record-detail", pk=record.pk)
    form = forms.ProcedureRecordForm(
        request.POST or None,
        instance=record,
        prefix="record",
        today=record.case.patient.centre.today(),
    )
    implants = forms.ImplantFormSet(request.POST or None, instance=record, prefix="implants")
    if request.method == "POST" and form.is_valid() and implants.is_valid():
        try:
            services.procedure_record_update(
                record=record,
                user=request.user,
                data=form.cleaned_data,
                implants=_implant_rows(implants),
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The procedure record was updated."))
            return redirect("planning:record-detail", pk=record.pk)
    return render(
        request,
        "planning/record_form.html",
        {
            "plan": record.plan,
            "case": record.case,
            "implants": implants,
            "record": record,
            **_form_context(form, implants),
        },
    )


@require_POST
def record_complete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk, "planning.change_procedurerecord")
    try:
        services.procedure_record_complete(record=record, user=request.user)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(
            request, _("The procedure is completed; the follow-up schedule was handed over.")
        )
    return redirect("planning:record-detail", pk=record.pk)


# --- catalogue (guideline admins) -----------------------------------------------------------


def catalogue(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(request, "planning.view_device")
    show_retired = request.GET.get("retired") == "1"
    devices = list(selectors.device_list(include_retired=show_retired))
    groups = [
        (label, [d for d in devices if d.kind == code])
        for code, label in DeviceKind.choices
        if any(d.kind == code for d in devices)
    ]
    return render(
        request, "planning/catalogue.html", {"groups": groups, "show_retired": show_retired}
    )


def _device_sizes_save(formset: Any, device: Device, user: Any) -> None:
    for form in formset.forms:
        size = form.instance
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("id", "device", "retired")}
        if size.pk is None:
            if form.has_changed() and any(v not in (None, "", False) for v in data.values()):
                services.device_size_save(user=user, device=device, data=data)
            continue
        changed = [n for n in form.changed_data if n != "retired"]
        if changed:
            services.device_size_save(user=user, device=device, data=data, size=size)
        retired = form.cleaned_data.get("retired")
        if retired and size.retired_at is None:
            services.device_size_retire(size=size, user=user)
        elif not retired and size.retired_at is not None:
            services.device_size_restore(size=size, user=user)


def device_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    if pk is None:
        require_perm(request, "planning.add_device")
        device = Device()
    else:
        require_perm(request, "planning.change_device")
        device = get_object_or_404(Device, pk=pk)
    form = forms.DeviceForm(request.POST or None, instance=device, prefix="device")
    sizes = forms.DeviceSizeFormSet(request.POST or None, instance=device, prefix="sizes")
    if request.method == "POST" and form.is_valid() and sizes.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            with transaction.atomic():
                saved = services.device_save(
                    user=request.user,
                    data=data,
                    device=device if device.pk else None,
                )
                _device_sizes_save(sizes, saved, request.user)
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": saved.name})
            return redirect("planning:device-edit", pk=saved.pk)
    return render(
        request,
        "planning/device_form.html",
        {"device": device, "sizes": sizes, **_form_context(form, sizes)},
    )


@require_POST
def device_retire(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "planning.change_device")
    device = get_object_or_404(Device, pk=pk)
    if request.POST.get("restore"):
        services.device_restore(device=device, user=request.user)
        messages.success(request, _("%(name)s is back in the catalogue.") % {"name": device.name})
    else:
        services.device_retire(device=device, user=request.user)
        messages.success(
            request,
            _("%(name)s was retired; plans and records keep it.") % {"name": device.name},
        )
    return redirect("planning:catalogue")


def device_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "planning.view_device")
    device = get_object_or_404(Device, pk=pk)
    return render(
        request,
        "planning/history.html",
        {
            "title": _("History of %(name)s") % {"name": device.name},
            "back": reverse("planning:catalogue"),
            "entries": history.device_history(device),
        },
    )


# --- checklist templates (guideline admins) -------------------------------------------------


def template_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_perm(request, "planning.view_checklisttemplate")
    templates = list(selectors.checklist_template_list(include_retired=True))
    return render(request, "planning/template_list.html", {"templates": templates})


def template_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    if pk is None:
        require_perm(request, "planning.add_checklisttemplate")
        template = ChecklistTemplate()
    else:
        require_perm(request, "planning.change_checklisttemplate")
        template = get_object_or_404(ChecklistTemplate, pk=pk)
    form = forms.ChecklistTemplateForm(request.POST or None, instance=template, prefix="template")
    items = forms.TemplateItemFormSet(request.POST or None, instance=template, prefix="items")
    if request.method == "POST" and form.is_valid() and items.is_valid():
        try:
            saved = services.checklist_template_save(
                user=request.user,
                data=form.cleaned_data,
                items=forms.formset_rows(items),
                template=template if template.pk else None,
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The checklist template was saved."))
            return redirect("planning:template-edit", pk=saved.pk)
    return render(
        request,
        "planning/template_form.html",
        {"template": template, "items": items, **_form_context(form, items)},
    )


@require_POST
def template_retire(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "planning.change_checklisttemplate")
    template = get_object_or_404(ChecklistTemplate, pk=pk)
    try:
        if request.POST.get("restore"):
            services.checklist_template_restore(template=template, user=request.user)
        else:
            services.checklist_template_retire(template=template, user=request.user)
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    return redirect("planning:templates")


def template_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "planning.view_checklisttemplate")
    template = get_object_or_404(ChecklistTemplate, pk=pk)
    return render(
        request,
        "planning/history.html",
        {
            "title": _("History of the template “%(name)s”") % {"name": template.name},
            "back": reverse("planning:templates"),
            "entries": history.template_history(template),
        },
    )
