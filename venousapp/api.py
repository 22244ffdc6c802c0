"""Shared API plumbing: every error answer under /api/ is JSON, and the schema says which.

- :func:`exception_handler` (DRF's): a model or service ``ValidationError`` is a 400 naming
  the field (``non_field_errors``: the whole), like a serializer error; a body over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, another request Django finds suspicious a 400.
- :func:`error_response` is what Django's error handlers (``venousapp.views``) answer under
  /api/: for a path no view serves, and for an exception DRF leaves to Django (a 500, or a
  503 while the database cannot be reached), so those are logged as usual.
- :class:`JSONTypesMixin`: a serializer that takes each value only in the JSON type the
  schema documents (DRF's fields also take form-style text), with a 400 naming the field.
- :func:`query_id`, :func:`query_flag`, :func:`query_choice` read query parameters as the
  schema documents them, with a 400 naming the parameter otherwise.
- :class:`JSONErrorsMixin`: a view answering in another format (the OpenAPI document, its
  page: ``venousapp.views``) refuses in JSON all the same.
- :class:`PageNumberPagination`: pages count from 1; a page that does not exist is a 404.
- :func:`complete_schema` (a drf-spectacular postprocessing hook) documents what the
  generated schema leaves out: the error answers of every operation with their JSON shape,
  query parameters given empty, decimals that must hold a digit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import pagination, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from venousapp import pagecache
from venousapp.params import MAX_ID, object_id

API_PREFIX = "/api/"

# Exceptions that mean the database cannot be used right now (down, restarting, a dropped
# connection); the request may succeed when sent again.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _too_large_detail() -> str:
    return _("The request body is larger than the %(limit)s bytes the server accepts.") % {
        "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the JSON answers DRF would leave to Django's HTML handlers."""
    if isinstance(exc, DjangoValidationError):
        # A model's own errors (its constraints) come under Django's "__all__": DRF's name.
        if hasattr(exc, "error_dict"):
            detail = dict(exc.message_dict)
            whole = detail.pop(NON_FIELD_ERRORS, [])
        else:
            detail, whole = {}, exc.messages
        if whole:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = whole
        exc = serializers.ValidationError(detail=detail)
    elif isinstance(exc, RequestDataTooBig):
        return Response({"detail": _too_large_detail()}, status=413)
    elif isinstance(exc, SuspiciousOperation):
        return Response({"detail": _("The request could not be read.")}, status=400)
    return drf_exception_handler(exc, context)


def error_response(status: int, exception: BaseException | None = None) -> JsonResponse:
    """The JSON answer of Django's error handler for ``status`` under /api/."""
    if status == 400 and isinstance(exception, RequestDataTooBig):
        status, detail = 413, _too_large_detail()
    elif status == 400:
        detail = _("The request could not be read.")
    elif status == 403:
        detail = _("You do not have permission to perform this action.")
    elif status == 404:
        detail = _("Not found.")
    elif isinstance(exception, DATABASE_UNAVAILABLE):
        status, detail = 503, _("The database cannot be reached; try again in a moment.")
    else:
        detail = _("The server failed to answer this request; the error has been logged.")
    return JsonResponse({"detail": detail}, status=status)


# --- request bodies ---------------------------------------------------------------------------

# The JSON type each DRF field takes, as the schema documents it (an EmailField is a
# CharField, a ChoiceField none). Fields not listed check for themselves.
_JSON_TYPES: tuple[tuple[type[serializers.Field], tuple[type, ...], str], ...] = (
    (serializers.BooleanField, (bool,), "boolean"),
    (serializers.IntegerField, (int,), "integer"),
    (serializers.FloatField, (int, float), "number"),
    (serializers.DecimalField, (str,), "string"),
    (serializers.CharField, (str,), "string"),
    (serializers.DateField, (str,), "string"),
    (serializers.DateTimeField, (str,), "string"),
    (serializers.PrimaryKeyRelatedField, (int,), "integer"),
    (serializers.ListField, (list,), "array"),
    (serializers.ManyRelatedField, (list,), "array"),
)
_JSON_NAMES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}


def _documented_type(field: serializers.Field) -> tuple[tuple[type, ...], str] | None:
    if isinstance(field, serializers.ChoiceField):
        # Codes are strings; coded numbers (a score 0–3) integers.
        for kind, name in ((str, "string"), (int, "integer")):
            if all(isinstance(choice, kind) for choice in field.choices):
                return (kind,), name
        return None
    for field_class, types, name in _JSON_TYPES:
        if isinstance(field, field_class):
            return types, name
    return None


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """Why ``value`` is not of the JSON type ``field`` documents (None when it is, or when the
    field checks for itself, null included)."""
    documented = _documented_type(field)
    if value is None or documented is None:
        return None
    if isinstance(field, serializers.DecimalField) and isinstance(value, str) and not value.strip():
        # DRF reads a blank as null (a form's empty input); in JSON, null says that.
        return _("Enter a number as a string, or null for none.")
    types, expected = documented
    if isinstance(value, types) and (bool in types or not isinstance(value, bool)):
        return None
    given = _JSON_NAMES.get(type(value), "object")
    return _("Expected a JSON %(expected)s, not a %(given)s.") % {
        "expected": expected,
        "given": given,
    }


class JSONTypesMixin:
    """A serializer that takes each value in the JSON type the schema documents for it.

    DRF's fields also take what a form would send: the text of a number for a number, a
    number for a text, 0, 1 or "yes" for a boolean. The API reads JSON only, where such a
    value is a client's mistake: it is a 400 naming the field, as any invalid value.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {}
            for field in self._writable_fields:  # type: ignore[attr-defined]
                if field.field_name in data:
                    error = json_type_error(field, data[field.field_name])
                    if error:
                        errors[field.field_name] = [error]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


# --- query parameters -------------------------------------------------------------------------

# The schema of an id in a query string, as :func:`query_id` reads it.
ID_PARAMETER = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _refuse(name: str, message: str) -> NoReturn:
    raise serializers.ValidationError({name: [message]})


# As for DRF's page and django-filter's filters, a parameter given empty (``?case=``) is one
# left out; the schema says so (``allowEmptyValue``, :func:`complete_schema`).


def query_id(request: Request, name: str) -> int | None:
    """The id in query parameter ``name`` (None without one); a 400 naming the parameter
    when it holds something else."""
    text = request.query_params.get(name)
    if not text:
        return None
    value = object_id(text)
    if value is None:
        _refuse(name, _("Enter an id: a whole number from 1."))
    return value


def query_flag(request: Request, name: str) -> bool:
    """Query parameter ``name`` as a boolean: "true" or "false" (false without it)."""
    text = request.query_params.get(name)
    if text not in (None, "", "true", "false"):
        _refuse(name, _('Enter "true" or "false".'))
    return text == "true"


def query_choice(request: Request, name: str, choices: Collection[str]) -> str | None:
    """Query parameter ``name``, one of ``choices`` (None without one)."""
    text = request.query_params.get(name)
    if not text:
        return None
    if text not in choices:
        _refuse(name, _("Enter one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return text


class JSONErrorsMixin:
    """A view whose answers are not JSON (the schema's YAML, the docs' HTML page) still
    refuses in JSON, as the rest of the API."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = JSONRenderer.media_type  # type: ignore[attr-defined]
        return response


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, documented as they are checked: from 1; a page past the last one
    (or not a number) is a 404."""

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


# --- the schema -----------------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong."}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Each key names a field in error with its messages (nested as the field "
    "is: a list of rows, an object); `non_field_errors` concerns the request as a whole, "
    "`detail` a body that could not be read at all.",
    "additionalProperties": {},
}

_ANSWERS = {
    400: "Invalid input: the body names each field in error.",
    401: "Not logged in: no credentials, or wrong ones.",
    403: "Refused: your role may not do this (or you are not logged in).",
    404: "Not found (objects of other centres are not found either).",
    406: "The Accept header asks for something other than JSON.",
    413: "The request body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
    415: "The body is not JSON (Content-Type: application/json).",
    500: "The server failed to answer; the error has been logged.",
    503: "The database cannot be reached; send the request again in a moment.",
}
# Every request can meet these, whatever the operation.
_ALWAYS = (401, 403, 406, 500, 503)


def api_errors(*codes: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """The error answers an operation documents (``responses=`` of ``extend_schema``), with
    the project's wording unless the view says better (``not_found="No such rule."``:
    ``bad_request``, ``forbidden`` and ``not_found`` name 400, 403 and 404).
    :func:`complete_schema` adds their JSON shape."""
    names = {400: "bad_request", 403: "forbidden", 404: "not_found"}
    return {
        code: OpenApiResponse(description=descriptions.get(names.get(code, ""), _ANSWERS[code]))
        for code in codes
    }


def _codes(operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    query = {p["name"] for p in parameters if p["in"] == "query"}
    body = "requestBody" in operation
    codes = set(_ALWAYS)
    if body or query - {"page"}:
        codes.add(400)
    if "page" in query or any(p["in"] == "path" for p in parameters):
        codes.add(404)
    if body:
        codes |= {413, 415}
    return codes


# drf-spectacular's pattern of a decimal string (``^-?\d{0,3}(?:\.\d{0,1})?$``) also matches "",
# "-" and ".", which are no numbers.
_DECIMAL = re.compile(
    re.escape(r"^-?\d{0,") + r"(\d+)" + re.escape(r"}(?:\.\d{0,") + r"(\d+)" + re.escape("})?$")
)


def _decimal_pattern(pattern: str) -> str:
    match = _DECIMAL.fullmatch(pattern)
    if match is None or "0" in match.groups():
        return pattern
    whole, fraction = match.groups()
    return rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{fraction}}})?|\.\d{{1,{fraction}}})$"


def complete_schema(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the errors it can
    answer (each a JSON body: ``Error``, or ``ValidationError`` for a 400), so a client and
    a contract test know every status the API can give; optional query parameters may be
    given empty; a decimal's pattern needs a digit."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("ValidationError", VALIDATION_ERROR_SCHEMA)
    for component in schemas.values():
        for field in component.get("properties", {}).values():
            if field.get("format") == "decimal" and "pattern" in field:
                field["pattern"] = _decimal_pattern(field["pattern"])
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            responses = operation.setdefault("responses", {})
            for code in sorted(_codes(operation)):
                responses.setdefault(str(code), {"description": _ANSWERS[code]})
            for code, response in responses.items():
                if int(code) >= 400 and not response.get("content"):
                    name = "ValidationError" if code == "400" else "Error"
                    ref = {"$ref": f"#/components/schemas/{name}"}
                    response["content"] = {"application/json": {"schema": ref}}
    return result


class KeptListMixin:
    """A list's answers kept like pages (``venousapp.pagecache``): once the request has been
    authenticated and its permissions checked, an unchanged list is answered with what was
    rendered for the same user, address and media type, without its queries."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        kept, key = pagecache.lookup(request._request, request.user, request.accepted_media_type)
        if kept is not None:
            return kept
        self._kept_key = key
        return super().list(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        key = getattr(self, "_kept_key", None)
        if key is not None and isinstance(response, Response):
            response.render()
            pagecache.store(request._request, key, response)
        return response
