"""The rule set the application evaluates cases with: the *published* one in the database.

One function so every caller (views, services, the ``evaluate`` command, Celery tasks) uses
the same rules. The active rule versions are compiled once per process and cached under the
key of the :class:`~guidelines.models.RuleSetState` singleton (its number and change time).
Every publish, retire or restore moves that key, so each call costs one indexed one-row
query, and a process notices a publish made by another process without a restart. Inside a
web request the key is read at most once (a page that evaluates 25 cases asks once), and not
at all while the data's generation the request works from is the one at which the process
last read it (``venousapp.generation.of_request``): a publish is a committed change, which
moves the generation.

Before ``migrate`` (no tables) or in an empty database (e.g. after a test flush) the shipped
rule files are used: ``engine.default_ruleset()``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connection

from guidelines.engine import RuleSet, compile_ruleset, default_ruleset
from venousapp import generation
from venousapp.sql import quoted

__all__ = [
    "compile_published",
    "current_rule_versions",
    "current_ruleset",
    "current_ruleset_numbered",
    "ruleset_with",
]

Key = tuple[int, datetime]


@dataclass(frozen=True)
class _Published:
    key: Key
    ruleset: RuleSet
    rule_versions: Mapping[str, int]  # rule id -> active version number


_cache: _Published | None = None
# (generation, the published rule set found current when the state was read after it)
_confirmed: tuple[int, _Published] | None = None
_cache_lock = threading.Lock()
# .active: inside a request; .checked: the state was read; .published: what was found
_request = threading.local()


def _request_began(**kwargs: Any) -> None:
    _request.active = True
    _request.checked = False
    _request.published = None


def _request_ended(**kwargs: Any) -> None:
    _request.active = False
    _request.checked = False
    _request.published = None


request_started.connect(_request_began, dispatch_uid="guidelines.ruleset.request_started")
request_finished.connect(_request_ended, dispatch_uid="guidelines.ruleset.request_finished")


@cache
def _state_sql() -> str:
    """The published number, read on every evaluation and CDS Hooks call: written out in
    SQL, since building it with the ORM cost four times what the database takes to answer."""
    from guidelines.models import RuleSetState

    return (
        f"SELECT {quoted(RuleSetState, 'version')}, {quoted(RuleSetState, 'changed_at')}"  # noqa: S608 (names from the model)
        f" FROM {quoted(RuleSetState)} ORDER BY {quoted(RuleSetState, 'id')} LIMIT 1"
    )


def _state_key() -> Key | None:
    with connection.cursor() as cursor:
        cursor.execute(_state_sql())
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def _tables_exist() -> bool:
    from guidelines.models import RuleSetState

    return RuleSetState._meta.db_table in connection.introspection.table_names()


def compile_published(
    *, version: str, replace: Mapping[str, Any] | None = None, without: str | None = None
) -> tuple[RuleSet, dict[str, int]]:
    """Compile the active versions (in rule creation order, i.e. rule-file order) with the
    sources of the database. ``replace`` puts a definition in its rule's place (or adds it);
    ``without`` leaves a rule out. Returns the rule set and {rule id: version number}."""
    from guidelines.models import GuidelineSource, RuleVersion, VersionStatus

    rows = (
        RuleVersion.objects.filter(status=VersionStatus.ACTIVE)
        .order_by("rule_id")
        .values_list("rule__rule_id", "number", "definition")
    )
    definitions: list[dict[str, Any]] = []
    numbers: dict[str, int] = {}
    replaced = False
    for rule_id, number, definition in rows:
        if rule_id == without:
            continue
        if replace is not None and rule_id == replace["id"]:
            definitions.append(dict(replace))
            replaced = True
        else:
            definitions.append(definition)
            numbers[rule_id] = number
    if replace is not None and not replaced:
        definitions.append(dict(replace))
    sources = {source.key: source.as_dict() for source in GuidelineSource.objects.all()}
    return compile_ruleset(definitions, version=version, sources=sources), numbers


def _published() -> _Published | None:
    """The published rule set (cached per process), or None when the database has none.

    Inside a web request the answer is remembered until the request ends."""
    in_request = getattr(_request, "active", False)
    if in_request and getattr(_request, "checked", False):
        return _request.published
    published = _confirmed_published() if in_request else _read_published()
    if in_request:
        _request.published = published
        _request.checked = True
    return published


def _confirmed_published() -> _Published | None:
    """The published rule set for a request: the one this process found current at the
    generation the request works from, else read (and noted at that generation)."""
    global _confirmed
    number = generation.of_request()
    confirmed = _confirmed
    if number is not None and confirmed is not None and confirmed[0] == number:
        return confirmed[1]
    published = _read_published()
    if number is not None and published is not None and published is _cache:
        _confirmed = (number, published)
    return published


def _read_published() -> _Published | None:
    global _cache
    try:
        key = _state_key()
    except DatabaseError:
        if _tables_exist():
            raise
        return None  # before migrate
    if key is None:  # no state row: an empty (e.g. flushed) database, or rows without state
        from guidelines.models import RuleVersion, VersionStatus

        if not RuleVersion.objects.filter(status=VersionStatus.ACTIVE).exists():
            return None
        ruleset, numbers = compile_published(version="db:0")
        # not cached across calls: without a state row there is no key to check
        return _Published((0, datetime.min.replace(tzinfo=UTC)), ruleset, numbers)
    cached = _cache
    if cached is None or cached.key != key:
        with _cache_lock:
            cached = _cache
            if cached is None or cached.key != key:
                ruleset, numbers = compile_published(version=f"db:{key[0]}")
                cached = _cache = _Published(key, ruleset, numbers)
    return cached


def current_ruleset() -> RuleSet:
    """The rule set in force: the published active rule versions, compiled once per
    process and recompiled when another process published a change."""
    published = _published()
    return default_ruleset() if published is None else published.ruleset


def current_ruleset_numbered(*, fresh: bool = False) -> tuple[RuleSet, int]:
    """:func:`current_ruleset` and its number (``RuleSetState.version``; 0 for the files),
    read together so a stored evaluation never names a rule set it was not made with.

    ``fresh`` reads the state again even inside a request that already read it: a write
    that stores the number, or a re-evaluation started by a publish in this very request,
    must not use a number read before the publish."""
    published = _read_published() if fresh else _published()
    if published is None:
        return default_ruleset(), 0
    return published.ruleset, published.key[0]


def current_rule_versions() -> dict[str, int]:
    """{rule id: active version number} of :func:`current_ruleset` (empty for the files)."""
    published = _published()
    return {} if published is None else dict(published.rule_versions)


def ruleset_with(definition: Mapping[str, Any]) -> RuleSet:
    """The published rule set with ``definition`` in its rule's place (impact preview, test
    runs of a draft). Raises RuleSetError when the combination does not validate."""
    key = _state_key()
    label = f"db:{key[0] if key else 0}+{definition['id']}"
    return compile_published(version=label, replace=definition)[0]
