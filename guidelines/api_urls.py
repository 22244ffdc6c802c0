from django.urls import path

from guidelines import api, api_admin
from guidelines.decisions import api as decisions_api

urlpatterns = [
    path("evaluate", api.EvaluateView.as_view(), name="api-evaluate"),
    path(
        "cases/<int:pk>/recommendations",
        api.CaseRecommendationsView.as_view(),
        name="api-case-recommendations",
    ),
    path("rules/", api_admin.RuleListView.as_view(), name="api-rules"),
    path("rules/export", api_admin.ExportView.as_view(), name="api-rules-export"),
    path("rules/import", api_admin.ImportView.as_view(), name="api-rules-import"),
    path("rules/<str:rule_id>/", api_admin.RuleDetailView.as_view(), name="api-rule"),
    path(
        "rules/<str:rule_id>/versions/",
        api_admin.VersionCreateView.as_view(),
        name="api-rule-versions",
    ),
    path(
        "rules/<str:rule_id>/versions/<int:number>/",
        api_admin.VersionView.as_view(),
        name="api-rule-version",
    ),
    path(
        "rules/<str:rule_id>/versions/<int:number>/test-cases/",
        api_admin.TestCaseCreateView.as_view(),
        name="api-rule-version-test-cases",
    ),
    path(
        "rules/<str:rule_id>/versions/<int:number>/run-tests",
        api_admin.RunTestsView.as_view(),
        name="api-rule-version-run-tests",
    ),
    path(
        "rules/<str:rule_id>/versions/<int:number>/submit",
        api_admin.SubmitView.as_view(),
        name="api-rule-version-submit",
    ),
    path(
        "rules/<str:rule_id>/versions/<int:number>/approve",
        api_admin.ApproveView.as_view(),
        name="api-rule-version-approve",
    ),
    path(
        "cases/<int:pk>/decisions",
        decisions_api.CaseDecisionsView.as_view(),
        name="api-case-decisions",
    ),
    path(
        "cases/<int:pk>/decisions/<int:decision_pk>",
        decisions_api.CaseDecisionDetailView.as_view(),
        name="api-case-decision",
    ),
]
