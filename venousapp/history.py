"""Saving an audited model (django-simple-history) with who did it and why, in one place:
every service writes through these, so each history row names its author and, where the
service gives one, the reason. The row is validated (``full_clean``) before it is written.

Every audited model declares its history with :class:`HistoricalRecords` below: a change no
person made (a Celery task, a management command, a post_migrate handler) is recorded under
the named system account (``User.system()``), so no history row is anonymous."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from simple_history import models as simple_history

REASON_MAX = 100  # simple-history's history_change_reason column


class HistoricalRecords(simple_history.HistoricalRecords):
    """simple-history's audit trail, naming the system account when no person is known (no
    user given to the service, no logged-in user in the request), for single saves and for
    ``bulk_create_with_history`` alike."""

    def get_history_user(self, instance: Any) -> Any:
        user = super().get_history_user(instance)
        if user is None:
            return get_user_model().system()
        return user


def _mark(obj: models.Model, user: AbstractBaseUser | None, reason: str) -> None:
    history: Any = obj  # simple-history reads these two attributes when it writes the row
    history._history_user = user
    if reason:
        history._change_reason = reason[:REASON_MAX]


def save_with_history(
    obj: models.Model,
    *,
    user: AbstractBaseUser | None,
    reason: str = "",
    update_fields: Sequence[str] | None = None,
    clean: bool = True,
) -> None:
    _mark(obj, user, reason)
    if clean:
        obj.full_clean()
    obj.save(update_fields=update_fields)


def delete_with_history(
    obj: models.Model, *, user: AbstractBaseUser | None, reason: str = ""
) -> None:
    _mark(obj, user, reason)
    obj.delete()
