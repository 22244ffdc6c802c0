"""Helpers of list pages.

``{% sort_header key label sort %}``: a column header that sorts the list by ``key``
(ascending first, descending on the second click), keeping the other query parameters and
going back to the first page; ``aria-sort`` tells screen readers the current order.

``{{ row|display:"field" }}``: what ``row.get_field_display`` shows, for the rows of a list:
Django's method hashes every choice of the field (translating each) on each call.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Model
from django.utils.encoding import force_str

from venousapp.listing import AFTER, BEFORE, PAGE

register = template.Library()


@register.inclusion_tag("_sort_header.html", takes_context=True)
def sort_header(context: template.Context, key: str, label: str, sort: str) -> dict[str, Any]:
    request = context["request"]
    query = request.GET.copy()
    for name in (PAGE, AFTER, BEFORE):
        query.pop(name, None)
    active = sort.lstrip("-") == key
    descending = active and sort.startswith("-")
    query["sort"] = key if (not active or descending) else f"-{key}"
    return {
        "label": label,
        "url": f"?{query.urlencode()}",
        "aria_sort": ("descending" if descending else "ascending") if active else "none",
        "active": active,
        "descending": descending,
    }


_CHOICES: dict[Any, dict[Any, Any]] = {}


@register.filter
def display(row: Model, name: str) -> Any:
    field: Any = row._meta.get_field(name)
    labels = _CHOICES.get(field)
    if labels is None:
        # The labels stay lazy: each is translated when shown, in the request's language.
        labels = _CHOICES[field] = dict(field.flatchoices)
    value = getattr(row, field.attname)
    return force_str(labels.get(value, value), strings_only=True)
