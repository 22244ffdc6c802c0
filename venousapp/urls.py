from django.contrib import admin
from django.urls import include, path

from venousapp import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("venousapp.accounts.urls")),
    path("cases/", include("cases.urls")),
    path("guidelines/", include("guidelines.urls")),
    path("planning/", include("planning.urls")),
    path("followup/", include("followup.urls")),
    path("interop/", include("interop.urls")),
    path("", include("interop.cds_urls")),
    path("api/v1/", include("venousapp.api_urls")),
    path("api/schema/", views.SchemaView.as_view(), name="api-schema"),
    path("api/docs/", views.DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "venousapp.views.bad_request"
handler403 = "venousapp.views.permission_denied"
handler404 = "venousapp.views.page_not_found"
handler500 = "venousapp.views.server_error"
