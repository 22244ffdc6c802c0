"""The API's authentication (settings ``REST_FRAMEWORK``): DRF's session and basic auth,
refusing a user who must first replace the password an administrator set."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import BasicScheme, SessionScheme
from rest_framework import authentication, exceptions
from rest_framework.request import Request


class PasswordChangeRequired(exceptions.PermissionDenied):
    default_detail = _(
        "Your password was set by an administrator. Log in on the website and choose your "
        "own password before using the API."
    )
    default_code = "password_change_required"


def _own_password(result: tuple[Any, Any] | None) -> tuple[Any, Any] | None:
    if result is not None and getattr(result[0], "must_change_password", False):
        raise PasswordChangeRequired
    return result


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        return _own_password(super().authenticate(request))


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        return _own_password(super().authenticate(request))


# The OpenAPI schema describes them as DRF's own (cookieAuth, basicAuth).
class OwnPasswordSessionScheme(SessionScheme):
    target_class = "venousapp.accounts.authentication.SessionAuthentication"


class OwnPasswordBasicScheme(BasicScheme):
    target_class = "venousapp.accounts.authentication.BasicAuthentication"
