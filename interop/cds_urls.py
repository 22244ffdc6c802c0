"""The CDS Hooks routes, at the site's root as the specification's clients expect them."""

from django.urls import path

from interop import cds_views

urlpatterns = [
    path("cds-services", cds_views.cds_discovery, name="cds-discovery"),
    path("cds-services/<str:service_id>", cds_views.cds_service, name="cds-service"),
    path("cds-services/<str:service_id>/feedback", cds_views.cds_feedback, name="cds-feedback"),
]
