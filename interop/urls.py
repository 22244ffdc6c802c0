from django.urls import path

from interop import views

app_name = "interop"
urlpatterns = [
    path("import/", views.fhir_import_page, name="import"),
    path("drafts/<int:pk>/", views.draft_case, name="draft"),
    path("open/", views.open_patient, name="open"),
    path("cds-clients/", views.cds_clients, name="cds-clients"),
    path("cds-clients/<int:pk>/", views.cds_client_edit, name="cds-client"),
]
