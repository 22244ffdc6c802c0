"""The one access helper of the follow-up app: 403 for a missing role permission, 404 for an
object of another centre (its existence is not revealed)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from followup import selectors
from followup.models import Escalation, PatencyReport, Protocol, Schedule, Visit
from venousapp.accounts.requests import AuthenticatedHttpRequest


def require_perm(request: AuthenticatedHttpRequest, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def visit_for_request(request: AuthenticatedHttpRequest, pk: int, *perms: str) -> Visit:
    require_perm(request, "followup.view_visit", *perms)
    try:
        return selectors.visit_get(user=request.user, pk=pk)
    except Visit.DoesNotExist:
        raise Http404 from None


def schedule_for_request(request: AuthenticatedHttpRequest, pk: int, *perms: str) -> Schedule:
    require_perm(request, "followup.view_schedule", *perms)
    try:
        return selectors.schedule_get(user=request.user, pk=pk)
    except Schedule.DoesNotExist:
        raise Http404 from None


def escalation_for_request(request: AuthenticatedHttpRequest, pk: int, *perms: str) -> Escalation:
    require_perm(request, "followup.view_escalation", *perms)
    try:
        return selectors.escalation_get(user=request.user, pk=pk)
    except Escalation.DoesNotExist:
        raise Http404 from None


def protocol_for_request(request: AuthenticatedHttpRequest, pk: int, *perms: str) -> Protocol:
    """Protocols are shared by every centre; only the role matters."""
    require_perm(request, "followup.view_protocol", *perms)
    try:
        return selectors.protocol_get(pk)
    except Protocol.DoesNotExist:
        raise Http404 from None


def patency_report_for_request(
    request: AuthenticatedHttpRequest, pk: int, *perms: str
) -> PatencyReport:
    require_perm(request, "followup.view_patencyreport", *perms)
    try:
        return selectors.patency_report_get(user=request.user, pk=pk)
    except PatencyReport.DoesNotExist:
        raise Http404 from None
