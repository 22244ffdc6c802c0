"""Case-scoped decision pages, mounted at /cases/<pk>/decisions/ by cases/urls.py."""

from django.urls import path

from guidelines.decisions import views

app_name = "decisions"
urlpatterns = [
    path("", views.decision_list, name="list"),
    path("sign/", views.decision_sign, name="sign"),
    path("draft/", views.decision_draft, name="draft"),
    path("<int:decision_pk>/", views.decision_detail, name="detail"),
]
