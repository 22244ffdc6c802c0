"""The patency endpoints (docs/followup.md#patency) derived from hand-made histories, and the
Kaplan–Meier estimate of a small cohort checked against a product-limit table computed by hand.
Pure: no database."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pytest

from followup import charts, patency
from followup.patency import (
    PRIMARY,
    PRIMARY_ASSISTED,
    SECONDARY,
    History,
    Observation,
    SegmentStatus,
    Treatment,
)

START = dt.date(2025, 1, 10)


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def seen(n: int, *states: str, isr: int | None = None) -> Observation:
    """A visit result on day ``n``: the first segment with ``isr`` %, the others plain."""
    states = states or ("patent",)
    segments = [SegmentStatus(states[0], isr)] + [SegmentStatus(s) for s in states[1:]]
    return Observation(day(n), tuple(segments))


def treated(n: int, *, for_occlusion: bool, successful: bool = True) -> Treatment:
    return Treatment(day(n), for_occlusion=for_occlusion, successful=successful)


def history(*items: Observation | Treatment, entity: str = "post_thrombotic") -> History:
    return History(
        schedule_id=1,
        entity=entity,
        start_on=START,
        observations=tuple(i for i in items if isinstance(i, Observation)),
        treatments=tuple(i for i in items if isinstance(i, Treatment)),
    )


def ends(h: History, endpoint: str) -> tuple[int, bool, str] | None:
    result = patency.outcome(h, endpoint)
    return None if result is None else (result.duration_days, result.event, result.reason)


# --- event derivation -------------------------------------------------------------------------


def test_an_uneventful_history_is_censored_at_the_last_visit_result():
    h = history(seen(14), seen(42), seen(180))
    for endpoint in patency.ENDPOINTS:
        assert ends(h, endpoint) == (180, False, "censored")


def test_a_restored_occlusion_ends_primary_and_assisted_but_not_secondary_patency():
    h = history(
        seen(42),
        seen(100, "occluded", "patent"),
        treated(105, for_occlusion=True),
        seen(200),
    )
    assert ends(h, PRIMARY) == (100, True, "occlusion")
    assert ends(h, PRIMARY_ASSISTED) == (100, True, "occlusion")
    assert ends(h, SECONDARY) == (200, False, "censored")


def test_a_failed_restoration_ends_secondary_patency_at_the_occlusion():
    h = history(
        seen(100, "occluded"),
        treated(105, for_occlusion=True, successful=False),
        seen(200, "occluded"),
    )
    assert ends(h, SECONDARY) == (100, True, "occlusion_not_restored")


def test_a_failed_attempt_followed_by_a_successful_one_restores_secondary_patency():
    h = history(
        seen(100, "occluded"),
        treated(105, for_occlusion=True, successful=False),
        treated(120, for_occlusion=True, successful=True),
        seen(300),
    )
    assert ends(h, SECONDARY) == (300, False, "censored")


def test_a_reocclusion_after_a_restoration_is_judged_again():
    restored = (seen(100, "occluded"), treated(101, for_occlusion=True))
    not_again = history(*restored, seen(200), seen(400, "occluded"), seen(500, "occluded"))
    assert ends(not_again, SECONDARY) == (400, True, "occlusion_not_restored")
    again = history(*restored, seen(400, "occluded"), treated(410, for_occlusion=True), seen(500))
    assert ends(again, SECONDARY) == (500, False, "censored")


def test_a_patent_result_without_a_reintervention_does_not_restore_secondary_patency():
    h = history(seen(100, "occluded"), seen(200, "patent"))
    assert ends(h, SECONDARY) == (100, True, "occlusion_not_restored")


def test_a_reintervention_on_a_stenosed_never_occluded_stent_keeps_assisted_patency():
    h = history(
        seen(90, isr=40),
        treated(160, for_occlusion=False),
        seen(365),
    )
    assert ends(h, PRIMARY) == (160, True, "reintervention")
    assert ends(h, PRIMARY_ASSISTED) == (365, False, "censored")
    assert ends(h, SECONDARY) == (365, False, "censored")


def test_an_unsuccessful_reintervention_ends_primary_patency_too():
    h = history(seen(30), treated(60, for_occlusion=False, successful=False), seen(90))
    assert ends(h, PRIMARY) == (60, True, "reintervention")
    assert ends(h, PRIMARY_ASSISTED) == (90, False, "censored")


@pytest.mark.parametrize(
    ("isr", "expected"),
    [(50, (200, False, "censored")), (51, (100, True, "restenosis"))],
)
def test_restenosis_ends_primary_patency_only_above_50_percent(isr, expected):
    h = history(seen(100, "patent", "patent", isr=isr), seen(200))
    assert ends(h, PRIMARY) == expected
    assert ends(h, PRIMARY_ASSISTED) == (200, False, "censored")
    assert ends(h, SECONDARY) == (200, False, "censored")


def test_an_occlusion_found_at_the_reintervention_is_dated_there():
    restored = history(seen(30), treated(75, for_occlusion=True), seen(120))
    assert ends(restored, PRIMARY) == (75, True, "reintervention")
    assert ends(restored, PRIMARY_ASSISTED) == (75, True, "occlusion")
    assert ends(restored, SECONDARY) == (120, False, "censored")
    failed = history(seen(30), treated(75, for_occlusion=True, successful=False))
    assert ends(failed, SECONDARY) == (75, True, "occlusion_not_restored")


def test_a_reintervention_for_occlusion_after_an_occluded_visit_is_dated_at_the_visit():
    h = history(seen(60, "occluded"), treated(75, for_occlusion=True))
    assert ends(h, PRIMARY_ASSISTED) == (60, True, "occlusion")


def test_on_one_day_the_duplex_comes_before_the_reintervention():
    h = history(seen(100, "occluded"), treated(100, for_occlusion=True))
    assert ends(h, PRIMARY) == (100, True, "occlusion")
    assert ends(h, SECONDARY) == (100, False, "censored")


def test_censoring_uses_the_last_known_status_not_clinical_only_visits():
    h = history(
        seen(42),
        seen(180),
        Observation(day(365), ()),  # a clinical review: no stented segment assessed
        Observation(day(400), (SegmentStatus("not_assessed"),)),
    )
    assert ends(h, PRIMARY) == (180, False, "censored")
    later_treatment = history(seen(42), treated(90, for_occlusion=True))
    assert ends(later_treatment, SECONDARY) == (90, False, "censored")


def test_a_schedule_without_any_known_status_is_excluded():
    h = history(Observation(day(14), ()))
    assert h.last_known_on() is None
    assert all(patency.outcome(h, e) is None for e in patency.ENDPOINTS)
    analysis = patency.analyse([h, history(seen(30))], entities=["post_thrombotic"])
    group = analysis.groups[0]
    assert (group.schedules, group.excluded) == (2, 1)
    assert group.curve_for(PRIMARY).n == 1


def test_an_unknown_endpoint_is_refused():
    with pytest.raises(ValueError, match="Unknown patency endpoint"):
        patency.outcome(history(seen(30)), "tertiary")


# --- Kaplan–Meier -----------------------------------------------------------------------------

# Eight schedules, with an event and a censoring tied at day 30 and at day 90.
DURATIONS = [30, 30, 60, 90, 90, 90, 150, 200]
EVENTS = [True, False, True, True, True, False, False, True]

# By hand: S(t) = Π (1 - d/n) over event times ≤ t; a schedule censored at t is still at
# risk at t.
#   t    n  d  c   S(t)
#   0    8  0  0   1
#   30   8  1  1   7/8
#   60   6  1  0   7/8 · 5/6 = 35/48
#   90   5  2  1   35/48 · 3/5 = 7/16
#   150  2  0  1   7/16
#   200  1  1  0   0
HAND_TABLE = [
    (0, 8, 0, 0, Fraction(1)),
    (30, 8, 1, 1, Fraction(7, 8)),
    (60, 6, 1, 0, Fraction(35, 48)),
    (90, 5, 2, 1, Fraction(7, 16)),
    (150, 2, 0, 1, Fraction(7, 16)),
    (200, 1, 1, 0, Fraction(0)),
]


def greenwood_loglog(s: float, terms: list[tuple[int, int]]) -> tuple[float, float]:
    """The 95 % interval on the log(-log S) scale (exponential Greenwood), by the textbook
    formula: V = Σ d/(n(n-d)) / (ln S)², bounds S^exp(±1.96·√V)."""
    v = sum(d / (n * (n - d)) for n, d in terms) / math.log(s) ** 2
    z = 1.959964 * math.sqrt(v)
    return s ** math.exp(z), s ** math.exp(-z)


def test_product_limit_table_matches_the_hand_computation():
    rows = patency.product_limit(DURATIONS, EVENTS)
    assert [(r.time_days, r.at_risk, r.events, r.censored) for r in rows] == [
        (t, n, d, c) for t, n, d, c, _ in HAND_TABLE
    ]
    for row, (*_, s) in zip(rows, HAND_TABLE, strict=True):
        assert row.survival == pytest.approx(float(s), abs=1e-12)


def test_confidence_bounds_lie_in_0_1_bracket_s_and_match_greenwood():
    rows = patency.product_limit(DURATIONS, EVENTS)
    terms: list[tuple[int, int]] = []
    for row in rows:
        assert 0 <= row.lower <= row.survival <= row.upper <= 1
        if row.events:
            terms.append((row.at_risk, row.events))
        if 0 < row.survival < 1:
            lower, upper = greenwood_loglog(row.survival, terms)
            assert row.lower == pytest.approx(lower, abs=1e-4)
            assert row.upper == pytest.approx(upper, abs=1e-4)
    assert rows[0].lower == rows[0].upper == 1.0  # nothing happened yet
    assert rows[-1].lower == rows[-1].upper == 0.0  # the last schedule's event


def test_the_cohort_through_the_endpoints_gives_the_same_primary_curve():
    """The same eight durations, as histories: events are occlusions, ISR > 50 % and
    re-interventions; censorings are the last visit results."""
    histories = [
        History(1, "nivl", START, (seen(30, "occluded"),)),
        History(2, "nivl", START, (seen(14), seen(30))),
        History(3, "nivl", START, (seen(60, isr=70),)),
        History(4, "nivl", START, (seen(42),), (treated(90, for_occlusion=False),)),
        History(5, "nivl", START, (seen(90, "patent", "occluded"),)),
        History(6, "nivl", START, (seen(90), Observation(day(120), ()))),
        History(7, "nivl", START, (seen(150, isr=50),)),
        History(8, "nivl", START, (seen(200, "occluded"),), (treated(201, for_occlusion=True),)),
        History(9, "post_thrombotic", START, (seen(10, "occluded"),)),  # another entity
    ]
    analysis = patency.analyse(histories, entities=["nivl"])
    (group,) = analysis.groups
    primary = group.curve_for(PRIMARY)
    assert [(r.time_days, r.at_risk, r.events, r.censored) for r in primary.rows] == [
        (t, n, d, c) for t, n, d, c, _ in HAND_TABLE
    ]
    assert [r.survival for r in primary.rows] == pytest.approx([float(s) for *_, s in HAND_TABLE])
    assert primary.at_risk == ((0, 8), (3, 2), (6, 1), (12, 0), (24, 0), (36, 0))
    # Primary-assisted patency: only the occlusions (days 30, 90 and 200) are events.
    assisted = group.curve_for(PRIMARY_ASSISTED)
    assert assisted.events == 3
    # Secondary: the day-200 occlusion was reopened, the others were not.
    assert group.curve_for(SECONDARY).events == 2


def test_a_month_is_a_mean_month_in_whole_days():
    assert [patency.months_to_days(m) for m in patency.AT_RISK_MONTHS] == [
        0,
        91,
        182,
        365,
        730,
        1095,
    ]
    assert patency.number_at_risk([90, 91, 182, 364, 365, 730]) == (
        (0, 6),
        (3, 5),
        (6, 4),
        (12, 2),
        (24, 1),
        (36, 0),
    )


def test_the_estimate_at_12_months_needs_follow_up_to_12_months():
    short = patency.curve("nivl", PRIMARY, [patency.Outcome(PRIMARY, 364, False, day(364), "")])
    assert short.at_months(12) is None
    anniversary = patency.curve(
        "nivl", PRIMARY, [patency.Outcome(PRIMARY, 365, False, day(365), "")]
    )
    assert anniversary.at_months(12) == patency.Estimate(1.0, 1.0, 1.0)
    assert not anniversary.at_months(12).has_interval
    long = patency.curve(
        "nivl",
        PRIMARY,
        [
            patency.Outcome(PRIMARY, 100, True, day(100), "occlusion"),
            patency.Outcome(PRIMARY, 400, False, day(400), "censored"),
        ],
    )
    estimate = long.at_months(12)
    assert estimate is not None
    assert estimate.survival == pytest.approx(0.5)


def test_an_analysis_survives_its_json_round_trip():
    histories = [
        History(i, "nivl", START, (seen(30 * i, "occluded" if i % 2 else "patent"),))
        for i in range(1, 6)
    ]
    analysis = patency.analyse(histories, entities=["nivl", "ivc_reconstruction"])
    assert patency.Analysis.from_dict(analysis.as_dict()) == analysis


# --- benchmarks and the chart -----------------------------------------------------------------


def test_benchmarks_are_razavi_2015_and_none_is_invented():
    assert patency.benchmark("nivl", PRIMARY).value == 0.96
    assert patency.benchmark("nivl", SECONDARY).value == 0.99
    assert patency.benchmark("acute_thrombotic", PRIMARY).value == 0.87
    assert patency.benchmark("acute_thrombotic", SECONDARY).value == 0.89
    assert patency.benchmark("post_thrombotic", PRIMARY).value == 0.79
    assert patency.benchmark("post_thrombotic", SECONDARY).value == 0.94
    assert patency.benchmark("post_thrombotic", PRIMARY_ASSISTED) is None
    assert all(patency.benchmark("ivc_reconstruction", e) is None for e in patency.ENDPOINTS)


def test_the_chart_steps_down_at_the_events_and_marks_the_benchmark_at_12_months():
    outcomes = [
        patency.Outcome(PRIMARY, d, e, day(d), "") for d, e in zip(DURATIONS, EVENTS, strict=True)
    ]
    c = patency.curve("post_thrombotic", PRIMARY, outcomes)
    chart = charts.km_chart([c], title="T", entity="post_thrombotic", x_max_months=12)
    (series,) = chart.series
    assert series.line.startswith(f"M{chart.left:g} {chart.top:g}")  # S = 1 at month 0
    assert series.line.count("L") == 2 * (len(c.rows) - 1) + 1  # a step per row, then the end
    assert series.band.endswith("Z")
    assert series.censored.count("M") == 3  # censorings at days 30, 90 and 150
    (marker,) = chart.markers
    assert marker.x == pytest.approx(chart.right, abs=0.5)  # 12 months on a 12-month axis
    assert marker.y == pytest.approx(chart.bottom - 0.79 * (chart.bottom - chart.top))
    assert "Razavi 2015: 79 %" in marker.label
    assert "Razavi 2015 one-year benchmark: 79 %" in chart.desc
    ivc = charts.km_chart([c], title="T", entity="ivc_reconstruction")
    assert ivc.markers == ()


def test_the_axis_spans_the_follow_up_in_whole_half_years():
    def c(days: int) -> patency.Curve:
        return patency.curve("nivl", PRIMARY, [patency.Outcome(PRIMARY, days, False, day(0), "")])

    assert charts.x_range_months([c(40)]) == 12
    assert charts.x_range_months([c(500)]) == 18
    assert charts.x_range_months([c(731)]) == 24  # the 2-year visit
    assert charts.x_range_months([c(1096)]) == 36
    assert charts.x_range_months([c(1200)]) == 48
    assert charts.x_range_months([c(9000)]) == 120
