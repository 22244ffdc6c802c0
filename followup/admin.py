"""Django admin for the follow-up models: read-mostly views for support staff (the in-app
pages are the editors). Nothing is deleted: clinical rows are kept, protocols are revised as
new versions, delivery rows are the record of what was sent."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from followup.models import (
    ContactAttempt,
    Digest,
    Escalation,
    EscalationNotice,
    NoticeMail,
    Notification,
    PatencyReport,
    Protocol,
    ProtocolVisit,
    ReIntervention,
    Reminder,
    ResultSegment,
    Schedule,
    Visit,
    VisitResult,
)


class NoDeleteMixin:
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyMixin(NoDeleteMixin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProtocolVisitInline(ReadOnlyMixin, admin.TabularInline):
    model = ProtocolVisit
    extra = 0


@admin.register(Protocol)
class ProtocolAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["entity", "version", "name", "retired_at"]
    list_filter = ["entity"]
    inlines = [ProtocolVisitInline]


class VisitInline(ReadOnlyMixin, admin.TabularInline):
    model = Visit
    extra = 0
    fields = ["sequence", "label", "kind", "target_on", "earliest_on", "latest_on", "state"]


@admin.register(Schedule)
class ScheduleAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "case", "entity", "start_on", "horizon_until", "open_ended"]
    list_filter = ["entity", "centre"]
    raw_id_fields = ["procedure", "case", "protocol", "centre"]
    inlines = [VisitInline]


@admin.register(Visit)
class VisitAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "schedule", "label", "kind", "target_on", "state"]
    list_filter = ["state", "kind", "centre"]
    date_hierarchy = "target_on"
    raw_id_fields = ["schedule", "centre", "last_contact"]


@admin.register(ContactAttempt)
class ContactAttemptAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "visit", "method", "outcome", "attempted_at", "by"]
    raw_id_fields = ["visit", "by"]


class ResultSegmentInline(NoDeleteMixin, admin.TabularInline):
    model = ResultSegment
    extra = 0


@admin.register(VisitResult)
class VisitResultAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "visit", "performed_on", "abnormal_reasons"]
    raw_id_fields = ["visit", "recorded_by"]
    inlines = [ResultSegmentInline]


@admin.register(Escalation)
class EscalationAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "case", "clinician", "created_at", "acknowledged_at", "decision"]
    list_filter = ["decision", "centre"]
    raw_id_fields = [
        "visit",
        "result",
        "case",
        "centre",
        "clinician",
        "acknowledged_by",
        "decided_by",
        "reimage_visit",
    ]


@admin.register(ReIntervention)
class ReInterventionAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["id", "schedule", "performed_on", "kind", "for_occlusion", "successful"]
    raw_id_fields = ["schedule", "case", "centre", "escalation", "author"]


@admin.register(Reminder, EscalationNotice, Digest)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "due_at", "claimed_at", "sent_at", "skipped", "tries", "last_error"]
    list_filter = ["skipped"]


@admin.register(NoticeMail)
class NoticeMailAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "due_at", "sending_at", "sent_at", "outcome", "tries", "last_error"]
    list_filter = ["outcome"]
    raw_id_fields = ["notice"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "recipient", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]


@admin.register(PatencyReport)
class PatencyReportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Computed caches of the patency page: read-only, to see a failed or stuck run."""

    list_display = [
        "id",
        "centre",
        "entity",
        "status",
        "done",
        "total",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "centre"]
    exclude = ["result"]
