"""Stent sizing against the device catalogue (docs/planning.md#stent-sizing).

Everything here is pure: the planning app turns catalogue rows and segment findings into the
dataclasses here, and stores what comes back. Numbers no source fixes (provisional,
docs/README.md#how-sure-a-fact-is) are parameters with defaults, never literals buried in the
arithmetic. The default diameters per segment are those of the evaluation contract's planning
block (``guidelines/planning_block.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from itertools import pairwise

from cases.vocabulary import STENTABLE_SEGMENTS
from guidelines.planning_block import STENT_DEFAULTS, default_diameter_mm

# Provisional defaults (docs/planning.md#stent-sizing): slight oversizing of about 1–2 mm is
# common for nitinol stents; a healthy landing zone at each free stent end; an overlap of about
# 1–2 cm between nitinol stents.
OVERSIZE_MM = 1.0
LANDING_MARGIN_MM = 10
OVERLAP_MM = 15
MAX_DIAMETER_STEP_MM = 4.0  # larger steps between adjacent stents are flagged
# A stent longer than it needs to be (lesion plus landing margins, plus overlaps) by more than
# this lands in healthy vein or across the inguinal ligament without need (settings:
# PLANNING_EXCESS_LENGTH_MM).
MAX_EXCESS_LENGTH_MM = 40
MAX_LENGTH_MM = 300  # longer than any single stent; a longer lesion needs overlapping stents
# Typical lengths of a diseased segment when nothing was measured (provisional): a starting
# point for the order list, to be replaced by the IVUS/venography measurement.
DEFAULT_LESION_LENGTH_MM: dict[str, int] = {"IVC": 80, "CIV": 50, "EIV": 80, "CFV": 40}

# Each side's iliac axis from cranial to caudal; the IVC (midline) sits above both.
AXIS = STENTABLE_SEGMENTS
INFLOW_SEGMENTS = ("FV", "DFV")
_SIDE_ORDER = {"midline": 0, "right": 1, "left": 2}

Site = tuple[str, str]  # (segment, side); the IVC's side is "midline"


@dataclass(frozen=True)
class Measurement:
    """One segment finding as the planner reads it (cases.SegmentFinding)."""

    segment: str
    side: str
    finding: str
    reference_diameter_mm: float | None = None
    lesion_length_mm: int | None = None
    area_reduction_pct: int | None = None
    reference_area_mm2: float | None = None

    @property
    def diseased(self) -> bool:
        return self.finding != "normal"


@dataclass(frozen=True)
class StentSize:
    id: int | None
    diameter_mm: float
    length_mm: int
    french: float | None = None
    verified: bool = False

    @property
    def label(self) -> str:
        return f"{_mm(self.diameter_mm)} × {self.length_mm} mm"


@dataclass(frozen=True)
class StentModel:
    """A catalogue stent with its active sizes (planning.Device of kind stent)."""

    id: int | None
    name: str
    dedicated: bool = True
    segments: tuple[str, ...] = ()
    sizes: tuple[StentSize, ...] = ()


@dataclass(frozen=True)
class StentRow:
    """A stent of a plan: proposed by :func:`propose_stents` or as the clinician changed it."""

    segment: str
    side: str
    device: StentModel | None
    size: StentSize | None
    diameter_mm: float
    length_mm: int
    target_diameter_mm: float | None = None
    required_length_mm: int | None = None
    basis: str = ""

    @property
    def site(self) -> Site:
        return (self.segment, self.side)


@dataclass(frozen=True)
class PlanWarning:
    """A sizing problem the clinician must see; ``code`` is stable, ``message`` is for people."""

    code: str
    message: str
    segment: str | None = None
    side: str | None = None


def _mm(value: float) -> str:
    return f"{value:g}"


def diameter_from_area_mm2(area_mm2: float) -> float:
    """Diameter of the circle with this cross-sectional area (IVUS reports areas; Jayaraj 2021
    references: CIV 200 mm² ≈ 16 mm, EIV 150 mm² ≈ 14 mm, CFV 125 mm² ≈ 12.6 mm)."""
    from math import pi, sqrt

    if area_mm2 <= 0:
        raise ValueError("area must be positive")
    return round(2 * sqrt(area_mm2 / pi), 1)


def stent_sites(
    measurements: Collection[Measurement], segments: Collection[str] | None = None
) -> list[Site]:
    """The (segment, side) pairs that get a stent: every diseased stentable segment, limited to
    ``segments`` when given (the engine's ``stent_diameter_mm`` keys,
    docs/planning.md#planning-block), ordered IVC first, then each side cranial to caudal (right
    before left, as the diagram reads)."""
    wanted = set(STENT_DEFAULTS if segments is None else segments) & set(STENT_DEFAULTS)
    sites = {
        (m.segment, "midline" if m.segment == "IVC" else m.side)
        for m in measurements
        if m.diseased and m.segment in wanted
    }
    return sorted(sites, key=lambda s: (_SIDE_ORDER.get(s[1], 3), AXIS.index(s[0])))


def target_diameter_mm(
    segment: str,
    reference_mm: float | None,
    *,
    oversize_mm: float = OVERSIZE_MM,
    reference_area_mm2: float | None = None,
) -> tuple[float, str]:
    """Diameter to aim for and why (docs/planning.md#stent-sizing): the healthy reference
    diameter (measured, else derived from the IVUS reference area) plus the oversizing, kept
    within the app's range for the segment; the default diameter when nothing was measured."""
    default = STENT_DEFAULTS[segment]
    reference = f"reference {_mm(reference_mm)} mm" if reference_mm is not None else ""
    if reference_mm is None and reference_area_mm2:
        reference_mm = diameter_from_area_mm2(reference_area_mm2)
        reference = f"reference area {_mm(reference_area_mm2)} mm² ≈ {_mm(reference_mm)} mm"
    if reference_mm is None:
        value = float(default_diameter_mm(segment))
        return value, (
            f"no reference diameter measured: default {_mm(value)} mm for the segment "
            f"(range {default.min_mm}–{default.max_mm} mm)"
        )
    wanted = reference_mm + oversize_mm
    value = min(max(wanted, default.min_mm), default.max_mm)
    basis = f"{reference} + {_mm(oversize_mm)} mm oversizing"
    if value != wanted:
        basis += f", kept within the usual range {default.min_mm}–{default.max_mm} mm"
    return value, basis


def _neighbours(site: Site) -> tuple[list[Site], list[Site]]:
    """Sites just above and just below ``site`` on the venous tree."""
    segment, side = site
    if segment == "IVC":
        return [], [("CIV", "right"), ("CIV", "left")]
    index = AXIS.index(segment)
    above = AXIS[index - 1]
    cranial = [("IVC", "midline")] if above == "IVC" else [(above, side)]
    if segment == "CFV":
        caudal = [(inflow, side) for inflow in INFLOW_SEGMENTS]
    else:
        caudal = [(AXIS[index + 1], side)]
    return cranial, caudal


def required_length_mm(
    site: Site,
    lesion_length_mm: int | None,
    stented: Collection[Site],
    *,
    landing_margin_mm: int = LANDING_MARGIN_MM,
    overlap_mm: int = OVERLAP_MM,
) -> tuple[int, str]:
    """Lesion length plus what each end needs (docs/planning.md#stent-sizing): a healthy
    landing margin at a free end; at an end that meets a stent of the segment above, the overlap
    into that stent (the caudal stent of a pair carries the overlap, so the cranial one only
    covers its lesion)."""
    segment = site[0]
    measured = lesion_length_mm is not None
    lesion = lesion_length_mm if lesion_length_mm is not None else DEFAULT_LESION_LENGTH_MM[segment]
    cranial, caudal = _neighbours(site)
    parts = [f"lesion {lesion} mm" + ("" if measured else " (not measured: typical length)")]
    if any(s in stented for s in cranial):
        top = overlap_mm
        parts.append(f"{top} mm overlap into the stent above")
    else:
        top = landing_margin_mm
        parts.append(
            f"{top} mm across the iliocaval junction into the IVC"
            if segment == "CIV"
            else f"{top} mm cranial landing"
        )
    if segment == "CFV":
        bottom = 0  # down to, not beyond, the FV/DFV confluence
        parts.append("caudal end at the FV/DFV confluence")
    elif any(s in stented for s in caudal):
        bottom = 0  # the stent below overlaps into this one
    else:
        bottom = landing_margin_mm
        parts.append(f"{bottom} mm caudal landing")
    return lesion + top + bottom, " + ".join(parts)


def nearest_size(
    sizes: Collection[StentSize], diameter_mm: float, length_mm: int
) -> tuple[StentSize | None, bool]:
    """The catalogue size for a target: the nearest diameter (a tie goes to the larger one,
    since undersizing risks migration), then the shortest length that is at least the target
    (rounding up covers the lesion); a verified row wins over an unverified one of the same
    dimensions. Returns ``(size, long_enough)``; ``long_enough`` is False when even the
    longest length at that diameter is shorter than the target."""
    if not sizes:
        return None, False
    best_distance = min(abs(s.diameter_mm - diameter_mm) for s in sizes)
    diameter = max(
        s.diameter_mm for s in sizes if abs(s.diameter_mm - diameter_mm) == best_distance
    )
    candidates = [s for s in sizes if s.diameter_mm == diameter]
    long_enough = [s for s in candidates if s.length_mm >= length_mm]
    if long_enough:
        pool, ok = long_enough, True
        length = min(s.length_mm for s in pool)
    else:
        pool, ok = candidates, False
        length = max(s.length_mm for s in pool)
    chosen = [s for s in pool if s.length_mm == length]
    return sorted(chosen, key=lambda s: (not s.verified, s.id or 0))[0], ok


def choose_stent(
    segment: str, catalogue: Collection[StentModel], diameter_mm: float
) -> StentModel | None:
    """The stent the planner proposes for ``segment`` (one listing it among its segments and
    offering sizes): dedicated venous stents before non-dedicated ones, then one with a
    verified size within 1 mm of the target (prefer the verified catalogue,
    docs/planning.md#stent-sizing), then one offering the target diameter exactly; catalogue
    order breaks ties."""
    suited = [m for m in catalogue if segment in m.segments and m.sizes]
    if not suited:
        return None

    def rank(model: StentModel) -> tuple[bool, bool, bool]:
        verified = any(s.verified and abs(s.diameter_mm - diameter_mm) <= 1 for s in model.sizes)
        exact = any(s.diameter_mm == diameter_mm for s in model.sizes)
        return (not model.dedicated, not verified, not exact)

    return sorted(suited, key=rank)[0]  # sorted() is stable: catalogue order breaks ties


def propose_stents(
    measurements: Collection[Measurement],
    catalogue: Collection[StentModel],
    *,
    segments: Collection[str] | None = None,
    chosen: dict[Site, StentModel] | None = None,
    oversize_mm: float = OVERSIZE_MM,
    landing_margin_mm: int = LANDING_MARGIN_MM,
    overlap_mm: int = OVERLAP_MM,
) -> list[StentRow]:
    """A stent per site (:func:`stent_sites`) with a catalogue size: target diameter from the
    reference (:func:`target_diameter_mm`), target length from the lesion and its ends
    (:func:`required_length_mm`), rounded to the nearest catalogue size of the chosen device
    (``chosen`` per site while it offers a size within 1 mm of the target, else
    :func:`choose_stent`). Without a fitting device the targets are
    kept (length rounded up to 10 mm, at most ``MAX_LENGTH_MM``) and :func:`stent_warnings`
    reports it (a lesion longer than one stent gets ``too_short``)."""
    by_site = {(m.segment, "midline" if m.segment == "IVC" else m.side): m for m in measurements}
    sites = stent_sites(measurements, segments)
    rows = []
    for site in sites:
        found = by_site[site]
        diameter, diameter_basis = target_diameter_mm(
            site[0],
            found.reference_diameter_mm,
            oversize_mm=oversize_mm,
            reference_area_mm2=found.reference_area_mm2,
        )
        length, length_basis = required_length_mm(
            site,
            found.lesion_length_mm,
            sites,
            landing_margin_mm=landing_margin_mm,
            overlap_mm=overlap_mm,
        )
        device = (chosen or {}).get(site)
        if device is not None and not any(abs(s.diameter_mm - diameter) <= 1 for s in device.sizes):
            diameter_basis += f" ({device.name} has no size near it)"
            device = None
        device = device or choose_stent(site[0], catalogue, diameter)
        size = None
        if device is not None:
            size, _ = nearest_size(device.sizes, diameter, length)
        rows.append(
            StentRow(
                segment=site[0],
                side=site[1],
                device=device,
                size=size,
                diameter_mm=size.diameter_mm if size else diameter,
                length_mm=size.length_mm if size else min(-(-length // 10) * 10, MAX_LENGTH_MM),
                target_diameter_mm=diameter,
                required_length_mm=length,
                basis=f"Ø {diameter_basis}; length {length_basis} = {length} mm",
            )
        )
    return rows


def _where(row: StentRow) -> str:
    return row.segment if row.side == "midline" else f"{row.side} {row.segment}"


def stent_warnings(
    rows: Collection[StentRow],
    measurements: Collection[Measurement],
    *,
    sheath_french: float | None,
    max_step_mm: float = MAX_DIAMETER_STEP_MM,
    max_excess_mm: int = MAX_EXCESS_LENGTH_MM,
) -> list[PlanWarning]:
    """Everything about a plan's stents the clinician must look at before signing:

    - ``no_device``/``no_size``: nothing in the catalogue fits, or the row has no catalogue
      size (never propose a size not present in the catalogue without a warning,
      docs/planning.md#device-catalogue);
    - ``unverified_size``: this exact size is not confirmed in the maker's published size
      matrix (docs/safety.md#verified-device-sizes: a verified range does not verify every
      size in it);
    - ``too_short``: the longest catalogue length is shorter than the lesion needs;
    - ``too_long``: the stent is longer than needed by more than ``max_excess_mm``;
    - ``out_of_range``: the diameter lies outside the app's range for the segment
      (docs/planning.md#default-stent-diameters);
    - ``non_dedicated``: a non-dedicated (arterial/braided) stent such as Wallstent;
    - ``diameter_step``: adjacent stents on one iliac axis differ by more than ``max_step_mm``
      (the IVC–iliac step is expected, the IVC being wider);
    - ``sheath_too_small``: the stent needs a larger sheath than the plan prepares;
    - ``diseased_landing``: a stent end lands in (or drains from) a diseased segment that is
      not stented itself (treat from healthy inflow to healthy outflow).
    """
    out: list[PlanWarning] = []
    by_site = {row.site: row for row in rows}
    findings = {(m.segment, "midline" if m.segment == "IVC" else m.side): m for m in measurements}
    for row in rows:
        where = _where(row)

        def warn(code: str, message: str, row: StentRow = row) -> None:
            out.append(PlanWarning(code, message, row.segment, row.side))

        if row.device is None:
            warn("no_device", f"{where}: no stent in the catalogue suits this segment.")
        elif row.size is None:
            warn(
                "no_size",
                f"{where}: {_mm(row.diameter_mm)} × {row.length_mm} mm is not a catalogue size "
                f"of {row.device.name}.",
            )
        elif not row.size.verified:
            warn(
                "unverified_size",
                f"{where}: {row.device.name} {row.size.label}: size not verified in the maker's "
                "matrix; check availability and the size before ordering.",
            )
        if row.required_length_mm and row.length_mm < row.required_length_mm:
            warn(
                "too_short",
                f"{where}: {row.length_mm} mm is shorter than the {row.required_length_mm} mm "
                "needed; plan a second, overlapping stent.",
            )
        elif row.required_length_mm and row.length_mm - row.required_length_mm > max_excess_mm:
            warn(
                "too_long",
                f"{where}: {row.length_mm} mm is {row.length_mm - row.required_length_mm} mm "
                f"longer than the {row.required_length_mm} mm needed (lesion, landing margins "
                f"and overlaps); more than {max_excess_mm} mm more: check that it does not "
                "land in healthy vein or cross the inguinal ligament without need.",
            )
        default = STENT_DEFAULTS.get(row.segment)
        if default and not default.min_mm <= row.diameter_mm <= default.max_mm:
            warn(
                "out_of_range",
                f"{where}: Ø {_mm(row.diameter_mm)} mm is outside the usual "
                f"{default.min_mm}–{default.max_mm} mm for this segment.",
            )
        if row.device is not None and not row.device.dedicated:
            warn(
                "non_dedicated",
                f"{where}: {row.device.name} is not a dedicated venous stent; prefer a "
                "dedicated one (foreshortening, more overlap needed).",
            )
        if (
            row.size is not None
            and row.size.french is not None
            and (sheath_french is None or row.size.french > sheath_french)
        ):
            have = "no sheath" if sheath_french is None else f"{_mm(sheath_french)} F"
            warn(
                "sheath_too_small",
                f"{where}: {row.device.name if row.device else 'the stent'} needs a "
                f"{_mm(row.size.french)} F sheath; the plan prepares {have}.",
            )
        cranial, caudal = _neighbours(row.site)
        for end, sites in (("cranial", cranial), ("caudal", caudal)):
            for site in sites:
                finding = findings.get(site)
                if site in by_site or finding is None or not finding.diseased:
                    continue
                name = site[0] if site[1] == "midline" else f"{site[1]} {site[0]}"
                if site[0] in INFLOW_SEGMENTS:
                    message = (
                        f"{where}: the stent drains a diseased {name} ({finding.finding}); "
                        "check the inflow (SIR-2023-CIVO-05(c))."
                    )
                else:
                    message = (
                        f"{where}: the {end} end lands next to a diseased {name} "
                        f"({finding.finding}); extend the stent or treat that segment."
                    )
                warn("diseased_landing", message)
    for side in ("right", "left"):
        axis = [by_site[(seg, side)] for seg in AXIS[1:] if (seg, side) in by_site]
        for upper, lower in pairwise(axis):
            if AXIS.index(lower.segment) - AXIS.index(upper.segment) != 1:
                continue
            step = abs(upper.diameter_mm - lower.diameter_mm)
            if step > max_step_mm:
                out.append(
                    PlanWarning(
                        "diameter_step",
                        f"{side} {upper.segment} Ø {_mm(upper.diameter_mm)} mm to "
                        f"{lower.segment} Ø {_mm(lower.diameter_mm)} mm: a step of "
                        f"{_mm(step)} mm (more than {_mm(max_step_mm)} mm).",
                        lower.segment,
                        side,
                    )
                )
    return out
