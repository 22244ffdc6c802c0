from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from venousapp.accounts.models import Role


def home(request: HttpRequest) -> HttpResponse:
    """Nurses land on their follow-up worklist, guideline admins on the rules (with what
    awaits their approval), everyone else on the case list."""
    user = request.user
    if user.has_role(Role.NURSE):  # type: ignore[union-attr]
        return redirect("followup:worklist")
    if user.has_role(Role.GUIDELINE_ADMIN) and not user.has_role(Role.CLINICIAN):  # type: ignore[union-attr]
        return redirect("guidelines:rule-list")
    return redirect("cases:list")
