"""Django admin for the planning models (the in-app pages are the primary editors). Deleting
is disabled: catalogue rows and templates are retired, clinical documents are kept."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from planning.models import (
    AccessSite,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Device,
    DeviceSize,
    ImplantedDevice,
    PlannedStent,
    ProcedurePlan,
    ProcedureRecord,
)


class NoDeleteMixin:
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeviceSizeInline(NoDeleteMixin, admin.TabularInline):
    model = DeviceSize
    extra = 0


@admin.register(Device)
class DeviceAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "manufacturer", "dedicated", "planner_use", "retired_at"]
    list_filter = ["kind", "dedicated", "evidence"]
    search_fields = ["name", "code", "manufacturer"]
    inlines = [DeviceSizeInline]


class TemplateItemInline(NoDeleteMixin, admin.TabularInline):
    model = ChecklistTemplateItem
    extra = 0


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "scenario", "retired_at"]
    inlines = [TemplateItemInline]


class AccessSiteInline(admin.TabularInline):
    model = AccessSite
    extra = 0


class PlannedStentInline(admin.TabularInline):
    model = PlannedStent
    extra = 0
    raw_id_fields = ["device", "size"]


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    raw_id_fields = ["device", "device_size", "template_item", "ticked_by"]


@admin.register(ProcedurePlan)
class ProcedurePlanAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "case", "scenario", "status", "created_at"]
    list_filter = ["scenario", "status"]
    raw_id_fields = ["case", "author", "signed_by", "checklist_template"]
    inlines = [AccessSiteInline, PlannedStentInline, ChecklistItemInline]


class ImplantInline(admin.TabularInline):
    model = ImplantedDevice
    extra = 0


@admin.register(ProcedureRecord)
class ProcedureRecordAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "case", "performed_on", "technical_success", "completed_at"]
    raw_id_fields = ["case", "plan", "author", "completed_by"]
    inlines = [ImplantInline]
