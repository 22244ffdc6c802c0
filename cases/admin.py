from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from cases.models import Case, Patient, SegmentFinding


class SegmentFindingInline(admin.TabularInline):
    model = SegmentFinding
    extra = 0


@admin.register(Patient)
class PatientAdmin(SimpleHistoryAdmin):
    list_display = ["identifier", "centre", "sex", "date_of_birth"]
    list_filter = ["centre"]
    search_fields = ["identifier"]


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    list_display = ["id", "patient", "case_date", "lesion_entity", "side", "overall_status"]
    list_filter = ["lesion_entity", "side", "overall_status"]
    search_fields = ["patient__identifier"]
    raw_id_fields = ["patient", "author"]
    inlines = [SegmentFindingInline]

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        obj.centre_id = obj.patient.centre_id  # as the services keep it
        super().save_model(request, obj, form, change)
