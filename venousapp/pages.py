"""What the page views of every app share."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request, which gets the page's partial instead of the whole page."""
    return request.headers.get("HX-Request") == "true"


def form_errors_apply(exc: ValidationError, *forms: Any) -> None:
    """Show a service's ``ValidationError`` on the forms of the page: each field's errors on
    the form that has the field (the first form that has it), the rest as the first form's
    errors, so nothing the service said is lost and nothing typed is lost either."""
    first = forms[0]
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            first.add_error(None, message)
        return
    for field, errors in exc.message_dict.items():
        owner = next((form for form in forms if field in form.fields), first)
        for error in errors:
            owner.add_error(field if field in owner.fields else None, error)
