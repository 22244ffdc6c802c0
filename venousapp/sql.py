"""Names for the few queries written out in SQL instead of built by the ORM: those on every
page's frame and on every CDS Hooks call, where building the query cost many times what the
database takes to answer it. Table and column names come from the models, so a renamed field
cannot go unnoticed."""

from __future__ import annotations

from typing import Any

from django.db import connection


def quoted(model: Any, field: str | None = None) -> str:
    """The quoted name of ``model``'s table, or of the column of its ``field``."""
    name = model._meta.db_table if field is None else model._meta.get_field(field).column
    return connection.ops.quote_name(name)
