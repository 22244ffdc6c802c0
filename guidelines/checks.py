"""System checks of the rule set in the database (``manage.py check --database default``).

Registered with the ``database`` tag, so Django runs them when databases are named: in
``check --database ...`` and before ``migrate`` applies anything. They skip quietly before the
guideline tables exist.

* ``guidelines.E001``: an active rule version whose definition does not validate (the rule id
  and every problem are named). Such a version cannot be compiled, so no case could be
  evaluated.
* ``guidelines.E002``: a scored rule the engine requires (a scored rule of the shipped rule
  files) has no active version and was not retired on purpose. Not reported while migrations
  of this app are pending: a data migration may be what loads the rule (``migrate`` runs these
  checks first, and must not be blocked by what it is about to fix).
* ``guidelines.E003``: the active versions do not form a valid rule set together (e.g. a
  dependency cycle between rule outcomes).
* ``guidelines.W001``: a required scored rule was retired by a guideline admin: allowed, but
  the evaluation no longer contains it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader

from guidelines.engine import load_rule_files
from guidelines.schema import RuleSetError, validate_definition, validate_ruleset


def required_scored_ids() -> list[str]:
    """The scored rule ids of the shipped rule files (the engine's required set)."""
    return [d["id"] for d in load_rule_files() if d.get("engine") == "scored"]


def _tables_exist(alias: str) -> bool:
    from guidelines.models import Rule, RuleVersion

    tables = set(connections[alias].introspection.table_names())
    return {Rule._meta.db_table, RuleVersion._meta.db_table} <= tables


def _migrations_pending(alias: str) -> bool:
    """Whether a migration of the guidelines app is not applied to this database yet."""
    loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    return any(
        key[0] == "guidelines" and key not in loader.applied_migrations
        for key in loader.graph.nodes
    )


def check_alias(alias: str) -> list[CheckMessage]:
    from guidelines.models import Rule, RuleVersion, VersionStatus

    messages: list[CheckMessage] = []
    active = list(
        RuleVersion.objects.using(alias)
        .filter(status=VersionStatus.ACTIVE)
        .values_list("rule__rule_id", "number", "definition")
    )
    valid = []
    for rule_id, number, definition in active:
        try:
            validate_definition(definition)
        except RuleSetError as error:
            messages.append(
                Error(
                    f"Active version v{number} of rule {rule_id} does not validate: "
                    + "; ".join(error.problems),
                    hint="Publish a corrected version (or retire the rule) in the guideline admin.",
                    obj=rule_id,
                    id="guidelines.E001",
                )
            )
        else:
            valid.append(definition)
    if valid and len(valid) == len(active):
        try:
            validate_ruleset(valid)
        except RuleSetError as error:
            messages.append(
                Error(
                    "The active rule versions do not form a valid rule set: "
                    + "; ".join(error.problems),
                    id="guidelines.E003",
                )
            )
    with_active = {rule_id for rule_id, _number, _definition in active}
    missing = [rule_id for rule_id in required_scored_ids() if rule_id not in with_active]
    if missing and _migrations_pending(alias):
        return messages
    rules = dict(Rule.objects.using(alias).values_list("rule_id", "retired_at"))
    for rule_id in missing:
        if rules.get(rule_id) is not None:
            messages.append(
                Warning(
                    f"Required scored rule {rule_id} is retired; cases are evaluated without it.",
                    obj=rule_id,
                    id="guidelines.W001",
                )
            )
            continue
        messages.append(
            Error(
                f"Required scored rule {rule_id} has no active version.",
                hint="Run `manage.py load_guidelines` or publish a version in the guideline admin.",
                obj=rule_id,
                id="guidelines.E002",
            )
        )
    return messages


@register(Tags.database)
def check_active_rules(
    app_configs: Iterable[Any] | None = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias in databases or ():
        try:
            if not _tables_exist(alias):
                continue  # before migrate
            messages += check_alias(alias)
        except DatabaseError:
            continue  # unreachable or half-migrated database: migrate/connect reports it
    return messages
