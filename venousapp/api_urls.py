from django.urls import include, path

urlpatterns = [
    path("", include("cases.api_urls")),
    path("", include("guidelines.api_urls")),
    path("followup/", include("followup.api_urls")),
    path("", include("planning.api_urls")),
    path("", include("interop.api_urls")),
]
