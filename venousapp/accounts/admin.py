from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from venousapp.accounts.models import Centre, User


@admin.register(Centre)
class CentreAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "time_zone"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "email", "centre", "is_active", "is_staff"]
    list_filter = ["centre", "groups", "is_active"]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Centre", {"fields": ("centre",)}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Centre", {"fields": ("email", "centre")}))
