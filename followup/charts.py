"""Geometry of the inline SVG charts of the follow-up pages: Kaplan–Meier patency curves and
per-patient score trends. No ORM and no JavaScript library: the templates draw the paths,
ticks and markers computed here, so a chart is plain server-rendered markup that prints,
scales and is read by screen readers through its ``<title>``/``<desc>``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from followup import patency

# --- shared -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    at: float  # pixel position along the axis
    label: str


def _fmt(value: float) -> str:
    """Pixel coordinates with one decimal: exact enough, and short markup."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def percent(value: float) -> str:
    return f"{round(value * 100):d} %"


def _path(points: Sequence[tuple[float, float]]) -> str:
    if not points:
        return ""
    head, *tail = points
    return f"M{_fmt(head[0])} {_fmt(head[1])}" + "".join(f"L{_fmt(x)} {_fmt(y)}" for x, y in tail)


# --- Kaplan–Meier -----------------------------------------------------------------------------

ENDPOINT_STYLE = {  # CSS class suffix
    patency.PRIMARY: "primary",
    patency.PRIMARY_ASSISTED: "assisted",
    patency.SECONDARY: "secondary",
}
# Colour-blind safe hues, and a dash pattern each so that the curves stay apart in a
# black-and-white print. Drawn as SVG attributes: the chart looks right on any page,
# whatever stylesheet it is included in.
ENDPOINT_COLOUR = {
    patency.PRIMARY: "#1d4ed8",
    patency.PRIMARY_ASSISTED: "#0f766e",
    patency.SECONDARY: "#c2410c",
}
ENDPOINT_DASH = {patency.PRIMARY: "", patency.PRIMARY_ASSISTED: "9 4", patency.SECONDARY: "2 3"}


def endpoint_labels() -> dict[str, str]:
    return {
        patency.PRIMARY: _("Primary patency"),
        patency.PRIMARY_ASSISTED: _("Primary-assisted patency"),
        patency.SECONDARY: _("Secondary patency"),
    }


@dataclass(frozen=True)
class KmSeries:
    endpoint: str
    label: str
    style: str
    colour: str
    dash: str
    line: str  # step curve
    band: str  # closed polygon of the 95 % confidence band
    censored: str  # short vertical ticks where schedules were censored


@dataclass(frozen=True)
class KmMarker:
    endpoint: str
    label: str
    style: str
    colour: str
    x: float
    y: float
    label_x: float
    label_y: float
    shape: str  # diamond outline around (x, y)
    hollow: bool  # the secondary benchmark is drawn open, the primary filled


@dataclass(frozen=True)
class KmChart:
    title: str
    desc: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[KmSeries, ...]
    markers: tuple[KmMarker, ...]
    year_x: float | None  # the 12-month guide line
    x_label: str = field(default="")
    y_label: str = field(default="")

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top

    @property
    def x_label_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def y_label_y(self) -> float:
        return (self.top + self.bottom) / 2


KM_WIDTH, KM_HEIGHT = 720, 320
_KM_MARGIN = {"left": 58.0, "right": 118.0, "top": 16.0, "bottom": 50.0}
MAX_MONTHS = 120


def x_range_months(curves: Sequence[patency.Curve]) -> int:
    """The x axis spans the longest follow-up, rounded up (6 months, or 12 beyond 3 years),
    at least to 12 months so the one-year benchmark shows, at most 10 years. A visit on an
    anniversary (day 730 or 731 for 24 months) ends its axis there, not half a year later."""
    longest = max((c.max_days for c in curves), default=0) / patency.DAYS_PER_MONTH
    step = 6 if longest <= 36.1 else 12
    return int(min(MAX_MONTHS, max(12, math.ceil(longest / step - 0.01) * step)))


def _month_ticks(x_max: int) -> list[int]:
    step = 3 if x_max <= 12 else 6 if x_max <= 36 else 12
    ticks = list(range(0, x_max + 1, step))
    if step > 3 and x_max >= 3:
        ticks.insert(1, 3)  # the first surveillance months are where most failures happen
    return ticks


def _stepped(
    times: Sequence[float], values: Sequence[float], end: float
) -> list[tuple[float, float]]:
    """The corner points of a right-continuous step function up to ``end``."""
    points = [(times[0], values[0])]
    for i in range(1, len(times)):
        points.append((times[i], values[i - 1]))
        points.append((times[i], values[i]))
    points.append((end, values[-1]))
    return points


def km_chart(
    curves: Sequence[patency.Curve],
    *,
    title: str,
    entity: str,
    x_max_months: int | None = None,
) -> KmChart:
    """The chart of one entity's curves (one per endpoint), with the one-year benchmarks of
    Razavi 2015 (docs/followup.md#benchmarks) as diamonds at 12 months
    (``patency.benchmark``)."""
    x_max = x_max_months or x_range_months(curves)
    left, top = _KM_MARGIN["left"], _KM_MARGIN["top"]
    # The benchmark labels are written right of the 12-month diamonds: inside the plot on a
    # longer axis, in the margin when 12 months is its end.
    margin = _KM_MARGIN["right"] if x_max < 18 else 28.0
    right, bottom = KM_WIDTH - margin, KM_HEIGHT - _KM_MARGIN["bottom"]
    x_max_days = x_max * patency.DAYS_PER_MONTH

    def x(days: float) -> float:
        return left + (right - left) * min(days, x_max_days) / x_max_days

    def y(value: float) -> float:
        return bottom - (bottom - top) * value

    labels = endpoint_labels()
    series = []
    descs = []
    for c in curves:
        if not c.rows:
            continue
        rows = [r for r in c.rows if r.time_days <= x_max_days]
        times = [x(r.time_days) for r in rows]
        end = x(c.max_days)
        line = _stepped(times, [y(r.survival) for r in rows], end)
        upper = _stepped(times, [y(r.upper) for r in rows], end)
        lower = _stepped(times, [y(r.lower) for r in rows], end)
        band = _path(upper + lower[::-1]) + "Z"
        ticks = "".join(
            f"M{_fmt(x(r.time_days))} {_fmt(y(r.survival) - 4)}v8"
            for r in rows
            if r.censored and r.time_days > 0
        )
        series.append(
            KmSeries(
                endpoint=c.endpoint,
                label=labels[c.endpoint],
                style=ENDPOINT_STYLE[c.endpoint],
                colour=ENDPOINT_COLOUR[c.endpoint],
                dash=ENDPOINT_DASH[c.endpoint],
                line=_path(line),
                band=band,
                censored=ticks,
            )
        )
        descs.append(_curve_desc(c, labels[c.endpoint]))

    markers = _benchmark_markers(curves, entity, x, y, x_max)
    year_x = x(patency.months_to_days(12)) if x_max >= 12 else None
    return KmChart(
        title=title,
        desc=" ".join(descs) or _("No schedule with a known patency status."),
        width=KM_WIDTH,
        height=KM_HEIGHT,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        x_ticks=tuple(Tick(x(patency.months_to_days(m)), str(m)) for m in _month_ticks(x_max)),
        y_ticks=tuple(Tick(y(v / 100), f"{v}") for v in (0, 25, 50, 75, 100)),
        series=tuple(series),
        markers=markers,
        year_x=year_x,
        x_label=_("Months since the procedure"),
        y_label=_("Patent (%)"),
    )


def _curve_desc(c: patency.Curve, label: str) -> str:
    schedules = ngettext("%(n)s schedule", "%(n)s schedules", c.n) % {"n": c.n}
    events = ngettext("%(e)s event", "%(e)s events", c.events) % {"e": c.events}
    text = f"{label}: {schedules}, {events}."
    at_year = c.at_months(12)
    if at_year is None:
        text += " " + _("Follow-up shorter than 12 months.")
    elif not at_year.has_interval:
        text += " " + _("At 12 months %(s)s.") % {"s": percent(at_year.survival)}
    else:
        text += " " + _("At 12 months %(s)s (95 %% CI %(lo)s–%(hi)s).") % {
            "s": percent(at_year.survival),
            "lo": percent(at_year.lower),
            "hi": percent(at_year.upper),
        }
    mark = patency.benchmark(c.entity, c.endpoint)
    if mark is not None:
        text += " " + _("Razavi 2015 one-year benchmark: %(v)s.") % {"v": percent(mark.value)}
    return text


def _benchmark_markers(
    curves: Sequence[patency.Curve],
    entity: str,
    x: Callable[[float], float],
    y: Callable[[float], float],
    x_max: int,
) -> tuple[KmMarker, ...]:
    if x_max < patency.BENCHMARK_MONTHS:
        return ()
    found = []
    for c in curves:
        mark = patency.benchmark(entity, c.endpoint)
        if mark is None:
            continue
        found.append((y(mark.value), x(patency.months_to_days(mark.months)), mark))
    found.sort(key=lambda item: item[0])
    markers = []
    previous = -math.inf
    for cy, cx, mark in found:
        # Labels of close benchmarks (NIVL 96 % and 99 %) would overlap: keep 13 px apart.
        label_y = max(cy + 4, previous + 13)
        previous = label_y
        r = 6
        shape = f"M{_fmt(cx)} {_fmt(cy - r)}l{r} {r}l-{r} {r}l-{r} -{r}Z"
        markers.append(
            KmMarker(
                endpoint=mark.endpoint,
                label=_("Razavi 2015: %(v)s") % {"v": percent(mark.value)},
                style=ENDPOINT_STYLE[mark.endpoint],
                colour=ENDPOINT_COLOUR[mark.endpoint],
                x=cx,
                y=cy,
                label_x=cx + 10,
                label_y=label_y,
                shape=shape,
                hollow=mark.endpoint != patency.PRIMARY,
            )
        )
    return tuple(markers)


# --- score trends -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePoint:
    on: dt.date
    label: str  # "Baseline (case)" or the visit's label
    vcss: int | None
    villalta: int | None
    baseline: bool = False


@dataclass(frozen=True)
class TrendDot:
    x: float
    y: float
    value: int
    label: str
    on: dt.date
    baseline: bool
    value_y: float  # where its number is written


@dataclass(frozen=True)
class TrendChart:
    key: str
    title: str
    desc: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    line: str
    dots: tuple[TrendDot, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    show_values: bool  # numbers over the points, unless they are too close to read


TREND_WIDTH, TREND_HEIGHT = 380, 160
SCORE_MAX = {"vcss": 30, "villalta": 33}
_MIN_LABEL_GAP = 26.0  # px between two tick labels under the points


def since_label(point: ScorePoint, start_on: dt.date) -> str:
    """A short "time since the procedure" for a tick: "Base", "0 d", "2 w", "3 m"."""
    if point.baseline:
        return _("Base")
    days = (point.on - start_on).days
    if days < 14:
        return _("%(n)s d") % {"n": days}
    if days < 70:
        return _("%(n)s w") % {"n": round(days / 7)}
    return _("%(n)s m") % {"n": round(days / patency.DAYS_PER_MONTH)}


def trend_chart(
    points: Sequence[ScorePoint], *, key: str, title: str, start_on: dt.date
) -> TrendChart | None:
    """A small line chart of one score (``key`` "vcss" or "villalta"), one point per visit
    in order, evenly spaced: the first visits come days apart and the later ones a year,
    so a time axis would pile the early points on top of each other. Each point is labelled
    with its time since the procedure (``start_on``); dates are in the description, the
    tooltips and the table. ``None`` when no point has that score's total."""
    values = [(p, getattr(p, key)) for p in points if getattr(p, key) is not None]
    if not values:
        return None
    left, right, top, bottom = 34.0, TREND_WIDTH - 16.0, 20.0, TREND_HEIGHT - 30.0
    step = (right - left) / (len(values) - 1) if len(values) > 1 else 0.0
    every = max(1, math.ceil(_MIN_LABEL_GAP / step)) if step else 1
    y_max = SCORE_MAX[key]

    def x(index: int) -> float:
        return left + step * index if step else (left + right) / 2

    def y(value: int) -> float:
        return bottom - (bottom - top) * value / y_max

    dots = tuple(
        TrendDot(x(i), y(v), v, p.label, p.on, p.baseline, y(v) - 8)
        for i, (p, v) in enumerate(values)
    )
    last = len(values) - 1
    x_ticks = tuple(
        Tick(x(i), since_label(p, start_on))
        for i, (p, _v) in enumerate(values)
        if i % every == 0 or i == last
    )
    desc = "; ".join(f"{d.label} ({d.on.isoformat()}): {d.value}" for d in dots)
    return TrendChart(
        key=key,
        title=title,
        desc=_("%(title)s, %(n)s values, scale 0–%(max)s: %(points)s.")
        % {"title": title, "n": len(dots), "max": y_max, "points": desc},
        width=TREND_WIDTH,
        height=TREND_HEIGHT,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        line=_path([(d.x, d.y) for d in dots]),
        dots=dots,
        y_ticks=tuple(Tick(y(v), str(v)) for v in range(0, y_max + 1, 10)),
        x_ticks=x_ticks,
        show_values=step == 0 or step >= 18,
    )


def trend_charts(points: Sequence[ScorePoint], *, start_on: dt.date) -> list[TrendChart]:
    charts = [
        trend_chart(points, key="vcss", title=_("rVCSS total"), start_on=start_on),
        trend_chart(points, key="villalta", title=_("Villalta total"), start_on=start_on),
    ]
    return [c for c in charts if c is not None]


# --- the patency page's figures ---------------------------------------------------------------


@dataclass(frozen=True)
class EndpointSummary:
    endpoint: str
    label: str
    style: str
    colour: str
    dash: str
    n: int
    events: int
    at_year: patency.Estimate | None
    benchmark: patency.Benchmark | None
    at_risk: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class KmFigure:
    entity: str
    entity_label: str
    schedules: int
    excluded: int
    chart: KmChart | None
    summaries: tuple[EndpointSummary, ...]
    has_benchmark_group: bool  # Razavi 2015 has a group for this entity

    @property
    def at_risk_months(self) -> tuple[int, ...]:
        return patency.AT_RISK_MONTHS


def km_figures(
    analysis: patency.Analysis,
    *,
    endpoints: Sequence[str],
    entity_labels: dict[str, str],
) -> list[KmFigure]:
    """One figure per entity: its chart, the number at risk and the 12-month summary of each
    of ``endpoints``."""
    labels = endpoint_labels()
    figures = []
    for group in analysis.groups:
        curves = [c for e in endpoints if (c := group.curve_for(e)) is not None]
        label = entity_labels.get(group.entity, group.entity)
        figures.append(
            KmFigure(
                entity=group.entity,
                entity_label=label,
                schedules=group.schedules,
                excluded=group.excluded,
                chart=km_chart(
                    curves,
                    entity=group.entity,
                    title=_("Kaplan–Meier patency, %(entity)s") % {"entity": label},
                )
                if curves
                else None,
                summaries=tuple(
                    EndpointSummary(
                        endpoint=c.endpoint,
                        label=labels[c.endpoint],
                        style=ENDPOINT_STYLE[c.endpoint],
                        colour=ENDPOINT_COLOUR[c.endpoint],
                        dash=ENDPOINT_DASH[c.endpoint],
                        n=c.n,
                        events=c.events,
                        at_year=c.at_months(patency.BENCHMARK_MONTHS),
                        benchmark=patency.benchmark(group.entity, c.endpoint),
                        at_risk=c.at_risk,
                    )
                    for c in curves
                ),
                has_benchmark_group=any(
                    entity == group.entity for entity, _endpoint in patency.RAZAVI_2015
                ),
            )
        )
    return figures
