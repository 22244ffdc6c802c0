from django.urls import include, path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("ceap-preview/", views.ceap_preview, name="ceap-preview"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/edit/", views.case_edit, name="edit"),
    path("<int:pk>/history/", views.case_history_view, name="history"),
    path("<int:pk>/decisions/", include("guidelines.decisions.urls")),
]
