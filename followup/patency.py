"""Patency after venous stenting: the three endpoints per schedule, and their
Kaplan–Meier (product-limit) estimates. Pure Python, no ORM: ``History`` dataclasses in,
``Outcome`` (duration in days, event or censored) and ``Curve`` out.

The endpoints (docs/followup.md#patency; practice definitions, provisional; the trial wording of
primary patency is that of VERNACULAR, Dake et al., Cardiovasc Intervent Radiol
2021;44:1918–1929, and VIRTUS, Razavi et al., verified):

- **Primary patency**: the treated segment open without any further intervention (trials:
  freedom from thrombotic occlusion, target-vessel re-intervention and ISR > 50 %).
- **Primary-assisted patency**: patency kept by an intervention on a stenosed but never
  occluded stent.
- **Secondary patency**: patency restored by intervention after occlusion.

What this module reads (one ``History`` per ``Schedule``, i.e. per stented procedure):

- the time origin is the procedure date (``Schedule.start_on``);
- each visit result that assessed the stented segments (``Observation``): per segment the
  patency (patent / occluded / not assessed) and the in-stent restenosis in %;
- each re-intervention (``Treatment``): its date, whether the stent was occluded before it
  (``for_occlusion``) and whether patency was restored (``successful``).

The status of the stents is *known* on the date of a visit result that assessed at least one
stented segment, and on the date of a re-intervention (it was imaged on the table). A
schedule is censored at the last such date (its last known status). A schedule with no known
status after the procedure (no imaging result and no re-intervention yet) is **excluded**
from the curves rather than entered with duration 0: a duration-0 censored subject adds
nothing to the estimate but would inflate the number at risk at month 0. The page reports
how many were left out.

On one date the imaging result comes before the re-intervention (a duplex finds the
occlusion, the stent is reopened the same day).

Confidence intervals are lifelines' pointwise 95 % intervals on the log(-log S) scale
(exponential Greenwood), which always lie within [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

PRIMARY = "primary"
PRIMARY_ASSISTED = "primary_assisted"
SECONDARY = "secondary"
ENDPOINTS: tuple[str, ...] = (PRIMARY, PRIMARY_ASSISTED, SECONDARY)

# The trial definitions count restenosis *above* 50 % (VIRTUS: "ISR > 50 %"); 50 % exactly
# keeps primary patency (the surveillance flag, ≥ 50 %, is deliberately more sensitive).
ISR_LOSS_ABOVE_PCT = 50

# Reasons an outcome ended (codes stored in the report and shown in tables).
OCCLUSION = "occlusion"
RESTENOSIS = "restenosis"
REINTERVENTION = "reintervention"
OCCLUSION_NOT_RESTORED = "occlusion_not_restored"
CENSORED = "censored"

DAYS_PER_MONTH = 365.25 / 12
AT_RISK_MONTHS: tuple[int, ...] = (0, 3, 6, 12, 24, 36)
BENCHMARK_MONTHS = 12
ALPHA = 0.05

_ASSESSED = ("patent", "occluded")


# --- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentStatus:
    """One stented segment at one visit."""

    patency: str  # "patent" | "occluded" | "not_assessed"
    isr_percent: int | None = None


@dataclass(frozen=True)
class Observation:
    """A visit result: what imaging showed on ``on``."""

    on: date
    segments: tuple[SegmentStatus, ...] = ()

    @property
    def assessed(self) -> bool:
        """True when at least one stented segment was assessed (a clinical-only visit or a
        result with every segment "not assessed" says nothing about patency)."""
        return any(s.patency in _ASSESSED or s.isr_percent is not None for s in self.segments)

    @property
    def occluded(self) -> bool:
        return any(s.patency == "occluded" for s in self.segments)

    @property
    def restenosed(self) -> bool:
        return any(
            s.isr_percent is not None and s.isr_percent > ISR_LOSS_ABOVE_PCT for s in self.segments
        )


@dataclass(frozen=True)
class Treatment:
    """A re-intervention on the stented segments."""

    on: date
    for_occlusion: bool
    successful: bool = True


@dataclass(frozen=True)
class History:
    """Everything known about the stents of one schedule."""

    schedule_id: int
    entity: str
    start_on: date
    observations: tuple[Observation, ...] = ()
    treatments: tuple[Treatment, ...] = ()

    def timeline(self) -> list[Observation | Treatment]:
        """Observations and treatments by date; on one date the observation first."""
        items: list[tuple[date, int, Observation | Treatment]] = [
            (o.on, 0, o) for o in self.observations if o.assessed
        ]
        items += [(t.on, 1, t) for t in self.treatments]
        items.sort(key=lambda item: (item[0], item[1]))
        return [item for _, _, item in items]

    def last_known_on(self) -> date | None:
        """The last date the stents' status was known (imaging result or re-intervention)."""
        dates = [o.on for o in self.observations if o.assessed] + [t.on for t in self.treatments]
        return max(dates) if dates else None


# --- endpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One schedule's time to the loss of one endpoint, or to censoring."""

    endpoint: str
    duration_days: int
    event: bool
    on: date
    reason: str  # OCCLUSION, RESTENOSIS, REINTERVENTION, OCCLUSION_NOT_RESTORED or CENSORED


def _ended(history: History, endpoint: str, on: date, reason: str) -> Outcome:
    return Outcome(endpoint, max(0, (on - history.start_on).days), True, on, reason)


def _censored(history: History, endpoint: str) -> Outcome | None:
    last = history.last_known_on()
    if last is None:
        return None
    return Outcome(endpoint, max(0, (last - history.start_on).days), False, last, CENSORED)


def primary(history: History) -> Outcome | None:
    """Primary patency (docs/followup.md#patency; trial definition: freedom from thrombotic
    occlusion, target-vessel re-intervention and ISR > 50 %).

    Lost at the earliest of: a visit result with any stented segment occluded; a visit
    result with in-stent restenosis above 50 % in any segment (51 % ends it, 50 % does not);
    any re-intervention on the schedule, whatever its reason or success. Otherwise censored
    at the last known status; ``None`` when nothing is known after the procedure.
    """
    for item in history.timeline():
        if isinstance(item, Treatment):
            return _ended(history, PRIMARY, item.on, REINTERVENTION)
        if item.occluded:
            return _ended(history, PRIMARY, item.on, OCCLUSION)
        if item.restenosed:
            return _ended(history, PRIMARY, item.on, RESTENOSIS)
    return _censored(history, PRIMARY)


def primary_assisted(history: History) -> Outcome | None:
    """Primary-assisted patency (docs/followup.md#patency): patency kept, if need be, by
    intervening on a stenosed but never occluded stent.

    Lost at the first occlusion: a visit result with any stented segment occluded, or a
    re-intervention recorded as "stent occluded before" (``for_occlusion``) when no occluded
    result precedes it (the occlusion was found at that procedure; dated there).
    Re-interventions on stenosed, never occluded stents, and restenosis of any degree, do
    not end it. Otherwise censored at the last known status.
    """
    for item in history.timeline():
        if isinstance(item, Treatment):
            if item.for_occlusion:
                return _ended(history, PRIMARY_ASSISTED, item.on, OCCLUSION)
        elif item.occluded:
            return _ended(history, PRIMARY_ASSISTED, item.on, OCCLUSION)
    return _censored(history, PRIMARY_ASSISTED)


def secondary(history: History) -> Outcome | None:
    """Secondary patency (docs/followup.md#patency): patency restored by intervention after
    occlusion.

    The history is read in date order (on one date, imaging before the re-intervention).
    An *occlusion episode* starts at an occluded visit result, or at a re-intervention for
    occlusion when no episode is open (the occlusion was found at that procedure). The
    episode is closed by a **successful** re-intervention for occlusion (patency restored):
    a failed attempt leaves it open and a later successful attempt still closes it. While an
    episode is open, further occluded results belong to it; an occluded result after a
    restoration opens a new episode, judged by the same rule. A patent result without a
    re-intervention does not close an episode (spontaneous recanalisation is not secondary
    patency), and re-interventions not for occlusion play no part.

    Secondary patency is lost on the first day of an episode that is still open at the end
    of the history (an occlusion never restored). Otherwise it is censored at the last known
    status.
    """
    opened: date | None = None
    for item in history.timeline():
        if isinstance(item, Treatment):
            if not item.for_occlusion:
                continue
            if opened is None:
                opened = item.on
            if item.successful:
                opened = None
        elif item.occluded and opened is None:
            opened = item.on
    if opened is not None:
        return _ended(history, SECONDARY, opened, OCCLUSION_NOT_RESTORED)
    return _censored(history, SECONDARY)


_DERIVE = {PRIMARY: primary, PRIMARY_ASSISTED: primary_assisted, SECONDARY: secondary}


def outcome(history: History, endpoint: str) -> Outcome | None:
    """The ``endpoint`` outcome of one schedule; ``None`` when it has no known status yet."""
    try:
        derive = _DERIVE[endpoint]
    except KeyError:
        raise ValueError(f"Unknown patency endpoint {endpoint!r}.") from None
    return derive(history)


# --- Kaplan–Meier -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the product-limit table, at a time where something happened."""

    time_days: int
    at_risk: int
    events: int
    censored: int
    survival: float
    lower: float
    upper: float

    def as_list(self) -> list[Any]:
        return [
            self.time_days,
            self.at_risk,
            self.events,
            self.censored,
            self.survival,
            self.lower,
            self.upper,
        ]


def _bounded(value: float, fallback: float) -> float:
    """lifelines leaves the log(-log) interval undefined (NaN) where S is 0 or 1 with no
    variance; the interval then collapses onto the estimate."""
    if value is None or math.isnan(value):
        return fallback
    return min(1.0, max(0.0, float(value)))


def product_limit(
    durations: Sequence[int], events: Sequence[bool], *, alpha: float = ALPHA
) -> tuple[Row, ...]:
    """The Kaplan–Meier table of (duration in days, event) pairs, computed by lifelines'
    ``KaplanMeierFitter``: one row at time 0 and one per distinct time with an event or a
    censoring, with the number at risk just before it."""
    if len(durations) != len(events):
        raise ValueError("durations and events differ in length")
    if not durations:
        return ()
    # Imported here: lifelines (pandas, scipy) takes seconds to import and only the
    # analytics need it, not every web process start or management command.
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter(alpha=alpha)
    fitter.fit(list(durations), event_observed=[bool(e) for e in events])
    table = fitter.event_table
    survival = fitter.survival_function_.iloc[:, 0]
    interval = fitter.confidence_interval_survival_function_
    lower, upper = interval.iloc[:, 0], interval.iloc[:, 1]
    rows = []
    for time in table.index:
        s = float(survival.loc[time])
        rows.append(
            Row(
                time_days=int(time),
                at_risk=int(table.loc[time, "at_risk"]),
                events=int(table.loc[time, "observed"]),
                censored=int(table.loc[time, "censored"]),
                survival=s,
                lower=min(s, _bounded(lower.loc[time], s)),
                upper=max(s, _bounded(upper.loc[time], s)),
            )
        )
    return tuple(rows)


def months_to_days(months: float) -> int:
    """Whole days in ``months`` mean months (365.25 / 12 days each), rounded down: the visit
    on the first anniversary (day 365) is follow-up to 12 months, and day 182 to 6."""
    return math.floor(months * DAYS_PER_MONTH)


@dataclass(frozen=True)
class Estimate:
    survival: float
    lower: float
    upper: float

    @property
    def has_interval(self) -> bool:
        """Greenwood's interval has no width before the first event (nothing to estimate
        the variance from): it is then not shown as "100 % (100–100 %)"."""
        return self.lower < self.upper


@dataclass(frozen=True)
class Curve:
    """One endpoint's Kaplan–Meier estimate for one follow-up entity."""

    entity: str
    endpoint: str
    rows: tuple[Row, ...]
    at_risk: tuple[tuple[int, int], ...]  # (month, number at risk) at AT_RISK_MONTHS
    max_days: int

    @property
    def n(self) -> int:
        return self.rows[0].at_risk if self.rows else 0

    @property
    def events(self) -> int:
        return sum(r.events for r in self.rows)

    def estimate_at(self, days: float) -> Estimate | None:
        """S(t) with its interval; ``None`` beyond the longest follow-up (not estimable),
        unless the curve has already reached 0."""
        if not self.rows:
            return None
        last = self.rows[0]
        for row in self.rows:
            if row.time_days > days:
                break
            last = row
        if days > self.max_days and last.survival > 0:
            return None
        return Estimate(last.survival, last.lower, last.upper)

    def at_months(self, months: float) -> Estimate | None:
        return self.estimate_at(months_to_days(months))

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "endpoint": self.endpoint,
            "rows": [r.as_list() for r in self.rows],
            "at_risk": [list(pair) for pair in self.at_risk],
            "max_days": self.max_days,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curve:
        return cls(
            entity=data["entity"],
            endpoint=data["endpoint"],
            rows=tuple(Row(*r) for r in data["rows"]),
            at_risk=tuple((int(m), int(n)) for m, n in data["at_risk"]),
            max_days=int(data["max_days"]),
        )


def number_at_risk(
    durations: Iterable[int], months: Sequence[int] = AT_RISK_MONTHS
) -> tuple[tuple[int, int], ...]:
    """How many schedules are still followed at each of ``months``: those whose outcome
    (event or censoring) lies at or after that time."""
    values = list(durations)
    return tuple((m, sum(1 for d in values if d >= months_to_days(m))) for m in months)


def curve(entity: str, endpoint: str, outcomes: Sequence[Outcome]) -> Curve:
    durations = [o.duration_days for o in outcomes]
    return Curve(
        entity=entity,
        endpoint=endpoint,
        rows=product_limit(durations, [o.event for o in outcomes]),
        at_risk=number_at_risk(durations),
        max_days=max(durations, default=0),
    )


# --- the analysis of a cohort -----------------------------------------------------------------


@dataclass(frozen=True)
class EntityGroup:
    entity: str
    schedules: int  # every schedule of the entity in the cohort
    excluded: int  # without any known status yet (not in the curves)
    curves: tuple[Curve, ...]

    def curve_for(self, endpoint: str) -> Curve | None:
        return next((c for c in self.curves if c.endpoint == endpoint), None)


@dataclass(frozen=True)
class Analysis:
    groups: tuple[EntityGroup, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "groups": [
                {
                    "entity": g.entity,
                    "schedules": g.schedules,
                    "excluded": g.excluded,
                    "curves": [c.as_dict() for c in g.curves],
                }
                for g in self.groups
            ]
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Analysis:
        return cls(
            groups=tuple(
                EntityGroup(
                    entity=g["entity"],
                    schedules=int(g["schedules"]),
                    excluded=int(g["excluded"]),
                    curves=tuple(Curve.from_dict(c) for c in g["curves"]),
                )
                for g in data["groups"]
            )
        )


def analyse(
    histories: Iterable[History],
    *,
    entities: Sequence[str],
    endpoints: Sequence[str] = ENDPOINTS,
) -> Analysis:
    """Kaplan–Meier curves of ``endpoints`` for each of ``entities`` (in that order)."""
    outcomes: dict[tuple[str, str], list[Outcome]] = {
        (e, p): [] for e in entities for p in endpoints
    }
    schedules = dict.fromkeys(entities, 0)
    excluded = dict.fromkeys(entities, 0)
    for history in histories:
        if history.entity not in schedules:
            continue
        schedules[history.entity] += 1
        if history.last_known_on() is None:
            excluded[history.entity] += 1
            continue
        for endpoint in endpoints:
            result = outcome(history, endpoint)
            if result is not None:
                outcomes[(history.entity, endpoint)].append(result)
    return Analysis(
        groups=tuple(
            EntityGroup(
                entity=entity,
                schedules=schedules[entity],
                excluded=excluded[entity],
                curves=tuple(
                    curve(entity, endpoint, outcomes[(entity, endpoint)])
                    for endpoint in endpoints
                    if outcomes[(entity, endpoint)]
                ),
            )
            for entity in entities
        )
    )


# --- benchmarks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Benchmark:
    entity: str
    endpoint: str
    months: int
    value: float
    source: str


RAZAVI_2015_SOURCE = (
    "Razavi et al., Circ Cardiovasc Interv 2015 (PMID 26438686), meta-analysis, 1-year patency"
)
# docs/followup.md#benchmarks. The paper's "chronic post-thrombotic" group is our
# post_thrombotic entity. It reports no primary-assisted patency and has no group for IVC
# reconstruction: those have no benchmark here (none is invented).
RAZAVI_2015: dict[tuple[str, str], float] = {
    ("nivl", PRIMARY): 0.96,
    ("nivl", SECONDARY): 0.99,
    ("acute_thrombotic", PRIMARY): 0.87,
    ("acute_thrombotic", SECONDARY): 0.89,
    ("post_thrombotic", PRIMARY): 0.79,
    ("post_thrombotic", SECONDARY): 0.94,
}


def benchmark(entity: str, endpoint: str) -> Benchmark | None:
    value = RAZAVI_2015.get((entity, endpoint))
    if value is None:
        return None
    return Benchmark(entity, endpoint, BENCHMARK_MONTHS, value, RAZAVI_2015_SOURCE)
