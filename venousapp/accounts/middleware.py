from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from venousapp.accounts.models import User

# What a user who must change her password may still do.
ALLOWED_VIEWS = {"password_change", "logout"}
# When the session was last written (seconds since the epoch), kept in the session itself
# because the database backend does not tell a loaded session's expiry.
REFRESHED_KEY = "_session_refreshed"


class SessionRefreshMiddleware:
    """Moves an active session's expiry on at most once every ``SESSION_REFRESH_MINUTES``
    instead of writing the session row on every request (``SESSION_SAVE_EVERY_REQUEST``).

    A session expires ``SESSION_COOKIE_AGE`` after its last write, so an idle session ends
    between that age less the interval and that age after the last request, and an active
    one never does. Sits just inside ``SessionMiddleware``, which saves what is marked.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        # A session nobody read is left unloaded; an empty one (anonymous visitors, a
        # log-out) is never written.
        if not session.accessed or session.is_empty():
            return response
        now = int(timezone.now().timestamp())
        refreshed = session.get(REFRESHED_KEY)
        interval = settings.SESSION_REFRESH_MINUTES * 60
        if session.modified or not isinstance(refreshed, int) or now - refreshed >= interval:
            session[REFRESHED_KEY] = now
        return response


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
