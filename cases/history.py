"""The case's audit trail: who changed what and when, across the case, its segment findings
and its patient, newest first (django-simple-history records)."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import thrombolysis
from cases.models import Case, Patient, SegmentFinding

_ACTIONS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    action: str
    subject: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


# Labels of the coded items of list fields (a JSON list of codes has no model choices).
_ITEM_LABELS: dict[str, dict[str, str]] = {
    "thrombolysis_contraindications": thrombolysis.LABELS,
}


def _shown(model_field: Any, value: Any) -> Any:
    """Coded values as their labels ("Left", not "left"), as the form showed them; a list of
    codes (the thrombolysis checklist) as its items' labels."""
    if isinstance(value, list | tuple):
        labels = _ITEM_LABELS.get(model_field.name, {})
        return "; ".join(gettext(labels[v]) if v in labels else str(v) for v in value) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    choices = dict(model_field.flatchoices) if model_field.choices else {}
    return choices.get(value, value)


def _entries(records: list[Any], model: type[models.Model], subject: Any) -> list[HistoryEntry]:
    out = []
    previous: dict[int, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        changes = []
        before = previous.get(record.id)
        if before is not None:
            delta = record.diff_against(before)
            for change in delta.changes:
                model_field = cast(models.Field, model._meta.get_field(change.field))  # concrete
                changes.append(
                    (
                        str(model_field.verbose_name),
                        _shown(model_field, change.old),
                        _shown(model_field, change.new),
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


def case_history(case: Case) -> list[HistoryEntry]:
    entries = _entries(list(case.history.select_related("history_user")), Case, lambda r: _("Case"))
    entries += _entries(
        list(SegmentFinding.history.filter(case_id=case.pk).select_related("history_user")),
        SegmentFinding,
        lambda r: _("Finding %(segment)s %(side)s") % {"segment": r.segment, "side": r.side},
    )
    entries += _entries(
        list(case.patient.history.select_related("history_user")), Patient, lambda r: _("Patient")
    )
    return sorted(entries, key=lambda e: e.when, reverse=True)
