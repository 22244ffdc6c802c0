"""Surveillance after venous stenting, pure Python (no ORM): visit dates and windows, the
worklist status of a visit on a given day, and which duplex/clinical findings are abnormal.

Sources (docs/followup.md): the default schedules per follow-up entity are practice consensus
(provisional, configurable by guideline admins; docs/followup.md#default-protocols); the visit
windows are the app's (docs/followup.md#visit-windows); ISR ≥ 50 % is significant with the same
threshold as the trial patency definitions (verified); a peak-velocity ratio ≥ 2.5 suggests
≥ 50 % stenosis (provisional); loss of spontaneous phasic CFV flow means proximal obstruction
(provisional); new or non-healing ulcers, thrombus, occlusion and stent compression are
re-intervention triggers to review (docs/followup.md#abnormal-findings).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# --- dates ---------------------------------------------------------------------------------

DAYS, WEEKS, MONTHS = "days", "weeks", "months"


# Dates are held at the calendar's first or last day instead of leaving it: a procedure
# date stored before the entry limits existed (venousapp.dates), or through the admin, must
# not make a schedule, a window or a page fail.


def add_days(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; the 31st becomes the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    if year < dt.MINYEAR:
        return dt.date.min
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_offset(day: dt.date, value: int, unit: str) -> dt.date:
    if unit == DAYS:
        return add_days(day, value)
    if unit == WEEKS:
        return add_days(day, 7 * value)
    if unit == MONTHS:
        return add_months(day, value)
    raise ValueError(f"Unknown offset unit {unit!r}.")


# --- schedule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitTemplate:
    """One visit of a protocol: when after the procedure, what kind, how wide its window."""

    label: str
    offset_value: int
    offset_unit: str
    kind: str
    with_clinical: bool = True
    window_before_days: int = 0
    window_after_days: int = 0


@dataclass(frozen=True)
class ProtocolSpec:
    """What a protocol version says. ``yearly_until_years`` None means lifelong."""

    visits: tuple[VisitTemplate, ...]
    yearly_from_months: int | None = 24
    yearly_until_years: int | None = None
    yearly_kind: str = "duplex"
    yearly_with_clinical: bool = True
    yearly_window_days: int = 30
    due_soon_days: int = 14


@dataclass(frozen=True)
class PlannedVisit:
    sequence: int
    label: str
    kind: str
    with_clinical: bool
    target_on: dt.date
    earliest_on: dt.date
    latest_on: dt.date
    notice_on: dt.date


def _planned(
    sequence: int,
    label: str,
    kind: str,
    with_clinical: bool,
    target: dt.date,
    before: int,
    after: int,
    due_soon_days: int,
    not_before: dt.date,
) -> PlannedVisit:
    # No window opens before the procedure itself (the discharge visit is day 0–1).
    earliest = max(add_days(target, -before), not_before)
    return PlannedVisit(
        sequence=sequence,
        label=label,
        kind=kind,
        with_clinical=with_clinical,
        target_on=target,
        earliest_on=earliest,
        latest_on=add_days(target, after),
        notice_on=add_days(earliest, -due_soon_days),
    )


def yearly_label(months: int) -> str:
    return f"Year {months // 12}" if months % 12 == 0 else f"{months} months"


def plan_visits(
    spec: ProtocolSpec, *, start: dt.date, until: dt.date, after_sequence: int = 0
) -> list[PlannedVisit]:
    """Every visit of ``spec`` for a procedure on ``start`` whose target is on or before
    ``until`` (a bounded horizon; :func:`plan_visits` is called again with a later ``until``
    and ``after_sequence`` set to the last generated sequence to extend a lifelong schedule).

    Sequences are deterministic: the fixed visits are 1..n in protocol order, then the
    yearly visits n+1, n+2, ... so an extension never renumbers or repeats a visit.
    """
    out: list[PlannedVisit] = []
    sequence = 0
    for template in spec.visits:
        sequence += 1
        target = add_offset(start, template.offset_value, template.offset_unit)
        if sequence > after_sequence and target <= until:
            out.append(
                _planned(
                    sequence,
                    template.label,
                    template.kind,
                    template.with_clinical,
                    target,
                    template.window_before_days,
                    template.window_after_days,
                    spec.due_soon_days,
                    start,
                )
            )
    if spec.yearly_from_months is None:
        return out
    months = spec.yearly_from_months
    while spec.yearly_until_years is None or months <= spec.yearly_until_years * 12:
        sequence += 1
        target = add_months(start, months)
        if target > until:
            break
        if sequence > after_sequence:
            out.append(
                _planned(
                    sequence,
                    yearly_label(months),
                    spec.yearly_kind,
                    spec.yearly_with_clinical,
                    target,
                    spec.yearly_window_days,
                    spec.yearly_window_days,
                    spec.due_soon_days,
                    start,
                )
            )
        if target == dt.date.max:  # held at the calendar's end: no later year exists
            break
        months += 12
    return out


def schedule_is_open_ended(spec: ProtocolSpec, *, start: dt.date, horizon: dt.date) -> bool:
    """Whether visits after ``horizon`` remain to be generated lazily."""
    if spec.yearly_from_months is None:
        return False
    if spec.yearly_until_years is None:
        return True
    return add_months(start, spec.yearly_until_years * 12) > horizon


# --- worklist status -----------------------------------------------------------------------

UPCOMING, DUE_SOON, DUE, OVERDUE, MISSED = "upcoming", "due_soon", "due", "overdue", "missed"
DONE, CANCELLED = "done", "cancelled"
OPEN_STATUSES = (DUE_SOON, DUE, OVERDUE, MISSED)  # what the nurse's worklist shows


def visit_status(
    *,
    today: dt.date,
    notice_on: dt.date,
    earliest_on: dt.date,
    target_on: dt.date,
    latest_on: dt.date,
    state: str = "planned",
) -> str:
    """The worklist status of a visit on the centre's local ``today``.

    due soon: notice ≤ today < earliest; due: earliest ≤ today ≤ target;
    overdue: target < today ≤ latest; missed: the window has passed (today > latest).
    ``followup.selectors.status_expression`` is the same rule in SQL.
    """
    if state == "done":
        return DONE
    if state == "cancelled":
        return CANCELLED
    if today > latest_on:
        return MISSED
    if today > target_on:
        return OVERDUE
    if today >= earliest_on:
        return DUE
    if today >= notice_on:
        return DUE_SOON
    return UPCOMING


# --- abnormal findings ---------------------------------------------------------------------

ISR_THRESHOLD_PCT = 50  # ≥ 50 % significant, as in the trial patency definitions (verified)
PVR_THRESHOLD = Decimal("2.5")  # ≥ 2.5 suggests ≥ 50 % stenosis (provisional)

REASON_ISR = "isr"
REASON_PVR = "pvr"
REASON_OCCLUSION = "occlusion"
REASON_THROMBUS = "thrombus"
REASON_COMPRESSION = "compression"
REASON_PHASICITY = "phasicity"
REASON_ULCER = "ulcer"

REASON_LABELS = {
    REASON_OCCLUSION: "Stent occlusion",
    REASON_THROMBUS: "In-stent thrombus",
    REASON_ISR: "In-stent restenosis ≥ 50 %",
    REASON_PVR: "Peak-velocity ratio ≥ 2.5 (suggests ≥ 50 % stenosis)",
    REASON_COMPRESSION: "Stent compression or deformation",
    REASON_PHASICITY: "Loss of CFV phasicity (proximal obstruction)",
    REASON_ULCER: "New or non-healing ulcer",
}


@dataclass(frozen=True)
class SegmentReading:
    segment: str
    side: str
    patency: str  # "patent" | "occluded" | "not_assessed"
    in_stent_thrombus: bool | None = None
    isr_percent: int | None = None
    peak_velocity_ratio: Decimal | None = None
    compression: bool | None = None

    @property
    def name(self) -> str:
        return self.segment if self.side in ("", "midline") else f"{self.segment} {self.side}"


@dataclass(frozen=True)
class Abnormality:
    code: str
    where: str = ""

    @property
    def text(self) -> str:
        label = REASON_LABELS[self.code]
        return f"{label} ({self.where})" if self.where else label


@dataclass(frozen=True)
class Assessment:
    abnormalities: tuple[Abnormality, ...] = field(default_factory=tuple)

    @property
    def abnormal(self) -> bool:
        return bool(self.abnormalities)

    @property
    def codes(self) -> list[str]:
        return sorted({a.code for a in self.abnormalities})

    @property
    def texts(self) -> list[str]:
        return [a.text for a in self.abnormalities]


def assess(
    segments: Sequence[SegmentReading],
    *,
    phasicity: str = "",
    ulcer_status: str = "",
) -> Assessment:
    """The abnormal findings of one visit (docs/followup.md#abnormal-findings), in a stable
    order."""
    found: list[Abnormality] = []
    for seg in segments:
        if seg.patency == "occluded":
            found.append(Abnormality(REASON_OCCLUSION, seg.name))
        if seg.in_stent_thrombus:
            found.append(Abnormality(REASON_THROMBUS, seg.name))
        if seg.isr_percent is not None and seg.isr_percent >= ISR_THRESHOLD_PCT:
            found.append(Abnormality(REASON_ISR, f"{seg.name}, {seg.isr_percent} %"))
        if seg.peak_velocity_ratio is not None and seg.peak_velocity_ratio >= PVR_THRESHOLD:
            found.append(Abnormality(REASON_PVR, f"{seg.name}, {seg.peak_velocity_ratio}"))
        if seg.compression:
            found.append(Abnormality(REASON_COMPRESSION, seg.name))
    if phasicity == "lost":
        found.append(Abnormality(REASON_PHASICITY))
    if ulcer_status in ("new", "non_healing"):
        found.append(Abnormality(REASON_ULCER, ulcer_status.replace("_", "-")))
    return Assessment(tuple(found))


def new_reasons(current: Iterable[str], escalated: Iterable[str]) -> list[str]:
    """Reason codes of ``current`` not escalated yet for this visit."""
    done = set(escalated)
    return sorted({c for c in current if c not in done})
