"""The pre-filled procedure plan (docs/planning.md), as pure Python.

:func:`draft_plan` turns a case (its entity, side and segment findings), the guideline
engine's ``planning`` block (``guidelines.planning_block.plan``, the one implementation of
access, bilateral access, jugular, inverted-Y and default diameters) and the device catalogue into
what the checklist generator prepares. The planning app stores the result; the clinician
then changes whatever the case needs. Numbers no source fixes (provisional,
docs/README.md#how-sure-a-fact-is) are in :class:`PlanDefaults`, never buried in the logic.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cases.vocabulary import PLANNING_STATUSES, STENTABLE_SEGMENTS
from planning.sizing import (
    Measurement,
    StentModel,
    StentRow,
    propose_stents,
)

__all__ = [
    "ANTITHROMBOTIC_DEFAULTS",
    "PLANNING_STATUSES",
    "AccessPlan",
    "DraftItem",
    "Equipment",
    "EquipmentSize",
    "PlanDefaults",
    "PlanDraft",
    "PlanRefused",
    "access_sites_for",
    "anaesthesia_for",
    "draft_plan",
    "open_contraindications",
    "scenario_for",
]


# The app's antithrombotic defaults (configurable, docs/planning.md#antithrombotic-defaults;
# sources: ESVS 2021 Class I for ETR, Kakkos et al., Eur J Vasc Endovasc Surg 2021;61:9–82;
# Milinis et al., Delphi consensus, Eur J Vasc Endovasc Surg 2018;55:537–544; Vuylsteke,
# Phlebolymphology, narrative review). Keyed by follow-up entity; "acute_no_stent" is thrombus
# removal without a stent.
ANTITHROMBOTIC_DEFAULTS: dict[str, str] = {
    "nivl": (
        "Short anticoagulation (e.g. LMWH for 2–6 weeks), then antiplatelet therapy or "
        "6–12 months of anticoagulation per centre policy (Milinis 2018 Delphi)."
    ),
    "acute_thrombotic": (
        "Therapeutic anticoagulation for at least 3–6 months, at least as long as without "
        "thrombus removal (ESVS 2021, Class I); LMWH preferred for the first 2–6 weeks; "
        "reassess at 6–12 months; lifelong after recurrent DVT."
    ),
    "post_thrombotic": (
        "Long-term anticoagulation; LMWH preferred for the first 2–6 weeks (Milinis 2018 Delphi)."
    ),
    "ivc_reconstruction": (
        "Long-term anticoagulation; LMWH preferred for the first 2–6 weeks (Milinis 2018 Delphi)."
    ),
    "acute_no_stent": (
        "Therapeutic anticoagulation for at least 3 months, at least as long as without "
        "thrombus removal (ESVS 2021, Class I)."
    ),
}

_ACCESS_SITE = {
    "popliteal_prone": "popliteal",
    "femoral": "femoral",
    "femoral_midthigh": "femoral_midthigh",
    "jugular": "jugular",
    "posterior_tibial": "posterior_tibial",
}
_SITE_LABEL = {
    "popliteal": "popliteal vein (prone)",
    "femoral": "common femoral vein",
    "femoral_midthigh": "mid-thigh femoral vein",
    "jugular": "internal jugular vein",
    "posterior_tibial": "posterior tibial vein",
}
_ILIAC = ("CIV", "EIV", "CFV")
# Summed lesion length above which general anaesthesia is proposed (provisional,
# docs/planning.md#anaesthesia).
_LONG_RECANALIZATION_MM = 150


class PlanRefused(Exception):
    """The case is not one a procedure is planned for (overall status)."""


@dataclass(frozen=True)
class PlanDefaults:
    """Centre-configurable numbers that no source fixes (provisional, docs/planning.md)."""

    # Heparin: commonly 70–100 IU/kg or 5000 IU; the ACT target is not verified in a source
    # (docs/planning.md#heparin-and-act).
    heparin_iu_per_kg: int = 80
    act_target_s: int | None = 250
    oversize_mm: float = 1.0
    landing_margin_mm: int = 10
    overlap_mm: int = 15
    base_sheaths_french: tuple[float, ...] = (6, 10)  # the reference lecture: "6F + 10F sheath"
    balloon_length_mm: int = 40  # post-dilation balloon length preferred from the catalogue


@dataclass(frozen=True)
class EquipmentSize:
    id: int | None
    label: str
    diameter_mm: float | None = None
    length_mm: int | None = None
    french: float | None = None


@dataclass(frozen=True)
class Equipment:
    """A catalogue device other than a stent, with what the planner uses it for."""

    id: int | None
    name: str
    use: str  # planning.PlannerUse value
    notes: str = ""
    sizes: tuple[EquipmentSize, ...] = ()


@dataclass(frozen=True)
class AccessPlan:
    site: str  # planning.AccessSiteCode value
    side: str  # left | right
    note: str = ""


@dataclass(frozen=True)
class DraftItem:
    phase: str
    category: str
    text: str
    device_id: int | None = None
    size_id: int | None = None


@dataclass
class PlanDraft:
    scenario: str
    positioning: str
    anaesthesia: str
    anaesthesia_reason: str
    bilateral_access: bool
    jugular: str
    bilateral_extension: bool
    confluence_technique: str
    heparin_iu_per_kg: int
    act_target_s: int | None
    antithrombotic_regimen: str
    follow_up_entity: str
    access_sites: list[AccessPlan] = field(default_factory=list)
    stents: list[StentRow] = field(default_factory=list)
    items: list[DraftItem] = field(default_factory=list)


def scenario_for(lesion_entity: str | None, segments: Collection[str]) -> str:
    """Checklist scenario (docs/planning.md#checklists): acute → thrombus removal; NIVL → NIVL
    stenting (a CIV stent that protrudes into the IVC is still NIVL); IVC occlusion, atresia and
    post-thrombotic disease reaching the IVC → IVC reconstruction; other post-thrombotic →
    recanalization."""
    if lesion_entity == "acute_thrombotic":
        return "acute_thrombus_removal"
    if lesion_entity == "nivl":
        return "nivl_stenting"
    if lesion_entity in ("ivc_occlusion", "iliocaval_atresia") or "IVC" in segments:
        return "ivc_reconstruction"
    return "chronic_recanalization"


def anaesthesia_for(
    lesion_entity: str | None, measurements: Collection[Measurement], bilateral_extension: bool
) -> tuple[str, str]:
    """Sedo-analgesia or general anaesthesia, with the reason (docs/planning.md#anaesthesia:
    general anaesthesia for long recanalizations and painful high-pressure dilation of chronic
    occlusions; provisional)."""
    stentable = [m for m in measurements if m.segment in STENTABLE_SEGMENTS and m.diseased]
    chronic = lesion_entity not in (None, "acute_thrombotic")
    if bilateral_extension:
        return "general", "bilateral caval reconstruction: long procedure, several accesses"
    if chronic and any(m.finding == "occlusion" for m in stentable):
        return "general", "recanalization of a chronic occlusion: painful high-pressure dilation"
    total = sum(m.lesion_length_mm or 0 for m in stentable)
    if total > _LONG_RECANALIZATION_MM:
        return "general", f"long recanalization ({total} mm of diseased vein)"
    if lesion_entity == "acute_thrombotic":
        return "sedo_analgesia", "thrombus removal in the prone position"
    return "sedo_analgesia", "short stenting of a stenosis"


def _disease_side(measurements: Collection[Measurement], side: str | None) -> str:
    if side in ("left", "right"):
        return side
    weight = {"left": 0, "right": 0}
    for m in measurements:
        if m.side in weight and m.diseased and m.segment in _ILIAC:
            weight[m.side] += 1
    return "right" if weight["right"] > weight["left"] else "left"


def access_sites_for(
    planning: Mapping[str, Any], side: str | None, measurements: Collection[Measurement]
) -> list[AccessPlan]:
    """Primary access first (the engine's ``primary_access`` on the diseased side), the same
    access on the other leg when disease is bilateral, a contralateral femoral access when
    only the IVC makes access bilateral (docs/planning.md#access), then the right internal
    jugular when the engine recommends it (crossing from above / through-and-through)."""
    primary = _ACCESS_SITE[planning["primary_access"]]
    main_side = _disease_side(measurements, side)
    other = "right" if main_side == "left" else "left"
    jugular_side = "right"
    if primary == "jugular":
        sites = [AccessPlan("jugular", jugular_side, "primary: crossing from above")]
    else:
        sites = [AccessPlan(primary, main_side, "primary, ultrasound-guided")]
    if planning.get("bilateral_access") and primary != "jugular":
        diseased_other = any(
            m.side == other and m.diseased and m.segment in _ILIAC for m in measurements
        )
        site = primary if side == "bilateral" or diseased_other else "femoral"
        note = "contralateral limb" if site == primary else "contralateral, for the confluence"
        sites.append(AccessPlan(site, other, note))
    if planning.get("jugular") == "recommended" and primary != "jugular":
        sites.append(AccessPlan("jugular", jugular_side, "crossing from above"))
    return sites


def open_contraindications(facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Known contraindications (docs/planning.md#contraindications): those of DEV-IFU-CONTRA
    (manufacturer contraindications of the Atlas Venous Stent, INVAMED 2023) and the provisional
    extras, as (code, label) pairs. Only recorded values count; unknown is not a
    contraindication."""
    checks = [
        ("severe_tortuosity", facts.get("severe_tortuosity") is True, "Severe vessel tortuosity"),
        ("diameter_mismatch", facts.get("diameter_mismatch") is True, "Diameter mismatch"),
        ("active_infection", facts.get("active_infection") is True, "Active local infection"),
        (
            "endovascular_contraindication",
            facts.get("endovascular_contraindication") is True,
            "General contraindication to endovascular procedures",
        ),
        ("pregnancy", facts.get("pregnancy") is True, "Pregnancy (elective stenting deferred)"),
        ("inflow", facts.get("inflow") == "poor", "No good inflow (SIR-2023-CIVO-05(c))"),
        (
            "long_term_anticoagulation_possible",
            facts.get("long_term_anticoagulation_possible") is False,
            "Antithrombotic therapy not possible",
        ),
    ]
    return [(code, label) for code, hit, label in checks if hit]


def _first(equipment: Sequence[Equipment], use: str) -> list[Equipment]:
    return [e for e in equipment if e.use == use]


def _sheath_size(sheath: Equipment, french: float) -> EquipmentSize | None:
    fitting = [s for s in sheath.sizes if s.french is not None and s.french >= french]
    return min(fitting, key=lambda s: s.french or 0) if fitting else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _equipment_items(
    *,
    equipment: Sequence[Equipment],
    stents: Sequence[StentRow],
    access_count: int,
    occlusion: bool,
    defaults: PlanDefaults,
) -> list[DraftItem]:
    items: list[DraftItem] = []
    prep = "preparation"
    sheaths = _first(equipment, "sheath")
    sheath = sheaths[0] if sheaths else None
    needed = dict.fromkeys(defaults.base_sheaths_french, "")
    for row in stents:
        if row.size is not None and row.size.french is not None:
            french = row.size.french
            if french > max(needed):
                label = row.device.name if row.device else "stent"
                needed[french] = f" for {label} {row.size.label} ({row.segment})"
    for french, why in sorted(needed.items()):
        size = _sheath_size(sheath, french) if sheath else None
        count = f"{access_count} × " if access_count > 1 and not why else ""
        text = f"{count}Sheath {_fmt(size.french if size and size.french else french)} F{why}"
        items.append(
            DraftItem(
                prep, "sheath", text, sheath.id if sheath else None, size.id if size else None
            )
        )
    for wire in _first(equipment, "working_wire"):
        items.append(DraftItem(prep, "wire", wire.name, wire.id))
    if occlusion:
        for wire in _first(equipment, "cto_wire"):
            note = f" — {wire.notes}" if wire.notes else ""
            items.append(DraftItem(prep, "wire", f"CTO wire: {wire.name}{note}", wire.id))
    for catheter in _first(equipment, "support_catheter"):
        items.append(DraftItem(prep, "catheter", catheter.name, catheter.id))
    for ivus in _first(equipment, "ivus"):
        items.append(DraftItem(prep, "imaging", ivus.name, ivus.id))
    balloons = _first(equipment, "nc_balloon")
    balloon = balloons[0] if balloons else None
    diameters = sorted({row.diameter_mm for row in stents}, reverse=True)
    if balloon is None:
        items.append(DraftItem(prep, "balloon", "High-pressure non-compliant balloon"))
    elif not diameters:
        items.append(DraftItem(prep, "balloon", f"{balloon.name}, sizes per IVUS", balloon.id))
    if balloon is not None:
        for diameter in diameters:
            fitting = [s for s in balloon.sizes if s.diameter_mm is not None]
            size = (
                min(
                    fitting,
                    key=lambda s: (
                        abs((s.diameter_mm or 0) - diameter),
                        abs((s.length_mm or 0) - defaults.balloon_length_mm),
                    ),
                )
                if fitting
                else None
            )
            segments = ", ".join(
                r.segment if r.side == "midline" else f"{r.side} {r.segment}"
                for r in stents
                if r.diameter_mm == diameter
            )
            label = size.label if size else f"{_fmt(diameter)} mm"
            items.append(
                DraftItem(
                    prep,
                    "balloon",
                    f"{balloon.name} {label} (post-dilation: {segments})",
                    balloon.id,
                    size.id if size else None,
                )
            )
    for manometer in _first(equipment, "manometer"):
        items.append(DraftItem(prep, "balloon", manometer.name, manometer.id))
    return items


def draft_plan(
    *,
    overall: str,
    planning: Mapping[str, Any] | None,
    follow_up_entity: str | None,
    lesion_entity: str | None,
    side: str | None,
    measurements: Collection[Measurement],
    stent_catalogue: Collection[StentModel],
    equipment: Sequence[Equipment],
    defaults: PlanDefaults = PlanDefaults(),
) -> PlanDraft:
    """The plan a careful operator prepares for this case (see module docstring).

    Raises :class:`PlanRefused` unless ``overall`` is etr_candidate, stent_indicated or
    stent_conflict (docs/planning.md#planning-block: planning outputs exist only then).
    """
    if overall not in PLANNING_STATUSES or planning is None:
        raise PlanRefused(overall)
    segments = [m.segment for m in measurements if m.diseased]
    bilateral_extension = bool(planning.get("bilateral_extension"))
    scenario = scenario_for(lesion_entity, segments)
    stents = propose_stents(
        measurements,
        stent_catalogue,
        segments=list(planning.get("stent_diameter_mm") or {}),
        oversize_mm=defaults.oversize_mm,
        landing_margin_mm=defaults.landing_margin_mm,
        overlap_mm=defaults.overlap_mm,
    )
    access = access_sites_for(planning, side, measurements)
    prone = any(a.site == "popliteal" for a in access)
    anaesthesia, why = anaesthesia_for(lesion_entity, measurements, bilateral_extension)
    occlusion = any(
        m.finding == "occlusion" and m.segment in STENTABLE_SEGMENTS for m in measurements
    )
    regimen_key = follow_up_entity or (
        "acute_no_stent" if lesion_entity == "acute_thrombotic" else "post_thrombotic"
    )
    prep = "preparation"
    items = [
        DraftItem(
            prep,
            "positioning",
            "Positioning: prone (popliteal access)" if prone else "Positioning: supine",
        ),
        DraftItem(prep, "other", "Urinary catheter"),
        DraftItem(prep, "imaging", "High-end ultrasound machine for ultrasound-guided access"),
        DraftItem(
            prep,
            "access",
            "Access sites marked and checked by ultrasound: "
            + "; ".join(
                f"{a.side} {_SITE_LABEL[a.site]}" + (" (primary)" if i == 0 else "")
                for i, a in enumerate(access)
            ),
        ),
    ]
    if planning.get("jugular") == "optional":
        items.append(
            DraftItem(prep, "access", "Neck prepared for an optional right internal jugular access")
        )
    items += _equipment_items(
        equipment=equipment,
        stents=stents,
        access_count=len(access),
        occlusion=occlusion,
        defaults=defaults,
    )
    if stents:
        items.append(
            DraftItem(prep, "stent", "Planned stents (see stent plan) and a spare size available")
        )
    else:
        items.append(
            DraftItem(
                prep,
                "stent",
                "Dedicated venous stents available in case IVUS shows an underlying lesion",
            )
        )
    items.append(
        DraftItem(
            prep,
            "anaesthesia",
            ("General anaesthesia" if anaesthesia == "general" else "Sedo-analgesia") + f" — {why}",
        )
    )
    act = (
        f"; ACT checks (target {defaults.act_target_s} s;"
        " a practice value, not set by the guidelines)"
        if defaults.act_target_s
        else "; ACT checks"
    )
    items.append(
        DraftItem(
            prep,
            "anticoagulation",
            f"Unfractionated heparin {defaults.heparin_iu_per_kg} IU/kg IV after access{act}",
        )
    )
    return PlanDraft(
        scenario=scenario,
        positioning="prone" if prone else "supine",
        anaesthesia=anaesthesia,
        anaesthesia_reason=why,
        bilateral_access=bool(planning.get("bilateral_access")),
        jugular=str(planning.get("jugular") or "optional"),
        bilateral_extension=bilateral_extension,
        # docs/planning.md#inverted-y-extension: a long caval lesion gets a large IVC stent with
        # iliac limbs landing inside it; double-barrel or Y-fenestration are the clinician's
        # choice for the confluence alone.
        confluence_technique=(
            "neo_cava" if bilateral_extension and any(r.segment == "IVC" for r in stents) else ""
        ),
        heparin_iu_per_kg=defaults.heparin_iu_per_kg,
        act_target_s=defaults.act_target_s,
        antithrombotic_regimen=ANTITHROMBOTIC_DEFAULTS[regimen_key],
        follow_up_entity=follow_up_entity or "",
        access_sites=access,
        stents=stents,
        items=items,
    )
