"""Who may use each API route: :class:`RequiredPerms` is the default permission class of
every API view (settings ``REST_FRAMEWORK``), :func:`model_perms` the usual table of a view
over one model. Kept apart from ``venousapp.api`` because DRF imports this module while it
loads its own views."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:
    from rest_framework.views import APIView

Perms = tuple[str, ...]


def model_perms(model: type[Any]) -> dict[str, Perms]:
    """Django's model permissions by HTTP method, reads included: a role without ``view_``
    of the model gets 403 for a GET."""
    label = f"{model._meta.app_label}.{{}}_{model._meta.model_name}"
    return {
        "GET": (label.format("view"),),
        "POST": (label.format("add"),),
        "PUT": (label.format("change"),),
        "PATCH": (label.format("change"),),
        "DELETE": (label.format("delete"),),
    }


class RequiredPerms(permissions.BasePermission):
    """Deny by default. A view names the permissions each request needs in
    ``required_perms``, keyed by its action (a ViewSet's ``list``, ``create``, ``sign``...)
    or by HTTP method (HEAD and OPTIONS read as GET). The user must be logged in and hold
    all of them; a request the view names nothing for is refused (403), so a new route is
    closed until someone decides who may use it. An empty tuple is that decision for "every
    logged-in user". A method the view does not implement passes on to its 405."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        method = (request.method or "").lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True  # no handler: the view answers 405
        table: Mapping[str, Collection[str]] = getattr(view, "required_perms", {})
        action = getattr(view, "action", None)
        needed = table.get(action) if action else None
        if needed is None:
            key = "GET" if request.method in ("HEAD", "OPTIONS") else request.method or ""
            needed = table.get(key)
        return needed is not None and user.has_perms(needed)
