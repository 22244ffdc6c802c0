from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from venousapp.accounts.forms import TemporaryPasswordChangeForm, TemporaryPasswordCreationForm
from venousapp.accounts.models import Centre, User


@admin.register(Centre)
class CentreAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "time_zone"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    # A password set here is temporary: its owner chooses her own at the next log-in.
    add_form = TemporaryPasswordCreationForm
    change_password_form = TemporaryPasswordChangeForm
    list_display = ["username", "email", "centre", "is_active", "is_staff"]
    list_filter = ["centre", "groups", "is_active", "must_change_password"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Password"), {"fields": ("must_change_password",)}),
        ("Centre", {"fields": ("centre",)}),
    )
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Centre", {"fields": ("email", "centre")}))
