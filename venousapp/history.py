"""Saving an audited model (django-simple-history) with who did it and why, in one place:
every service writes through these, so each history row names its author and, where the
service gives one, the reason. The row is validated (``full_clean``) before it is written.
Reading it back for an audit page is here too (:func:`history_entries`).

Every audited model declares its history with :class:`HistoricalRecords` below: a change no
person made (a Celery task, a management command, a post_migrate handler) is recorded under
the named system account (``User.system()``), so no history row is anonymous."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
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


# --- reading the history back ----------------------------------------------------------------

_ACTIONS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


@dataclass
class HistoryEntry:
    """One line of an audit page: who did what to which part, with the fields changed
    (label, before, after) as the forms showed them."""

    when: datetime
    who: str
    action: str
    subject: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def _shown(model_field: Any, value: Any, item_labels: Mapping[str, Mapping[str, str]]) -> Any:
    """Coded values as their labels ("Left", not "left"); a list of codes as its items'
    labels (``item_labels`` by field name); a JSON object as JSON."""
    if isinstance(value, list | tuple):
        labels = item_labels.get(model_field.name, {})
        return "; ".join(gettext(labels[v]) if v in labels else str(v) for v in value) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value


def history_entries(
    records: Iterable[Any],
    model: type[models.Model],
    subject: Callable[[Any], Any],
    *,
    hidden: frozenset[str] = frozenset(),
    item_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[HistoryEntry]:
    """The entries of one model's history ``records`` (select the ``history_user`` with
    them), oldest first: creations, deletions and each change against the row's previous
    record; a change of only ``hidden`` fields (timestamps) is left out."""
    out = []
    previous: dict[int, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        changes = []
        before = previous.get(record.id)
        if before is not None:
            for change in record.diff_against(before).changes:
                if change.field in hidden:
                    continue
                model_field = model._meta.get_field(change.field)
                changes.append(
                    (
                        str(getattr(model_field, "verbose_name", change.field)),
                        _shown(model_field, change.old, item_labels or {}),
                        _shown(model_field, change.new, item_labels or {}),
                    )
                )
        previous[record.id] = record
        if record.history_type == "~" and not changes:
            continue
        out.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user.get_username() if record.history_user else str(_("system")),
                action=str(_ACTIONS[record.history_type]),
                subject=str(subject(record)),
                changes=changes,
            )
        )
    return out


def newest_first(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    return sorted(entries, key=lambda e: e.when, reverse=True)
