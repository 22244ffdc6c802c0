"""The API's authentication (settings ``REST_FRAMEWORK``): tokens made on "My account"
(django-rest-knox), DRF's session and basic auth, each refusing a user who must first
replace the password an administrator set."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import BasicScheme, SessionScheme
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from knox.signals import token_expired
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from venousapp.accounts import services
from venousapp.accounts.models import ApiToken


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


class TokenAuthentication(knox_auth.TokenAuthentication):
    """``Authorization: Token <token>`` with a token of ``accounts.ApiToken``. Checking one
    is a SHA-512 digest and a lookup, where basic auth hashes the password anew (PBKDF2)
    on every request. A wrong, revoked or expired token answers 401."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = _own_password(super().authenticate(request))
        if result is not None:
            services.api_token_used(token=result[1])
        return result

    def _cleanup_token(self, auth_token: ApiToken) -> bool:
        """Whether the presented token has expired (it is then deleted, as knox does). knox's
        own also read all of the user's other tokens on every call to delete the expired
        ones; those stay listed as expired on "My account" until revoked or presented."""
        if not auth_token.is_expired():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=type(self), username=username, source="auth_token")
        return True


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        return _own_password(super().authenticate(request))


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        return _own_password(super().authenticate(request))


# The OpenAPI schema describes them as knox's and DRF's own (tokenAuth, cookieAuth,
# basicAuth).
class ApiTokenScheme(KnoxTokenScheme):
    target_class = "venousapp.accounts.authentication.TokenAuthentication"
    name = "tokenAuth"


class OwnPasswordSessionScheme(SessionScheme):
    target_class = "venousapp.accounts.authentication.SessionAuthentication"


class OwnPasswordBasicScheme(BasicScheme):
    target_class = "venousapp.accounts.authentication.BasicAuthentication"
