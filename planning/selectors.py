"""Reads of the planning app, always scoped to the reader's centre, and the bridges from rows
to the pure planners (``planning.sizing``, ``planning.proposal``, ``planning.diagram``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.safestring import SafeString, mark_safe

from cases.models import Case, SegmentFinding
from guidelines.engine import RuleSet
from planning import diagram, sizing
from planning.models import (
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Device,
    DeviceKind,
    DeviceSize,
    ItemCategory,
    Phase,
    PlannedStent,
    ProcedurePlan,
    ProcedureRecord,
)
from planning.proposal import Equipment, EquipmentSize, PlanDefaults, open_contraindications
from venousapp.accounts.models import Person


def advice_against(result: dict[str, Any], ruleset: RuleSet) -> list[dict[str, str]]:
    """The recommendations of an evaluation that advise against (value ``against``), each as
    {rule_id, label ("Society year"), text}, in the evaluation's order: what a plan over them
    must answer with a recorded reason."""
    sources = ruleset.sources
    out = []
    for rule_id, entry in result["rules"].items():
        if entry["value"] != "against":
            continue
        try:
            definition = ruleset.definition(rule_id)
        except KeyError:
            definition = {}
        source = sources.get(definition.get("source", ""), {})
        label = " ".join(str(part) for part in (source.get("society"), source.get("year")) if part)
        out.append(
            {"rule_id": rule_id, "label": label or rule_id, "text": definition.get("text", "")}
        )
    return out


def plan_defaults() -> PlanDefaults:
    """The planner's provisional numbers (docs/planning.md), overridable per deployment with
    ``PLANNING_DEFAULTS``."""
    return PlanDefaults(**settings.PLANNING_DEFAULTS)


# --- catalogue ------------------------------------------------------------------------------


def device_list(*, include_retired: bool = False) -> QuerySet[Device]:
    devices = Device.objects.all() if include_retired else Device.objects.active()
    sizes = DeviceSize.objects.all() if include_retired else DeviceSize.objects.active()
    return devices.prefetch_related(
        Prefetch("sizes", queryset=sizes.order_by("diameter_mm", "length_mm", "french", "id"))
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def stent_model(device: Device, sizes: Iterable[DeviceSize] | None = None) -> sizing.StentModel:
    rows = device.sizes.all() if sizes is None else sizes
    return sizing.StentModel(
        id=device.pk,
        name=device.name,
        dedicated=device.dedicated,
        segments=tuple(device.segments or ()),
        sizes=tuple(
            sizing.StentSize(
                id=s.pk,
                diameter_mm=float(s.diameter_mm),
                length_mm=s.length_mm,
                french=_float(s.french),
                verified=s.verified,
            )
            for s in rows
            if s.diameter_mm is not None and s.length_mm is not None and s.retired_at is None
        ),
    )


def stent_catalogue() -> list[sizing.StentModel]:
    """Active stents with their active sizes, in catalogue order (planner preference)."""
    return [stent_model(d) for d in device_list().filter(kind=DeviceKind.STENT)]


def equipment_catalogue() -> list[Equipment]:
    return [
        Equipment(
            id=d.pk,
            name=d.name,
            use=d.planner_use,
            notes=d.notes,
            sizes=tuple(
                EquipmentSize(
                    id=s.pk,
                    label=s.label,
                    diameter_mm=_float(s.diameter_mm),
                    length_mm=s.length_mm,
                    french=_float(s.french),
                )
                for s in d.sizes.all()
            ),
        )
        for d in device_list().exclude(kind=DeviceKind.STENT).exclude(planner_use="")
    ]


def checklist_template_for(scenario: str) -> ChecklistTemplate | None:
    return (
        ChecklistTemplate.objects.active()
        .filter(scenario=scenario)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ChecklistTemplateItem.objects.active().order_by("phase", "position", "id"),
            )
        )
        .first()
    )


def checklist_template_list(*, include_retired: bool = False) -> QuerySet[ChecklistTemplate]:
    templates = ChecklistTemplate.objects.all()
    if not include_retired:
        templates = templates.active()
    return templates.prefetch_related(
        Prefetch(
            "items",
            queryset=ChecklistTemplateItem.objects.active().order_by("phase", "position", "id"),
        )
    )


# --- case facts as the planners read them ---------------------------------------------------


def measurements(findings: Iterable[SegmentFinding]) -> list[sizing.Measurement]:
    return [
        sizing.Measurement(
            segment=f.segment,
            side=f.side,
            finding=f.finding,
            reference_diameter_mm=_float(f.reference_diameter_mm),
            reference_area_mm2=f.reference_area_mm2,
            lesion_length_mm=f.lesion_length_mm,
            area_reduction_pct=f.area_reduction_pct,
        )
        for f in findings
    ]


# --- plans ----------------------------------------------------------------------------------


def plan_list(*, user: Person, case: Case | None = None) -> QuerySet[ProcedurePlan]:
    plans = ProcedurePlan.objects.filter(case__patient__centre_id=user.centre_id).select_related(
        "case", "case__patient", "author", "signed_by"
    )
    return plans.filter(case=case) if case is not None else plans


def plan_get(*, user: Person, pk: int) -> ProcedurePlan:
    """The plan with everything its page shows, if it belongs to the user's centre;
    ``ProcedurePlan.DoesNotExist`` otherwise."""
    return (
        ProcedurePlan.objects.select_related(
            "case", "case__patient", "case__author", "author", "signed_by", "checklist_template"
        )
        .prefetch_related(
            "access_sites",
            Prefetch(
                "stents",
                queryset=PlannedStent.objects.select_related("device", "size").order_by(
                    "position", "id"
                ),
            ),
            Prefetch(
                "items",
                queryset=ChecklistItem.objects.select_related("ticked_by", "device_size").order_by(
                    "position", "id"
                ),
            ),
            Prefetch("case__findings", queryset=SegmentFinding.objects.order_by("id")),
            Prefetch("records", queryset=ProcedureRecord.objects.order_by("-performed_on", "-id")),
        )
        .get(pk=pk, case__patient__centre_id=user.centre_id)
    )


def checklist_item_get(*, user: Person, pk: int) -> ChecklistItem:
    return ChecklistItem.objects.select_related("plan", "ticked_by").get(
        pk=pk, plan__case__patient__centre_id=user.centre_id
    )


@dataclass(frozen=True)
class PhaseGroup:
    code: str
    label: str
    items: list[ChecklistItem]

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.ticked)

    @property
    def complete(self) -> bool:
        return bool(self.items) and self.done == len(self.items)


def checklist_phases(items: Iterable[ChecklistItem]) -> list[PhaseGroup]:
    """The plan's checklist in WHO order (preparation, sign in, time out, sign out)."""
    rows = list(items)
    order = {code: i for i, code in enumerate(Phase.values)}
    rows.sort(key=lambda i: (order[i.phase], i.position, i.pk or 0))
    return [
        PhaseGroup(code, str(label), [i for i in rows if i.phase == code])
        for code, label in Phase.choices
    ]


def _stent_rows(plan: ProcedurePlan) -> list[sizing.StentRow]:
    rows = []
    for stent in plan.stents.all():
        size = stent.size
        rows.append(
            sizing.StentRow(
                segment=stent.segment,
                side=stent.side,
                device=stent_model(stent.device, [size] if size else []) if stent.device else None,
                size=(
                    sizing.StentSize(
                        id=size.pk,
                        diameter_mm=float(size.diameter_mm),
                        length_mm=size.length_mm,
                        french=_float(size.french),
                        verified=size.verified,
                    )
                    if size is not None and size.diameter_mm is not None and size.length_mm
                    else None
                ),
                diameter_mm=float(stent.diameter_mm),
                length_mm=stent.length_mm,
                required_length_mm=stent.required_length_mm,
            )
        )
    return rows


def plan_sheath_french(plan: ProcedurePlan) -> float | None:
    """The largest sheath the plan prepares (its sheath items' catalogue sizes)."""
    sizes = [
        float(item.device_size.french)
        for item in plan.items.all()
        if item.category == ItemCategory.SHEATH
        and item.device_size is not None
        and item.device_size.french is not None
    ]
    return max(sizes) if sizes else None


def plan_warnings(plan: ProcedurePlan, facts: dict[str, Any]) -> list[sizing.PlanWarning]:
    """Sizing warnings of the stored stents (as the clinician left them) and the open
    contraindications of the case (docs/planning.md#contraindications)."""
    findings = measurements(plan.case.findings.all())
    out = sizing.stent_warnings(
        _stent_rows(plan),
        findings,
        sheath_french=plan_sheath_french(plan),
        max_excess_mm=settings.PLANNING_EXCESS_LENGTH_MM,
    )
    for code, label in open_contraindications(facts):
        out.append(
            sizing.PlanWarning(
                "contraindication",
                f"Open contraindication: {label}."
                + (
                    " Override recorded."
                    if plan.contraindication_override_reason
                    else " Signing needs a recorded reason."
                ),
                code,
            )
        )
    return out


def plan_diagram(
    plan: ProcedurePlan | None,
    findings: Sequence[SegmentFinding],
    *,
    id_prefix: str,
    title: str,
) -> SafeString:
    """The iliocaval SVG of the case with the plan's stents and access sites (if any)."""
    stents = []
    access = []
    extension = False
    if plan is not None:
        stents = [
            diagram.DiagramStent(
                segment=s.segment,
                side=s.side,
                diameter_mm=float(s.diameter_mm),
                length_mm=s.length_mm,
                label=s.device.name if s.device else "",
            )
            for s in plan.stents.all()
        ]
        access = [diagram.DiagramAccess(a.site, a.side) for a in plan.access_sites.all()]
        extension = plan.bilateral_extension
    svg = diagram.iliocaval_svg(
        findings=[
            diagram.DiagramFinding(
                segment=f.segment,
                side=f.side,
                finding=f.finding,
                area_reduction_pct=f.area_reduction_pct,
            )
            for f in findings
        ],
        stents=stents,
        access=access,
        bilateral_extension=extension,
        id_prefix=id_prefix,
        title=title,
    )
    return mark_safe(svg)  # noqa: S308 - built by planning.diagram, which escapes every text


def record_get(*, user: Person, pk: int) -> ProcedureRecord:
    return (
        ProcedureRecord.objects.select_related(
            "case", "case__patient", "plan", "author", "completed_by"
        )
        .prefetch_related("implants__device")
        .get(pk=pk, case__patient__centre_id=user.centre_id)
    )


def record_list(*, user: Person) -> QuerySet[ProcedureRecord]:
    return ProcedureRecord.objects.filter(case__patient__centre_id=user.centre_id).select_related(
        "case", "case__patient", "plan"
    )
