"""Procedure planning block of the evaluation contract (docs/planning.md#planning-block).

Pure Python, no ORM: the guideline engine calls :func:`plan` once per evaluation, and the
planning app (``planning/sizing.py``, which sizes stents against the catalogue) builds on
:data:`STENT_DEFAULTS` and :func:`default_diameter_mm`. Everything here answers "what does a
careful operator prepare for" from the coded case facts alone; it never replaces IVUS sizing
on the table (size to the healthy reference segment above and below the lesion,
docs/planning.md#stent-sizing).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from guidelines.vocabulary import STENTABLE_SEGMENTS

__all__ = [
    "STENT_DEFAULTS",
    "StentDefault",
    "access_options",
    "default_diameter_mm",
    "follow_up_entity",
    "plan",
]


@dataclass(frozen=True)
class StentDefault:
    """Default stent diameter range for one segment (docs/planning.md#default-stent-diameters).

    ``typical_mm`` is the typical diameter where the app has one (CIV 16, EIV 14); IVC and CFV
    have a range only.
    """

    min_mm: int
    max_mm: int
    typical_mm: int | None = None


# The app's default ranges (provisional). IVUS reference areas (Jayaraj et al., J Vasc Surg
# Venous Lymphat Disord 2021;9:1408–1415): CIV 200 mm² ≈ 16 mm, EIV 150 mm² ≈ 14 mm,
# CFV 125 mm² ≈ 12-13 mm; IVC: large-diameter stents (Wallstent 20-24 mm, sinus-XL 16-36 mm).
STENT_DEFAULTS: dict[str, StentDefault] = {
    "IVC": StentDefault(18, 24),
    "CIV": StentDefault(14, 18, 16),
    "EIV": StentDefault(12, 16, 14),
    "CFV": StentDefault(12, 14),
}


def default_diameter_mm(segment: str) -> int | float:
    """Proposed diameter without per-segment measurements: the typical value, else the
    midpoint of the app's default range.

    The midpoint reproduces the typical values where both exist (CIV 14-18 -> 16,
    EIV 12-16 -> 14) and gives IVC 21 mm (18-24) and CFV 13 mm (12-14, matching the 12-13 mm
    reference diameter). Integral results are returned as int. Raises KeyError for a segment
    that is not stentable.
    """
    default = STENT_DEFAULTS[segment]
    if default.typical_mm is not None:
        return default.typical_mm
    middle = (default.min_mm + default.max_mm) / 2
    return int(middle) if middle.is_integer() else middle


def access_options(lesion_entity: str | None, segments: Collection[str]) -> list[str]:
    """Acceptable primary access, ipsilateral unless stated, best first (docs/planning.md#access).

    - acute thrombotic: popliteal vein, prone; when the popliteal vein itself is thrombosed
      (POPV involved) the internal jugular (from above) or a posterior tibial vein.
    - NIVL without CFV disease: CFV or mid-thigh FV ("femoral").
    - any chronic lesion with CFV disease: access below the disease with good inflow,
      mid-thigh FV or popliteal (prone).
    - chronic without CFV disease (non-NIVL): femoral, mid-thigh FV or popliteal.
    """
    if lesion_entity == "acute_thrombotic":
        return ["jugular", "posterior_tibial"] if "POPV" in segments else ["popliteal_prone"]
    cfv = "CFV" in segments
    if lesion_entity == "nivl" and not cfv:
        return ["femoral"]
    if cfv:
        return ["femoral_midthigh", "popliteal_prone"]
    # Chronic without CFV disease; also the fallback for an unrecorded entity, which the
    # engine never plans for (planning needs a known entity).
    return ["femoral", "femoral_midthigh", "popliteal_prone"]


def follow_up_entity(lesion_entity: str | None, segments: Collection[str]) -> str | None:
    """The follow-up entity of a stented case (docs/followup.md#follow-up-entity).

    acute_thrombotic -> acute_thrombotic even with the IVC involved; chronic_post_thrombotic ->
    ivc_reconstruction when the IVC is involved, else post_thrombotic; nivl -> nivl;
    ivc_occlusion and iliocaval_atresia -> ivc_reconstruction.
    """
    if lesion_entity == "acute_thrombotic":
        return "acute_thrombotic"
    if lesion_entity == "chronic_post_thrombotic":
        return "ivc_reconstruction" if "IVC" in segments else "post_thrombotic"
    if lesion_entity == "nivl":
        return "nivl"
    if lesion_entity in ("ivc_occlusion", "iliocaval_atresia"):
        return "ivc_reconstruction"
    return None


def plan(
    *,
    lesion_entity: str | None,
    segments: Collection[str] | None,
    side: str | None,
    stent_pathway_active: bool,
) -> tuple[dict[str, Any], str | None]:
    """The contract's ``planning`` block and ``follow_up_entity`` (docs/planning.md#planning-block).

    Called only when the overall status is etr_candidate, stent_indicated or stent_conflict.

    - bilateral_access: IVC involved or ``side == "bilateral"``; an unrecorded side is not
      bilateral.
    - jugular: "recommended" when the IVC is involved, the disease is bilateral, or the jugular
      vein is a primary access option (acute case with thrombosed POPV); else "optional".
    - bilateral_extension (inverted-Y, docs/planning.md#inverted-y-extension): IVC involved and
      both iliac axes diseased, operationally ``side == "bilateral"`` and CIV or EIV involved.
      A unilateral CIV stent protruding into the IVC is not a bilateral extension.
    - stent_diameter_mm: every involved stentable segment (IVC, CIV, EIV, CFV) once the stent
      pathway is active, none for other segments; ``{}`` without a stent.
    - follow_up_entity: only when a stent is part of the plan.
    """
    involved = frozenset(segments or ())
    options = access_options(lesion_entity, involved)
    ivc = "IVC" in involved
    bilateral = side == "bilateral"
    planning = {
        "primary_access": options[0],
        "access_options": options,
        "bilateral_access": ivc or bilateral,
        "jugular": "recommended" if ivc or bilateral or "jugular" in options else "optional",
        "bilateral_extension": ivc and bilateral and ("CIV" in involved or "EIV" in involved),
        "stent_diameter_mm": (
            {s: default_diameter_mm(s) for s in STENTABLE_SEGMENTS if s in involved}
            if stent_pathway_active
            else {}
        ),
    }
    entity = follow_up_entity(lesion_entity, involved) if stent_pathway_active else None
    return planning, entity
