from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from interop.models import CaseDraft, CdsClient, HookCall


@admin.register(CdsClient)
class CdsClientAdmin(SimpleHistoryAdmin):
    list_display = ["name", "issuer", "centre", "active"]
    list_filter = ["centre", "active"]
    search_fields = ["name", "issuer"]


@admin.register(HookCall)
class HookCallAdmin(admin.ModelAdmin):
    list_display = ["hook", "client", "called_at"]
    list_filter = ["client"]
    # a record of what happened: every field read-only
    readonly_fields = [field.name for field in HookCall._meta.concrete_fields if field.name != "id"]


@admin.register(CaseDraft)
class CaseDraftAdmin(SimpleHistoryAdmin):
    list_display = ["patient", "centre", "case", "updated_at"]
    list_filter = ["centre"]
    readonly_fields = ["patient", "centre", "case", "author", "mapped", "not_mapped"]
