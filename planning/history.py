"""Audit trails of plans, catalogue devices and checklist templates: who changed what and
when, newest first (django-simple-history records)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from planning.models import (
    AccessSite,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Device,
    DeviceSize,
    PlannedStent,
    ProcedurePlan,
    ProcedureRecord,
)

_ACTIONS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
_HIDDEN = {"updated_at", "created_at"}


@dataclass
class HistoryEntry:
    when: datetime
    who: str
    action: str
    subject: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def _shown(model_field: Any, value: Any) -> Any:
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value


def _entries(
    records: Iterable[Any], model: type[models.Model], subject: Callable[[Any], Any]
) -> list[HistoryEntry]:
    out = []
    previous: dict[int, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        changes = []
        before = previous.get(record.id)
        if before is not None:
            for change in record.diff_against(before).changes:
                if change.field in _HIDDEN:
                    continue
                model_field = model._meta.get_field(change.field)
                changes.append(
                    (
                        str(getattr(model_field, "verbose_name", change.field)),
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


def _newest_first(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    return sorted(entries, key=lambda e: e.when, reverse=True)


def plan_history(plan: ProcedurePlan) -> list[HistoryEntry]:
    """The plan, its access sites, stents, checklist items (ticks and unticks) and records."""
    entries = _entries(
        plan.history.select_related("history_user"), ProcedurePlan, lambda r: _("Plan")
    )
    entries += _entries(
        AccessSite.history.filter(plan_id=plan.pk).select_related("history_user"),
        AccessSite,
        lambda r: _("Access site %(side)s %(site)s") % {"side": r.side, "site": r.site},
    )
    entries += _entries(
        PlannedStent.history.filter(plan_id=plan.pk).select_related("history_user"),
        PlannedStent,
        lambda r: _("Stent %(segment)s %(side)s") % {"segment": r.segment, "side": r.side},
    )
    entries += _entries(
        ChecklistItem.history.filter(plan_id=plan.pk).select_related("history_user"),
        ChecklistItem,
        lambda r: _("Checklist item “%(text)s”") % {"text": r.text},
    )
    entries += _entries(
        ProcedureRecord.history.filter(plan_id=plan.pk).select_related("history_user"),
        ProcedureRecord,
        lambda r: _("Procedure record"),
    )
    return _newest_first(entries)


def device_history(device: Device) -> list[HistoryEntry]:
    entries = _entries(device.history.select_related("history_user"), Device, lambda r: r.name)
    entries += _entries(
        DeviceSize.history.filter(device_id=device.pk).select_related("history_user"),
        DeviceSize,
        lambda r: _("Size %(id)s") % {"id": r.id},
    )
    return _newest_first(entries)


def template_history(template: ChecklistTemplate) -> list[HistoryEntry]:
    entries = _entries(
        template.history.select_related("history_user"), ChecklistTemplate, lambda r: r.name
    )
    entries += _entries(
        ChecklistTemplateItem.history.filter(template_id=template.pk).select_related(
            "history_user"
        ),
        ChecklistTemplateItem,
        lambda r: _("Item “%(text)s”") % {"text": r.text},
    )
    return _newest_first(entries)
