"""Audit trails of plans, catalogue devices and checklist templates: who changed what and
when, newest first (django-simple-history records)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
from venousapp.history import HistoryEntry, history_entries, newest_first

# Timestamps change with every save; the entries show what a person changed.
_HIDDEN = frozenset({"updated_at", "created_at"})


def _entries(
    records: Iterable[Any], model: type[models.Model], subject: Callable[[Any], Any]
) -> list[HistoryEntry]:
    return history_entries(records, model, subject, hidden=_HIDDEN)


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
    return newest_first(entries)


def device_history(device: Device) -> list[HistoryEntry]:
    entries = _entries(device.history.select_related("history_user"), Device, lambda r: r.name)
    entries += _entries(
        DeviceSize.history.filter(device_id=device.pk).select_related("history_user"),
        DeviceSize,
        lambda r: _("Size %(id)s") % {"id": r.id},
    )
    return newest_first(entries)


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
    return newest_first(entries)
