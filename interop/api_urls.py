from django.urls import path

from interop import api

urlpatterns = [
    path("cases/<int:pk>/fhir", api.CaseFhirView.as_view(), name="api-case-fhir"),
    path("fhir/import", api.FhirImportView.as_view(), name="api-fhir-import"),
    path(
        "guidelines/plandefinitions",
        api.PlanDefinitionsView.as_view(),
        name="api-plandefinitions",
    ),
]
