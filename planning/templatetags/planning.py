"""Template helpers of the planning app, and the "Procedure plan" section of the case page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.db.models import Count, Prefetch
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from planning import selectors
from planning.models import PlannedStent, ProcedurePlan, ProcedureRecord
from planning.proposal import PLANNING_STATUSES

register = template.Library()

WARNING_LABELS = {
    "no_device": _("No stent"),
    "no_size": _("Not in catalogue"),
    "unverified_size": _("Unverified size"),
    "too_short": _("Too short"),
    "too_long": _("Much longer than needed"),
    "out_of_range": _("Unusual diameter"),
    "non_dedicated": _("Non-dedicated stent"),
    "diameter_step": _("Diameter step"),
    "sheath_too_small": _("Sheath too small"),
    "diseased_landing": _("Diseased landing zone"),
    "contraindication": _("Contraindication"),
}


@register.filter
def mm(value: Any) -> str:
    """12.0 -> "12", 12.5 -> "12.5" (sizes without trailing zeros)."""
    if value is None or value == "":
        return "—"
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


@register.filter
def css_string(value: Any) -> str:
    """Text for a CSS string literal (PDF page margins): quotes and backslashes escaped,
    markup characters dropped."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return mark_safe("".join(ch for ch in text if ch not in "<>&"))  # noqa: S308


@register.filter
def size_summary(device: Any) -> str:
    """ "42 sizes · Ø 10–20 mm · 40–160 mm · 6 verified" from the prefetched sizes."""
    sizes = list(device.sizes.all())
    if not sizes:
        return ""
    parts = [f"{len(sizes)} size{'s' if len(sizes) != 1 else ''}"]
    for attr, unit, prefix in (
        ("diameter_mm", " mm", "Ø "),
        ("length_mm", " mm", ""),
        ("french", " F", ""),
    ):
        values = sorted({getattr(s, attr) for s in sizes if getattr(s, attr) is not None})
        if values:
            low, high = mm(values[0]), mm(values[-1])
            parts.append(f"{prefix}{low}{unit}" if low == high else f"{prefix}{low}–{high}{unit}")
    parts.append(f"{sum(1 for s in sizes if s.verified)} verified")
    return " · ".join(parts)


@register.filter
def warning_label(code: str) -> str:
    return str(WARNING_LABELS.get(code, code))


@register.inclusion_tag("planning/_case_section.html", takes_context=True)
def case_planning(context: template.Context, case: Any, findings: Any) -> dict[str, Any]:
    """The case page's "Procedure plan" section: the case's plans (one query), whether a plan
    can be made (from the panel already on the page) and the diagram of the latest plan."""
    request = context["request"]
    user = request.user
    panel = context.get("panel")
    overall = getattr(panel, "overall", None)
    if not user.has_perm("planning.view_procedureplan"):
        return {"visible": False}
    plans = list(
        ProcedurePlan.objects.filter(case=case)
        .select_related("author", "signed_by")
        .prefetch_related(
            Prefetch("stents", queryset=PlannedStent.objects.select_related("device")),
            "access_sites",
        )
        .order_by("-created_at", "-id")
    )
    latest = plans[0] if plans else None
    records = (
        list(
            ProcedureRecord.objects.filter(case=case)
            .annotate(implant_count=Count("implants"))
            .order_by("-performed_on", "-id")
        )
        if user.has_perm("planning.view_procedurerecord")
        else []
    )
    return {
        "visible": True,
        "case": case,
        "plans": plans,
        "records": records,
        "latest": latest,
        "perms": context.get("perms"),
        "plannable": overall in PLANNING_STATUSES,
        "overall": overall,
        "diagram": selectors.plan_diagram(
            latest,
            list(findings),
            id_prefix="case-diagram",
            title=_("Iliocaval diagram of case %(id)s") % {"id": case.pk},
        ),
    }
