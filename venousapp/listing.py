"""Sortable lists: the sort key of a query string, checked against the columns a page offers,
and pages read through the index of their order.

A page declares its columns as ``{key: order_by fields}``; ``?sort=key`` sorts ascending,
``?sort=-key`` descending (every field flipped). An unknown key falls back to the page's
default, never an error. The column headers come from ``{% sort_header %}`` (templatetags).

:func:`keyset_page` reads one page of such a list after (or before) the sort values of a row
of the page next to it, so a page deep in a long list costs what the first one costs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import BooleanField, Expression, F, Model, QuerySet, Value
from django.http import QueryDict

from venousapp.params import object_id

__all__ = ["AFTER", "BEFORE", "PAGE", "KeysetPage", "RowComparison", "keyset_page", "ordering"]


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


# --- keyset pagination ----------------------------------------------------------------------

# Query parameters of a keyset page: the sort values of the row a page continues after (or
# ends before), and the page's number, which is only shown.
AFTER, BEFORE, PAGE = "after", "before", "page"
# Beyond any real list, and small enough that the rows to skip stay a number the database
# takes (an old link with a page number and no sort values).
MAX_PAGE = 10**6


class RowComparison(Expression):
    """``(a, b, c) > (x, y, z)``, SQL's row comparison: an index on ``(a, b, c)`` answers it
    by seeking straight to the first row after ``(x, y, z)``, however many rows lie before."""

    output_field = BooleanField()

    def __init__(self, columns: Sequence[str], operator: str, values: Sequence[Any]) -> None:
        if operator not in (">", "<") or len(columns) != len(values):
            raise ValueError("A row comparison takes > or < and one value per column.")
        super().__init__(output_field=BooleanField())
        self.columns: list[Any] = [F(column) for column in columns]
        self.operator = operator
        self.values: list[Any] = [Value(value) for value in values]

    def get_source_expressions(self) -> list[Any]:
        return [*self.columns, *self.values]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns, self.values = (
            list(exprs[: len(self.columns)]),
            list(exprs[len(self.columns) :]),
        )

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        params: list[Any] = []
        sides = []
        for exprs in (self.columns, self.values):
            parts = []
            for expr in exprs:
                sql, expr_params = compiler.compile(expr)
                parts.append(sql)
                params.extend(expr_params)
            sides.append(f"({', '.join(parts)})")
        return f"{sides[0]} {self.operator} {sides[1]}", tuple(params)


@dataclass
class KeysetPage:
    """One page of a list read through its sort index (see :func:`keyset_page`): iterable
    like a Django page. The links to the pages around it carry the sort values of its first
    and last rows, so no page is found by counting the rows before it, and no total is
    counted."""

    rows: list[Any]
    number: int
    has_previous: bool
    has_next: bool
    previous_cursor: str | None
    next_cursor: str | None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _sort_field(model: type[Model], path: str, annotations: Mapping[str, Any]) -> Any:
    if path in annotations:
        return annotations[path].output_field
    field: Any = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model
    return field


def _row_values(row: Any, paths: Sequence[str]) -> list[Any]:
    values = []
    for path in paths:
        value = row
        for part in path.split("__"):
            value = getattr(value, part)
        values.append(value)
    return values


def _encode(values: Sequence[Any]) -> str:
    text = json.dumps(list(values), cls=DjangoJSONEncoder, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, fields: Sequence[Any]) -> list[Any] | None:
    """The sort values written in ``cursor`` (None when it is not one of this list's)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(fields):
            return None
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in raw):
            return None
        return [field.to_python(value) for field, value in zip(fields, raw, strict=True)]
    except (ValueError, TypeError, ValidationError, RecursionError):  # binascii.Error: ValueError
        return None


def _beyond(
    queryset: QuerySet[Any], paths: Sequence[str], operator: str, values: Sequence[Any]
) -> QuerySet[Any]:
    """The rows beyond ``values`` in the direction of ``operator``. The first column is also
    bounded on its own: when it belongs to a joined table (the patient's identifier), the
    row comparison spans two tables and only that bound reaches the joined table's index."""
    lookup = "gte" if operator == ">" else "lte"
    return queryset.filter(
        RowComparison(paths, operator, values), **{f"{paths[0]}__{lookup}": values[0]}
    )


def keyset_page(
    queryset: QuerySet[Any], order_by: Sequence[str], query: QueryDict, *, per_page: int
) -> KeysetPage:
    """The page of ``queryset`` (sorted by ``order_by``, all ascending or all descending,
    ending with a unique field) that the ``after``/``before`` parameters of ``query`` ask
    for: the rows after (before) the given sort values, found through the index of that
    order at the same cost on any page. Without them, ``page`` counts pages from the start
    (an old link to a page number); an unreadable value means the first page."""
    descending = {field.startswith("-") for field in order_by}
    if len(descending) != 1:
        raise ValueError("A keyset page is sorted in one direction on every field.")
    backwards = descending.pop()
    paths = [field.lstrip("-") for field in order_by]
    fields = [_sort_field(queryset.model, p, queryset.query.annotations) for p in paths]
    number = min(object_id(query.get(PAGE, "")) or 1, MAX_PAGE)
    after = _decode(query.get(AFTER, ""), fields) if query.get(AFTER) else None
    before = _decode(query.get(BEFORE, ""), fields) if query.get(BEFORE) else None
    if before is not None:
        # The rows just before, read in the opposite order, then turned round.
        operator = ">" if backwards else "<"
        flipped = [p if backwards else f"-{p}" for p in paths]
        rows = list(_beyond(queryset, paths, operator, before).order_by(*flipped)[: per_page + 1])
        has_previous = len(rows) > per_page
        rows = rows[:per_page][::-1]
        has_next = True
        number = max(number, 2) if has_previous else 1
    else:
        if after is not None:
            operator = "<" if backwards else ">"
            page = _beyond(queryset, paths, operator, after).order_by(*order_by)
            start = 0
            number = max(number, 2)
        else:
            page = queryset.order_by(*order_by)
            start = (number - 1) * per_page
        rows = list(page[start : start + per_page + 1])
        has_next = len(rows) > per_page
        rows = rows[:per_page]
        has_previous = number > 1
    return KeysetPage(
        rows=rows,
        number=number,
        has_previous=has_previous,
        has_next=has_next,
        previous_cursor=_encode(_row_values(rows[0], paths)) if rows and has_previous else None,
        next_cursor=_encode(_row_values(rows[-1], paths)) if rows and has_next else None,
    )
