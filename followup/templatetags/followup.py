"""The notification bell and the open-escalation banner of base.html.

Their counts (unread notifications, the user's unacknowledged escalations) come from one
query per page, shared by the bell and the banner. They are not kept in the session: that
would write the session row whenever they were renewed, where it is otherwise written only
every few minutes (``SESSION_REFRESH_MINUTES``). The follow-up views that change the counts
for the current user drop the value already read (``bell_invalidate``), so the page they
render shows the new counts.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest

from followup import charts, selectors, surveillance
from followup.models import VisitStatus

register = template.Library()


def bell_invalidate(request: HttpRequest) -> None:
    if hasattr(request, "_followup_counts"):
        del request._followup_counts


def _counts(context: template.Context) -> dict[str, int] | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return None
    if hasattr(request, "_followup_counts"):
        return request._followup_counts
    counts = selectors.bell_counts(user)
    request._followup_counts = counts
    return counts


@register.inclusion_tag("followup/_bell.html", takes_context=True)
def followup_bell(context: template.Context) -> dict[str, Any]:
    return {"counts": _counts(context)}


@register.inclusion_tag("followup/_escalation_banner.html", takes_context=True)
def followup_escalation_banner(context: template.Context) -> dict[str, Any]:
    counts = _counts(context)
    user = getattr(context.get("request"), "user", None)
    show = bool(
        counts and counts["open_escalations"] and user and user.has_perm("followup.view_escalation")
    )
    return {"counts": counts, "show": show}


@register.inclusion_tag("followup/_case_panel.html", takes_context=True)
def followup_case_panel(context: template.Context, case: Any) -> dict[str, Any]:
    """The follow-up of one case for the case page: each schedule with its next visit (and
    whether it is due), the open escalations and the rVCSS/Villalta trends; a constant number
    of queries. Include it with ``{% load followup %}{% followup_case_panel case %}``."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.has_perm("followup.view_schedule"):
        return {"show": False}
    schedules = selectors.schedules_with_next_visit(user=user, case_id=case.pk)
    if not schedules:
        return {"show": False}
    escalations = selectors.open_escalations_for_case(user=user, case_id=case.pk)
    trends = selectors.score_trends_for_case(
        user=user, case=case, schedule_ids=[s.pk for s, _next in schedules]
    )
    rows = []
    for s, upcoming in schedules:
        status = (
            surveillance.visit_status(
                today=s.centre.today(),
                notice_on=upcoming.notice_on,
                earliest_on=upcoming.earliest_on,
                target_on=upcoming.target_on,
                latest_on=upcoming.latest_on,
            )
            if upcoming is not None
            else None
        )
        rows.append(
            {
                "schedule": s,
                "next": upcoming,
                "status": status,
                "status_label": dict(VisitStatus.choices).get(status or "", ""),
                "points": trends[s.pk],
                "charts": charts.trend_charts(trends[s.pk], start_on=s.start_on),
            }
        )
    return {"show": True, "schedules": rows, "escalations": escalations}


@register.inclusion_tag("followup/_protocol_summary.html")
def followup_protocol(entity: str, procedure: Any = None) -> dict[str, Any]:
    """The surveillance protocol a plan or procedure record hands over to, for the planning
    pages and PDF: the version its schedule was made from once the procedure is completed,
    else the entity's active version now (what completing would apply)."""
    procedure_id = getattr(procedure, "pk", None)
    protocol, applied = selectors.protocol_for(entity=entity, procedure_id=procedure_id)
    return {"protocol": protocol, "applied": applied}


@register.simple_tag
def status_label(labels: dict[str, str], status: str) -> str:
    return str(labels.get(status, status))


@register.filter
def pct(value: float | None) -> str:
    """0.923 -> "92 %" (patency estimates and benchmarks)."""
    return "—" if value is None else charts.percent(value)
