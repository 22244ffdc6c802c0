"""The plan as an A4 PDF (WeasyPrint): patient identifier, scenario, access, stents with
sizes, the diagram and the checklist with who ticked what and when."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from venousapp.accounts.requests import AuthenticatedHttpRequest


def plan_pdf(context: dict[str, Any], *, request: AuthenticatedHttpRequest | None = None) -> bytes:
    from weasyprint import HTML  # imported lazily: loading pango takes a moment

    html = render_to_string(
        "planning/plan_pdf.html", {**context, "printed_at": timezone.now()}, request=request
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
