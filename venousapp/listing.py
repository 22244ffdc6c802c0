"""Sortable lists: the sort key of a query string, checked against the columns a page offers.

A page declares its columns as ``{key: order_by fields}``; ``?sort=key`` sorts ascending,
``?sort=-key`` descending (every field flipped). An unknown key falls back to the page's
default, never an error. The column headers come from ``{% sort_header %}`` (templatetags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["ordering"]


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def ordering(
    value: str | None, columns: Mapping[str, Sequence[str]], default: str
) -> tuple[str, list[str]]:
    """(the sort key in force, the ``order_by`` fields for it)."""
    key = (value or "").strip()
    if key.lstrip("-") not in columns:
        key = default
    fields = list(columns[key.lstrip("-")])
    return key, [_flip(f) for f in fields] if key.startswith("-") else fields
