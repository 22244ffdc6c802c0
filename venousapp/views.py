from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from venousapp.accounts.models import Role


def home(request: HttpRequest) -> HttpResponse:
    """Nurses land on their follow-up worklist; everyone else on the case list."""
    if request.user.has_role(Role.NURSE):  # type: ignore[union-attr]
        return redirect("followup:worklist")
    return redirect("cases:list")
