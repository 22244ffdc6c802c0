"""The invitation letter to a follow-up visit as an A4 PDF (WeasyPrint)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from followup.models import Visit
from followup.services.clock import centre_today
from venousapp.accounts.requests import AuthenticatedHttpRequest


def invitation_letter(*, visit: Visit, request: AuthenticatedHttpRequest | None = None) -> bytes:
    from weasyprint import HTML  # imported lazily: loading pango takes a moment

    html = render_to_string(
        "followup/letter_pdf.html",
        {
            "visit": visit,
            "patient": visit.schedule.case.patient,
            "centre": visit.centre,
            "schedule": visit.schedule,
            "today": centre_today(visit.centre),
        },
        request=request,
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
