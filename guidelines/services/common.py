"""What the service modules of this package share: the acting time, the role-permission
check, the shape of a definition's schema problems and the check of a test case's data (typed
in the editor or read from an import file). Private to the package, hence the underscores:
callers outside ``guidelines.services`` have no use for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from guidelines.definitions import EXPECTED_VALUES
from venousapp.accounts.models import User


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _require_perm(user: User, *perms: str) -> None:
    missing = [perm for perm in perms if not user.has_perm(perm)]
    if missing:
        raise PermissionDenied(f"Your role lacks the permission {missing[0]}.")


def _definition_problems_error(problems: list[str], field: str = "definition") -> ValidationError:
    return ValidationError({field: problems})


def _checked_case_data(name: object, facts: object, expected: object) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "Give the test case a name."
    elif len(name.strip()) > 200:
        errors["name"] = "At most 200 characters."
    if not isinstance(facts, Mapping):
        errors["facts"] = 'The facts must be a JSON object, e.g. {"lesion_entity": "nivl"}.'
    if expected not in EXPECTED_VALUES:
        errors["expected"] = (
            f"{expected!r} is not a rule value (recommend, consider, against, not_applicable or "
            "insufficient_data:<case field>)."
        )
    if errors or not isinstance(name, str) or not isinstance(facts, Mapping):
        raise ValidationError(errors)
    return {"name": name.strip(), "facts": dict(facts), "expected": expected}
