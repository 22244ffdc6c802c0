"""The data's generation: a number that moves at the commit of every transaction that changed
the data, so that what is derived from the data (a rendered page, ``venousapp.pagecache``) can
be kept until it moves.

PostgreSQL counts. Every table but those in ``UNCOUNTED`` carries two triggers:

- a deferred constraint trigger that, when a transaction that inserted, updated or deleted one
  of its rows commits, adds one to the single ``DataGeneration`` row (once per transaction,
  however many rows it wrote);
- a TRUNCATE trigger that does the same at once.

Being deferred, the count is written last, at commit, with the rest of the transaction: a
reader that sees the new number also sees the new data, and the row is locked only while a
transaction commits. A change counts however it is made (the ORM, ``update()``, bulk writes,
raw SQL, the admin, another process). ``generation_prepare`` runs after every ``migrate`` and
``flush``: it gives new tables their triggers and puts the row back if it was removed, at a
number above any it can have had (microseconds since the epoch), so a number never comes back.

Other databases (the SQLite of ``make run``) do not count: ``current()`` is ``None`` there, and
nothing derived is kept.

A request works from one number, :func:`of_request`: read with the user (``annotated``, in the
same statement, by ``UserBackend``), or by the first to ask. What a process keeps across
requests (a user's permissions, the published rule set, kept pages) is checked against it, so
checking costs the request no statement of its own. It is as if the request had been answered
at once when it came: a change committed meanwhile counts at the next request. A request that
sends anything but a SELECT (a write of its own) reads the number again at the next ask, so it
never trusts what was kept before its own change.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import RawSQL

from venousapp.models import DataGeneration

FUNCTION = "venousapp_generation_count"
TRIGGER = "venousapp_generation"
TRUNCATE_TRIGGER = "venousapp_generation_truncate"
# Tables no page shows and whose writes would only make kept pages useless: the sessions
# (a page's session contents are part of its key), log-in attempts, the beat scheduler's
# bookkeeping, and the count itself. Apps add theirs with ``uncounted``.
UNCOUNTED: set[str] = {
    DataGeneration._meta.db_table,
    "django_session",
    "axes_",
    "django_celery_beat_",
}


def uncounted(model: type[models.Model]) -> None:
    """Leave ``model``'s table out of the count (from an app's ``ready``): only for rows no
    page shows, written often."""
    UNCOUNTED.add(model._meta.db_table)


_TABLE = DataGeneration._meta.db_table
# A transaction counts once: the first of its triggers notes it in a setting that lasts until
# the transaction ends (and is undone with a savepoint rolled back, as the count is).
_COUNTED = "venousapp.generation_counted"
_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{_COUNTED}', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    UPDATE {_TABLE} SET number = number + 1 WHERE id = 1;
    PERFORM set_config('{_COUNTED}', 'yes', true);
    RETURN NULL;
END
$$
"""  # noqa: S608 - names from the model, no input
_ROW_SQL = f"""
INSERT INTO {_TABLE} (id, number)
VALUES (1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
ON CONFLICT (id) DO NOTHING
"""  # noqa: S608 - names from the model, no input
_TABLES_SQL = """
SELECT c.relname,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = %s)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname = current_schema()
"""
_READ_SQL = f"SELECT number FROM {_TABLE} WHERE id = 1"  # noqa: S608 - names from the model


def counted(table: str) -> bool:
    return not table.startswith(tuple(UNCOUNTED))


def generation_prepare(connection: BaseDatabaseWrapper) -> list[str]:
    """The counting function, the row, the triggers of every counted table that has none yet,
    and none on the others. Returns the tables whose triggers were added or removed."""
    if connection.vendor != "postgresql":
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        cursor.execute(_ROW_SQL)
        cursor.execute(_TABLES_SQL, [TRIGGER])
        tables = dict(cursor.fetchall())
        missing = sorted(name for name, has in tables.items() if not has and counted(name))
        extra = sorted(name for name, has in tables.items() if has and not counted(name))
        for table in extra:
            cursor.execute(f"DROP TRIGGER {TRIGGER} ON {quote(table)}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {quote(table)}")
        for table in missing:
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE"
                f" ON {quote(table)} DEFERRABLE INITIALLY DEFERRED"
                f" FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRUNCATE_TRIGGER} AFTER TRUNCATE ON {quote(table)}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
    return sorted(missing + extra)


def current(using: str = "default") -> int | None:
    """The committed generation, or ``None`` where it is not counted (not PostgreSQL, or the
    row is missing until the next ``migrate``)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_READ_SQL)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


# --- the number a request works from -----------------------------------------------------------

# .active: inside a request; .number: the generation it works from (None: read at the next ask)
_request = threading.local()
DEFAULT = "default"


def annotated(queryset: models.QuerySet[Any], name: str) -> models.QuerySet[Any]:
    """``queryset`` with the generation as ``name`` on each row, read in the same statement
    (unchanged where it is not counted)."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    return queryset.annotate(**{name: RawSQL(_READ_SQL, ())})  # noqa: S611 (no input)


def seen(number: int | None) -> None:
    """``number`` was read with the request's first data (``annotated``): the request works
    from it. Ignored outside a request and inside a transaction."""
    if (
        number is not None
        and getattr(_request, "active", False)
        and not connections[DEFAULT].in_atomic_block
    ):
        _request.number = number


def of_request() -> int | None:
    """The generation the current request works from, read once (see the module's text);
    outside a request, read at every call. ``None`` inside a transaction (its own changes are
    not counted until it commits) and where nothing is counted: nothing may be kept then."""
    if connections[DEFAULT].in_atomic_block:
        return None
    if not getattr(_request, "active", False):
        return current(DEFAULT)
    number = _request.number
    if number is None:
        number = _request.number = current(DEFAULT)
    return number


def _forget_at_write(execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
    """An execute wrapper: a statement other than a SELECT makes the request read the
    generation again at the next ask."""
    if getattr(_request, "number", None) is not None and not (
        isinstance(sql, str) and sql.lstrip()[:6].upper() == "SELECT"
    ):
        _request.number = None
    return execute(sql, params, many, context)


def _request_began(**kwargs: Any) -> None:
    _request.active = True
    _request.number = None
    wrappers = connections[DEFAULT].execute_wrappers
    if _forget_at_write not in wrappers:
        wrappers.append(_forget_at_write)


def _request_ended(**kwargs: Any) -> None:
    _request.active = False
    _request.number = None


request_started.connect(_request_began, dispatch_uid="venousapp.generation.request_started")
request_finished.connect(_request_ended, dispatch_uid="venousapp.generation.request_finished")
