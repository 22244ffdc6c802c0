"""Django admin for the guidelines app: a read-only window on rules and decisions.

Rule versions change only through the guideline-admin workflow (/guidelines/rules/, the API
and ``guidelines/services/authoring.py``): editing a status or a definition here would bypass
the test cases, the second admin's approval and the rule-set state that tells every process
to recompile. So everything but guideline sources is read-only here; a source edit goes through
a save that bumps the rule-set state (citations are part of the compiled rule set).
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from guidelines.models import (
    CardFeedback,
    Decision,
    GuidelineSource,
    ImpactPreview,
    ReEvaluation,
    Rule,
    RuleSetState,
    RuleTestCase,
    RuleVersion,
)
from guidelines.services.authoring import ruleset_state_bump


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GuidelineSource)
class GuidelineSourceAdmin(SimpleHistoryAdmin):
    list_display = ["key", "society", "year", "doi"]
    search_fields = ["key", "society", "title"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # rule versions point at sources (PROTECT); retire rules instead

    def save_model(
        self, request: HttpRequest, obj: GuidelineSource, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        ruleset_state_bump()


class RuleVersionInline(admin.TabularInline):
    model = RuleVersion
    fields = readonly_fields = (
        "number",
        "status",
        "author",
        "approver",
        "published_at",
        "change_note",
    )
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin):
    list_display = ["rule_id", "engine", "topic", "retired_at"]
    list_filter = ["engine", "topic"]
    search_fields = ["rule_id"]
    inlines = [RuleVersionInline]


class RuleTestCaseInline(admin.TabularInline):
    model = RuleTestCase
    fields = readonly_fields = ("name", "expected", "last_value", "last_run_at")
    extra = 0
    can_delete = False


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "author", "approver", "published_at"]
    list_filter = ["status", "rule__engine", "rule__topic"]
    search_fields = ["rule__rule_id"]
    list_select_related = ["rule", "author", "approver"]
    inlines = [RuleTestCaseInline]


@admin.register(RuleTestCase)
class RuleTestCaseAdmin(ReadOnlyAdmin):
    list_display = ["name", "rule_version", "expected", "last_value"]
    search_fields = ["name", "rule_version__rule__rule_id"]
    list_select_related = ["rule_version__rule"]


@admin.register(RuleSetState)
class RuleSetStateAdmin(admin.ModelAdmin):
    list_display = ["version", "changed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImpactPreview)
class ImpactPreviewAdmin(admin.ModelAdmin):
    list_display = ["id", "rule_version", "requested_by", "status", "done", "total", "created_at"]
    list_select_related = ["rule_version__rule", "requested_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReEvaluation)
class ReEvaluationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "trigger",
        "status",
        "ruleset",
        "done",
        "total",
        "changed",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "trigger"]
    list_select_related = ["requested_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CardFeedbackInline(admin.TabularInline):
    model = CardFeedback
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Signed decisions are frozen records."""

    list_display = ["id", "case", "signed_by", "signed_at", "ruleset_version"]
    list_select_related = ["case", "signed_by"]
    raw_id_fields = ["case", "signed_by"]
    inlines = [CardFeedbackInline]
