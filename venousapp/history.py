"""Saving an audited model (django-simple-history) with who did it and why, in one place:
every service writes through these, so each history row names its author and, where the
service gives one, the reason. The row is validated (``full_clean``) before it is written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from venousapp.accounts.models import User

REASON_MAX = 100  # simple-history's history_change_reason column


def _mark(obj: models.Model, user: User | None, reason: str) -> None:
    history: Any = obj  # simple-history reads these two attributes when it writes the row
    history._history_user = user
    if reason:
        history._change_reason = reason[:REASON_MAX]


def save_with_history(
    obj: models.Model,
    *,
    user: User | None,
    reason: str = "",
    update_fields: Sequence[str] | None = None,
    clean: bool = True,
) -> None:
    _mark(obj, user, reason)
    if clean:
        obj.full_clean()
    obj.save(update_fields=update_fields)


def delete_with_history(obj: models.Model, *, user: User | None, reason: str = "") -> None:
    _mark(obj, user, reason)
    obj.delete()
