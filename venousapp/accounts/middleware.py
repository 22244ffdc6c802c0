from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from venousapp.accounts.models import User

# What a user who must change her password may still do.
ALLOWED_VIEWS = {"password_change", "logout"}


class PasswordChangeRequiredMiddleware:
    """Holds a user whose password an administrator set (``User.must_change_password``) at
    the password change page: every page that needs a log-in redirects there until she has
    chosen her own. Public pages stay as they are; the API answers 403 with the reason
    itself (``venousapp.accounts.authentication``), since its basic-auth users are not
    known yet when middleware runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: list[Any],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        user = request.user
        if not isinstance(user, User) or not user.must_change_password:
            return None
        if not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_VIEWS:
            return None
        return redirect("password_change")
