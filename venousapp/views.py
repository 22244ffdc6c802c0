import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from venousapp import api
from venousapp.accounts.models import Role
from venousapp.accounts.requests import AuthenticatedHttpRequest


class SchemaView(api.JSONErrorsMixin, SpectacularAPIView):
    """The OpenAPI document (YAML, or JSON with ``?format=json``)."""


class DocsView(api.JSONErrorsMixin, SpectacularSwaggerView):
    """The API's documentation page."""


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Nurses land on their follow-up worklist, guideline admins on the rules (with what
    awaits their approval), everyone else on the case list."""
    user = request.user
    if user.has_role(Role.NURSE):
        return redirect("followup:worklist")
    if user.has_role(Role.GUIDELINE_ADMIN) and not user.has_role(Role.CLINICIAN):
        return redirect("guidelines:rule-list")
    return redirect("cases:list")


# Django's error handlers (venousapp/urls.py): the styled pages, JSON under /api/.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if api.is_api_request(request):
        return api.error_response(400, exception)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if api.is_api_request(request):
        return api.error_response(403, exception)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if api.is_api_request(request):
        return api.error_response(404, exception)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django calls this while handling the exception, so ``sys.exception()`` is it: a
    database that cannot be reached is a 503 under /api/."""
    if api.is_api_request(request):
        return api.error_response(500, sys.exception())
    return defaults.server_error(request)
