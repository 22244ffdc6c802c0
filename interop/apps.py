from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    """Hospital interfaces: FHIR R4 export and import, a CDS Hooks service and the rule set
    as FHIR PlanDefinitions. The top layer: it reads and writes the other apps through their
    selectors and services, and nothing but the URL configuration imports it."""

    name = "interop"
    verbose_name = _("Hospital interfaces")
