"""Every API route is closed until it says who may use it (venousapp.permissions.RequiredPerms, the
default permission class): a view that names no permission for a request refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from venousapp.permissions import RequiredPerms

SAFE = {"head", "options"}


def api_views(patterns: Any = None) -> Iterator[tuple[str, Any]]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from api_views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            cls = getattr(entry.callback, "cls", None)
            if (
                cls is not None
                and issubclass(cls, APIView)
                and RequiredPerms in [type(p) for p in cls().get_permissions()]
            ):
                yield str(entry.pattern), entry.callback


def requests_of(callback: Any) -> list[tuple[str, str | None]]:
    """(HTTP method, ViewSet action or None) of every request the route handles; HEAD and
    OPTIONS read as GET (DRF maps HEAD to a ViewSet's GET action once a request has come)."""
    cls = callback.cls
    actions = getattr(callback, "actions", None)
    if actions:
        return [
            (method.upper(), action)
            for method, action in actions.items()
            if method in cls.http_method_names and method not in SAFE
        ]
    return [
        (method.upper(), None)
        for method in cls.http_method_names
        if method not in SAFE and hasattr(cls, method)
    ]


def test_every_api_route_names_the_permissions_of_each_request():
    missing = []
    routes = list(api_views())
    assert len(routes) > 20  # the walk found the API
    for pattern, callback in routes:
        table = getattr(callback.cls, "required_perms", {})
        for method, action in requests_of(callback):
            if table.get(action) is None and table.get(method) is None:
                missing.append(f"{method} {pattern} ({callback.cls.__name__}, {action})")
    assert not missing, "\n".join(missing)


class Nameless(APIView):
    def get(self, request: Any) -> Response:
        return Response({"ok": True})

    def post(self, request: Any) -> Response:
        return Response({"ok": True})


class ReadOnly(Nameless):
    required_perms = {"GET": ("cases.view_case",)}


class Open(Nameless):
    required_perms = {"GET": ()}


@pytest.mark.parametrize("persona", ["clinician", "guideline_admin"])
def test_a_view_that_names_no_permission_is_refused(request, persona):
    user = request.getfixturevalue(persona)
    call = APIRequestFactory().get("/api/v1/x")
    force_authenticate(call, user=user)
    assert Nameless.as_view()(call).status_code == 403


def test_a_request_the_view_names_nothing_for_is_refused(clinician):
    factory = APIRequestFactory()
    get, post = factory.get("/api/v1/x"), factory.post("/api/v1/x", {}, format="json")
    for call in (get, post):
        force_authenticate(call, user=clinician)
    assert ReadOnly.as_view()(get).status_code == 200
    assert ReadOnly.as_view()(post).status_code == 403


def test_the_named_permissions_are_needed(nurse, clinician):
    for user, expected in ((clinician, 200), (nurse, 200)):
        call = APIRequestFactory().get("/api/v1/x")
        force_authenticate(call, user=user)
        assert ReadOnly.as_view()(call).status_code == expected
    nurse.groups.clear()
    call = APIRequestFactory().get("/api/v1/x")
    force_authenticate(call, user=type(nurse).objects.get(pk=nurse.pk))  # as the next request
    assert ReadOnly.as_view()(call).status_code == 403


def test_an_empty_list_opens_the_request_to_every_logged_in_user(nurse):
    nurse.groups.clear()
    call = APIRequestFactory().get("/api/v1/x")
    force_authenticate(call, user=nurse)
    assert Open.as_view()(call).status_code == 200
    anonymous = APIRequestFactory().get("/api/v1/x")
    assert Open.as_view()(anonymous).status_code in (401, 403)


def test_a_method_the_view_does_not_handle_is_405(clinician):
    call = APIRequestFactory().delete("/api/v1/x")
    force_authenticate(call, user=clinician)
    assert ReadOnly.as_view()(call).status_code == 405
