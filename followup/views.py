"""Pages of the follow-up app: the nurse's worklist, visits (contact attempts, reschedule,
letter, result entry), schedules (with score trends), escalations for clinicians,
re-interventions, notifications, the patency analytics (clinicians and guideline admins)
and, for guideline admins, the surveillance protocols.

Access goes through ``followup.access`` (403 wrong role, 404 other centre). htmx requests get
partials ``templates/followup/_*.html``; without JavaScript every form posts and redirects.
"""

from __future__ import annotations

import csv
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from followup import access, charts, notifications, pdf, selectors, surveillance
from followup.forms import (
    BaseProtocolVisitFormSet,
    BaseSegmentFormSet,
    CloseVisitForm,
    ContactAttemptForm,
    DecisionForm,
    PatencyFilterForm,
    ProtocolForm,
    ProtocolVisitFormSet,
    ReInterventionForm,
    RescheduleForm,
    SegmentFormSet,
    VisitResultForm,
    WorklistFilterForm,
)
from followup.models import (
    PROTOCOL_VISIT_FIELDS,
    Decision,
    PatencyReport,
    Visit,
    VisitKind,
    VisitState,
    VisitStatus,
)
from followup.services import clock, escalations, protocols, reports, results, visits
from followup.templatetags.followup import bell_invalidate
from planning.models import FollowUpEntity
from venousapp.accounts.requests import AuthenticatedHttpRequest
from venousapp.listing import ordering
from venousapp.pagecache import kept_page
from venousapp.pages import form_errors_apply, is_htmx
from venousapp.params import object_id

PAGE_SIZE = 50


def _status_of(visit: Visit, today: Any) -> str:
    return surveillance.visit_status(
        today=today,
        notice_on=visit.notice_on,
        earliest_on=visit.earliest_on,
        target_on=visit.target_on,
        latest_on=visit.latest_on,
        state=visit.state,
    )


# --- worklist ---------------------------------------------------------------------------------


@kept_page
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The nurse's home page: open visits of her centre that need her, oldest first."""
    access.require_perm(request, "followup.view_visit")
    user = request.user
    today = clock.centre_today(user.centre)
    filters = WorklistFilterForm(request.GET or None)
    values = filters.values()
    scope = {
        "centre_id": user.centre_id,
        "today": today,
        "entity": values["entity"],
        "date_from": values["date_from"],
        "date_to": values["date_to"],
        "query": values["q"],
    }
    sort, order_by = ordering(
        request.GET.get("sort"), selectors.WORKLIST_COLUMNS, selectors.WORKLIST_DEFAULT_SORT
    )
    counts = selectors.worklist_counts(**scope)
    ids = selectors.worklist_ids(status=values["status"], order_by=order_by, **scope)
    page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.worklist_rows(list(page.object_list), today)  # type: ignore[assignment]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "counts": counts,
        "today": today,
        "status_labels": dict(VisitStatus.choices),
        "statuses": surveillance.OPEN_STATUSES,
        "current_status": values["status"],
        "query": query.urlencode(),
        "sort": sort,
    }
    template = "followup/_worklist_table.html" if is_htmx(request) else "followup/worklist.html"
    return render(request, template, context)


# --- visits -----------------------------------------------------------------------------------


def _visit_context(request: AuthenticatedHttpRequest, visit: Visit, **extra: Any) -> dict[str, Any]:
    today = clock.centre_today(visit.centre)
    escalations = list(visit.escalations.select_related("clinician").order_by("-created_at"))
    result = getattr(visit, "result", None) if visit.state == VisitState.DONE else None
    return {
        "visit": visit,
        "schedule": visit.schedule,
        "case": visit.schedule.case,
        "patient": visit.schedule.case.patient,
        "today": today,
        "status": _status_of(visit, today),
        "status_labels": dict(VisitStatus.choices),
        "contacts": list(selectors.visit_contacts(visit)),
        "escalations": escalations,
        "result": result,
        "result_segments": list(result.segments.all()) if result else [],
        "contact_form": extra.pop("contact_form", None) or ContactAttemptForm(),
        "reschedule_form": extra.pop("reschedule_form", None)
        or RescheduleForm(initial={"target_on": visit.target_on}, today=today),
        "close_form": extra.pop("close_form", None) or CloseVisitForm(),
        **extra,
    }


def visit_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    visit = access.visit_for_request(request, pk)
    return render(request, "followup/visit_detail.html", _visit_context(request, visit))


@require_POST
def contact_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    visit = access.visit_for_request(request, pk, "followup.add_contactattempt")
    form = ContactAttemptForm(request.POST)
    if form.is_valid():
        try:
            visits.contact_attempt_log(visit=visit, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            if not is_htmx(request):
                messages.success(request, _("The contact attempt was logged."))
                return redirect("followup:visit", pk=visit.pk)
            form = ContactAttemptForm()
    if is_htmx(request):
        return render(
            request,
            "followup/_contacts.html",
            {
                "visit": visit,
                "contacts": list(selectors.visit_contacts(visit)),
                "contact_form": form,
            },
        )
    return render(
        request,
        "followup/visit_detail.html",
        _visit_context(request, visit, contact_form=form),
        status=400,
    )


def visit_reschedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    visit = access.visit_for_request(request, pk, "followup.change_visit")
    form = RescheduleForm(
        request.POST or None,
        initial={"target_on": visit.target_on},
        today=clock.centre_today(visit.centre),
    )
    if request.method == "POST" and form.is_valid():
        try:
            visits.visit_reschedule(
                visit=visit,
                user=request.user,
                target_on=form.cleaned_data["target_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The visit was rescheduled."))
            return redirect("followup:visit", pk=visit.pk)
    return render(
        request,
        "followup/visit_reschedule.html",
        {"visit": visit, "form": form, "patient": visit.schedule.case.patient},
        status=400 if form.errors else 200,
    )


def visit_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    visit = access.visit_for_request(request, pk, "followup.change_visit")
    form = CloseVisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            visits.visit_close(visit=visit, user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The visit was closed without a visit."))
            return redirect("followup:worklist")
    return render(
        request,
        "followup/visit_close.html",
        {"visit": visit, "form": form, "patient": visit.schedule.case.patient},
        status=400 if form.errors else 200,
    )


def visit_letter(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The patient's invitation letter (A4 PDF)."""
    visit = access.visit_for_request(request, pk)
    content = pdf.invitation_letter(visit=visit, request=request)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="invitation-visit-{visit.pk}.pdf"'
    return response


def visit_result(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record (or correct) the result of a visit, per stented segment and clinical."""
    visit = access.visit_for_request(request, pk, "followup.add_visitresult")
    existing = getattr(visit, "result", None) if visit.state == VisitState.DONE else None
    if existing is not None:
        access.require_perm(request, "followup.change_visitresult")
    if visit.state == VisitState.CANCELLED:
        raise Http404
    procedure = visit.schedule.procedure
    stented = results.stented_segments(procedure)
    with_duplex = visit.kind != VisitKind.CLINICAL
    today = clock.centre_today(visit.centre)
    if existing is not None:
        rows = {(s.segment, s.side): s for s in existing.segments.all()}
        initial = [
            {
                "segment": s,
                "side": d,
                **(
                    {
                        name: getattr(rows[(s, d)], name)
                        for name in (
                            "patency",
                            "in_stent_thrombus",
                            "isr_percent",
                            "peak_velocity_ratio",
                            "compression",
                        )
                    }
                    if (s, d) in rows
                    else {"patency": "not_assessed"}
                ),
            }
            for s, d in stented
        ]
    else:
        initial = [{"segment": s, "side": d, "patency": "not_assessed"} for s, d in stented]
    form = VisitResultForm(
        request.POST or None,
        instance=existing,
        initial=None if existing else {"performed_on": today},
        today=today,
    )
    segments = cast(
        BaseSegmentFormSet,
        SegmentFormSet(
            request.POST or None, prefix="segments", initial=initial if with_duplex else []
        ),
    )
    if request.method == "POST" and form.is_valid() and segments.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            result = results.visit_result_record(
                visit=visit,
                user=request.user,
                data=data,
                segments=segments.rows(),
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            if result.abnormal:
                messages.warning(
                    request,
                    _("Abnormal findings were sent to the responsible clinician: %(r)s.")
                    % {
                        "r": ", ".join(
                            surveillance.REASON_LABELS[c] for c in result.abnormal_reasons
                        )
                    },
                )
            else:
                messages.success(request, _("The visit result was saved."))
            return redirect("followup:visit", pk=visit.pk)
    return render(
        request,
        "followup/visit_result.html",
        {
            "visit": visit,
            "patient": visit.schedule.case.patient,
            "form": form,
            "segments": segments,
            "with_duplex": with_duplex,
            "sections": form.sections(
                with_duplex=with_duplex,
                with_clinical=visit.with_clinical or visit.kind == VisitKind.CLINICAL,
            ),
            "editing": existing is not None,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- schedules --------------------------------------------------------------------------------


def schedule_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    schedule = access.schedule_for_request(request, pk)
    today = clock.centre_today(schedule.centre)
    points = selectors.score_trend(schedule)
    return render(
        request,
        "followup/schedule_detail.html",
        {
            "schedule": schedule,
            "case": schedule.case,
            "patient": schedule.case.patient,
            "visits": list(selectors.schedule_visits(schedule, today)),
            "today": today,
            "reinterventions": list(selectors.reinterventions(schedule)),
            "stented": results.stented_segments(schedule.procedure),
            "status_labels": dict(VisitStatus.choices),
            "score_points": points,
            "trend_charts": charts.trend_charts(points, start_on=schedule.start_on),
        },
    )


def case_schedules(request: AuthenticatedHttpRequest, case_pk: int) -> HttpResponse:
    """The follow-up of a case: its schedule (one procedure) or the list of schedules."""
    access.require_perm(request, "followup.view_schedule")
    schedules = list(selectors.schedules_for_case(user=request.user, case_id=case_pk))
    if len(schedules) == 1:
        return redirect("followup:schedule", pk=schedules[0].pk)
    if not schedules:
        raise Http404
    return render(request, "followup/case_schedules.html", {"schedules": schedules})


def reintervention_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    schedule = access.schedule_for_request(request, pk, "followup.add_reintervention")
    stented = results.stented_segments(schedule.procedure)
    escalation = None
    escalation_id = object_id(request.GET.get("escalation") or request.POST.get("escalation"))
    if escalation_id is not None:
        escalation = access.escalation_for_request(request, escalation_id)
    today = clock.centre_today(schedule.centre)
    form = ReInterventionForm(
        request.POST or None,
        stented=stented,
        today=today,
        initial={
            "performed_on": today,
            "for_occlusion": bool(escalation and "occlusion" in escalation.reasons),
            "segments": [f"{s}:{d}" for s, d in stented],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            results.reintervention_record(
                schedule=schedule,
                user=request.user,
                data={**form.cleaned_data, "escalation": escalation},
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(request, _("The re-intervention was recorded."))
            return redirect("followup:schedule", pk=schedule.pk)
    return render(
        request,
        "followup/reintervention_form.html",
        {
            "schedule": schedule,
            "patient": schedule.case.patient,
            "form": form,
            "escalation": escalation,
        },
        status=400 if form.errors else 200,
    )


# --- patency analytics ------------------------------------------------------------------------


def _patency_filters(request: AuthenticatedHttpRequest, data: QueryDict) -> PatencyFilterForm:
    access.require_perm(request, "followup.view_patencyreport")
    form = PatencyFilterForm(data or None)
    form.is_valid()
    return form


def _patency_query(form: PatencyFilterForm, report: PatencyReport | None = None) -> str:
    values = form.values()
    query = QueryDict(mutable=True)
    for name in ("endpoint", "entity"):
        if values[name]:
            query[name] = values[name]
    if report is not None:
        query["report"] = str(report.pk)
    return query.urlencode()


def _patency_context(form: PatencyFilterForm, state: reports.PatencyState | None) -> dict[str, Any]:
    figures = []
    if state is not None and state.analysis is not None:
        figures = charts.km_figures(
            state.analysis,
            endpoints=form.endpoints(),
            entity_labels={str(k): str(v) for k, v in FollowUpEntity.choices},
        )
    report = state.report if state else None
    return {
        "filters": form,
        "state": state,
        "report": report,
        "figures": figures,
        "query": _patency_query(form, report),
        "filter_query": _patency_query(form),
    }


def _patency_state(
    request: AuthenticatedHttpRequest, form: PatencyFilterForm
) -> reports.PatencyState:
    values = form.values()
    if values["report"]:
        report = access.patency_report_for_request(request, values["report"])
        # A report answers one entity filter; for another one, show that one's curves.
        if report.entity == values["entity"]:
            return reports.patency_state_of(report)
    access.require_perm(request, "followup.add_patencyreport")
    return reports.patency_analytics(user=request.user, entity=values["entity"])


@require_http_methods(["GET", "POST"])
@kept_page
def patency_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Kaplan–Meier curves of primary, primary-assisted and secondary patency per follow-up
    entity at the user's centre, against the Razavi 2015 one-year benchmarks
    (docs/followup.md#patency, docs/followup.md#benchmarks). A POST computes the curves again
    instead of showing a recent report."""
    form = _patency_filters(request, request.GET)
    if form.errors:
        return render(request, "followup/patency.html", _patency_context(form, None), status=400)
    if request.method == "POST":
        access.require_perm(request, "followup.add_patencyreport")
        entity = form.values()["entity"]
        state = reports.patency_analytics(user=request.user, entity=entity, refresh=True)
        return redirect(f"{reverse('followup:patency')}?{_patency_query(form, state.report)}")
    state = _patency_state(request, form)
    response = render(request, "followup/patency.html", _patency_context(form, state))
    if state.report is None or state.report.pk != form.values()["report"]:
        # Computed now, or the newest report that is still fresh: what the same address
        # shows depends on the time, so the page is not kept (venousapp.pagecache).
        add_never_cache_headers(response)
    return response


@require_GET
def patency_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The htmx-polled progress (then result) of a queued patency report."""
    form = _patency_filters(request, request.GET)
    if form.errors:
        return HttpResponseBadRequest(_("Invalid filter."))
    report = access.patency_report_for_request(request, pk)
    context = _patency_context(form, reports.patency_state_of(report))
    return render(request, "followup/_patency_results.html", context)


CSV_COLUMNS = (
    "entity",
    "endpoint",
    "time_days",
    "at_risk",
    "events",
    "censored",
    "survival",
    "ci_lower_95",
    "ci_upper_95",
)


@require_GET
def patency_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The product-limit tables behind the curves (same filters as the page), one row per
    entity, endpoint and time with an event or a censoring."""
    form = _patency_filters(request, request.GET)
    if form.errors:
        problems = "; ".join(
            f"{name}: {' '.join(str(m) for m in e)}" for name, e in form.errors.items()
        )
        return HttpResponseBadRequest(
            _("Invalid filter: %(p)s") % {"p": problems}, content_type="text/plain"
        )
    state = _patency_state(request, form)
    if state.analysis is None:
        messages.info(
            request,
            _("The curves are still being computed; download the table when they are shown."),
        )
        return redirect(f"{reverse('followup:patency')}?{_patency_query(form, state.report)}")
    endpoints = form.endpoints()
    user = request.user
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    day = user.centre.today(state.computed_at).isoformat()
    response["Content-Disposition"] = f'attachment; filename="patency-{user.centre.code}-{day}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for group in state.analysis.groups:
        for endpoint in endpoints:
            curve = group.curve_for(endpoint)
            for row in curve.rows if curve else ():
                writer.writerow(
                    [
                        group.entity,
                        endpoint,
                        row.time_days,
                        row.at_risk,
                        row.events,
                        row.censored,
                        f"{row.survival:.6f}",
                        f"{row.lower:.6f}",
                        f"{row.upper:.6f}",
                    ]
                )
    return response


# --- escalations ------------------------------------------------------------------------------


def escalation_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_perm(request, "followup.view_escalation")
    bell_invalidate(request)
    show = request.GET.get("show", "open")
    escalations = selectors.escalation_list(user=request.user, open_only=show != "all")
    page = Paginator(escalations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "followup/escalation_list.html", {"page": page, "show": show})


def escalation_detail(
    request: AuthenticatedHttpRequest,
    pk: int,
    *,
    form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    escalation = access.escalation_for_request(request, pk)
    result = escalation.result
    return render(
        request,
        "followup/escalation_detail.html",
        {
            "escalation": escalation,
            "visit": escalation.visit,
            "result": result,
            "segments": list(result.segments.all()),
            "patient": escalation.case.patient,
            "schedule": escalation.visit.schedule,
            "form": form
            or DecisionForm(
                initial={"decision": escalation.decision or None},
                today=clock.centre_today(escalation.visit.centre),
            ),
            # Once decided, the decision is shown; the form comes back only to change it (or
            # with the errors of a change just posted).
            "change_decision": form is not None or request.GET.get("change") == "1",
            "reasons": escalation.summary.splitlines(),
            "Decision": Decision,
        },
        status=status,
    )


@require_POST
def escalation_acknowledge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    escalation = access.escalation_for_request(request, pk, "followup.acknowledge_escalation")
    escalations.escalation_acknowledge(escalation=escalation, user=request.user)
    bell_invalidate(request)
    messages.success(request, _("Escalation %(id)s acknowledged.") % {"id": escalation.pk})
    return redirect("followup:escalation", pk=escalation.pk)


@require_POST
def escalation_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    escalation = access.escalation_for_request(request, pk, "followup.decide_escalation")
    form = DecisionForm(request.POST, today=clock.centre_today(escalation.visit.centre))
    if form.is_valid():
        data = form.cleaned_data
        try:
            escalations.escalation_decide(
                escalation=escalation,
                user=request.user,
                decision=data["decision"],
                note=data["note"],
                reimage_kind=data["reimage_kind"],
                reimage_on=data["reimage_on"],
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            bell_invalidate(request)
            messages.success(request, _("The decision was recorded."))
            if data["decision"] == Decision.REINTERVENE:
                url = reverse("followup:reintervention-create", args=[escalation.visit.schedule_id])
                return redirect(f"{url}?escalation={escalation.pk}")
            return redirect("followup:escalation", pk=escalation.pk)
    return escalation_detail(request, pk, form=form, status=400)


# --- notifications ----------------------------------------------------------------------------


def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    bell_invalidate(request)  # the page and its bell show the same, current counts
    page = Paginator(selectors.notification_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "followup/notification_list.html", {"page": page})


@require_POST
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    from followup.models import Notification

    try:
        notification = notifications.notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None
    bell_invalidate(request)
    target = notification.url or reverse("followup:notifications")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("followup:notifications")
    return redirect(target)


@require_POST
def notifications_read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    notifications.notifications_mark_all_read(user=request.user, now=timezone.now())
    bell_invalidate(request)
    return redirect("followup:notifications")


# --- protocols (guideline admins) -------------------------------------------------------------


def protocol_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_perm(request, "followup.view_protocol")
    return render(
        request, "followup/protocol_list.html", {"protocols": list(selectors.protocol_list())}
    )


def protocol_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    protocol = access.protocol_for_request(request, pk)
    return render(
        request,
        "followup/protocol_detail.html",
        {
            "protocol": protocol,
            "visits": list(protocol.visits.all()),
            "versions": list(selectors.protocol_versions(protocol)),
        },
    )


def protocol_revise(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    protocol = access.protocol_for_request(
        request, pk, "followup.add_protocol", "followup.change_protocol"
    )
    if not protocol.is_active:
        messages.error(request, _("This version was superseded; edit the current version."))
        return redirect("followup:protocol", pk=protocol.pk)
    form = ProtocolForm(request.POST or None, instance=protocol)
    visits = ProtocolVisitFormSet(
        request.POST or None,
        prefix="visits",
        initial=[
            {name: getattr(v, name) for name in PROTOCOL_VISIT_FIELDS}
            for v in protocol.visits.all()
        ],
    )
    if request.method == "POST" and form.is_valid() and visits.is_valid():
        try:
            new = protocols.protocol_revise(
                protocol=protocol,
                user=request.user,
                data=form.cleaned_data,
                visits=cast(BaseProtocolVisitFormSet, visits).rows(),
            )
        except ValidationError as exc:
            form_errors_apply(exc, form)
        else:
            messages.success(
                request,
                _(
                    "Saved as version %(v)s. Existing schedules keep the version they were made "
                    "from; new schedules use this one."
                )
                % {"v": new.version},
            )
            return redirect("followup:protocol", pk=new.pk)
    return render(
        request,
        "followup/protocol_form.html",
        {"protocol": protocol, "form": form, "visits": visits},
        status=400 if request.method == "POST" else 200,
    )
