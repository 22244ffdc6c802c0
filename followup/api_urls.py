from django.urls import path

from followup import api

urlpatterns = [
    path("worklist/", api.WorklistView.as_view(), name="api-followup-worklist"),
    path("visits/<int:pk>/", api.VisitDetailView.as_view(), name="api-followup-visit"),
    path(
        "visits/<int:pk>/result/", api.VisitResultView.as_view(), name="api-followup-visit-result"
    ),
    path(
        "visits/<int:pk>/contacts/",
        api.ContactListView.as_view(),
        name="api-followup-visit-contacts",
    ),
    path("escalations/", api.EscalationListView.as_view(), name="api-followup-escalations"),
    path(
        "escalations/<int:pk>/", api.EscalationDetailView.as_view(), name="api-followup-escalation"
    ),
    path(
        "escalations/<int:pk>/acknowledge/",
        api.EscalationAcknowledgeView.as_view(),
        name="api-followup-escalation-acknowledge",
    ),
    path(
        "escalations/<int:pk>/decide/",
        api.EscalationDecideView.as_view(),
        name="api-followup-escalation-decide",
    ),
]
