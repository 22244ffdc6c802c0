"""What the hospital interfaces add to the case page: the "Export as FHIR" button."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("interop/_export_button.html")
def fhir_export_button(case: Any) -> dict[str, Any]:
    return {"case": case}
