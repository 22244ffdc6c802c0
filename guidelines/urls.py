from django.urls import path

from guidelines import admin_views as views

app_name = "guidelines"

_version = "rules/<str:rule_id>/v<int:number>/"

urlpatterns = [
    path("rules/", views.rule_list, name="rule-list"),
    path("rules/export/", views.ruleset_export, name="export"),
    path("rules/import/", views.ruleset_import, name="import"),
    path("impact/<int:pk>/", views.impact_progress, name="impact-progress"),
    path("reevaluation/", views.reevaluation_progress, name="reevaluation"),
    path("reevaluation/start/", views.reevaluation_start, name="reevaluation-start"),
    path("rules/<str:rule_id>/", views.rule_detail, name="rule"),
    path("rules/<str:rule_id>/drafts/new/", views.draft_create, name="draft-create"),
    path("rules/<str:rule_id>/retire/", views.rule_retire, name="retire"),
    path(_version, views.version_detail, name="version"),
    path(_version + "edit/", views.version_edit, name="version-edit"),
    path(_version + "tests/", views.version_tests, name="version-tests"),
    path(_version + "tests/run/", views.version_run_tests, name="version-run-tests"),
    path(_version + "tests/<int:pk>/edit/", views.test_case_edit, name="test-case-edit"),
    path(_version + "tests/<int:pk>/delete/", views.test_case_delete, name="test-case-delete"),
    path(_version + "submit/", views.version_submit, name="version-submit"),
    path(_version + "approve/", views.version_approve, name="version-approve"),
    path(_version + "return/", views.version_return, name="version-return"),
    path(_version + "restore/", views.version_restore, name="version-restore"),
    path(_version + "impact/", views.version_impact, name="version-impact"),
]
