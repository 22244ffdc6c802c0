"""The pure surveillance rules: visit dates and windows per entity, worklist status at every
boundary, abnormal findings (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from followup import defaults, surveillance
from followup.surveillance import SegmentReading

START = dt.date(2026, 1, 31)  # a 31st: month arithmetic clamps to the month's last day


def spec_of(entity: str) -> surveillance.ProtocolSpec:
    row = next(p for p in defaults.DEFAULT_PROTOCOLS if p["entity"] == entity)
    return surveillance.ProtocolSpec(
        visits=tuple(surveillance.VisitTemplate(**v) for v in row["visits"]),
        yearly_from_months=row["yearly_from_months"],
        yearly_until_years=row["yearly_until_years"],
        due_soon_days=defaults.DUE_SOON_DAYS,
    )


def test_add_months_clamps_to_the_end_of_a_short_month():
    assert surveillance.add_months(START, 1) == dt.date(2026, 2, 28)
    assert surveillance.add_months(START, 13) == dt.date(2027, 2, 28)
    assert surveillance.add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)


def test_nivl_schedule_has_discharge_6_weeks_6_and_12_months_then_yearly_to_5_years():
    visits = surveillance.plan_visits(spec_of("nivl"), start=START, until=dt.date(2040, 1, 1))
    assert [(v.sequence, v.label, v.target_on) for v in visits] == [
        (1, "Before discharge", dt.date(2026, 1, 31)),
        (2, "6 weeks", dt.date(2026, 3, 14)),
        (3, "6 months", dt.date(2026, 7, 31)),
        (4, "12 months", dt.date(2027, 1, 31)),
        (5, "Year 2", dt.date(2028, 1, 31)),
        (6, "Year 3", dt.date(2029, 1, 31)),
        (7, "Year 4", dt.date(2030, 1, 31)),
        (8, "Year 5", dt.date(2031, 1, 31)),
    ]
    assert {v.kind for v in visits} == {"duplex"}


@pytest.mark.parametrize("entity", ["acute_thrombotic", "post_thrombotic"])
def test_thrombotic_schedules_are_front_loaded(entity):
    visits = surveillance.plan_visits(spec_of(entity), start=START, until=dt.date(2028, 1, 1))
    assert [v.label for v in visits][:6] == [
        "Before discharge",
        "2 weeks",
        "6 weeks",
        "3 months",
        "6 months",
        "12 months",
    ]
    assert [v.target_on for v in visits][:4] == [
        START,
        dt.date(2026, 2, 14),
        dt.date(2026, 3, 14),
        dt.date(2026, 4, 30),
    ]


def test_ivc_reconstruction_adds_ct_venography_at_12_months():
    visits = surveillance.plan_visits(
        spec_of("ivc_reconstruction"), start=START, until=dt.date(2027, 12, 31)
    )
    ct = [v for v in visits if v.kind == "ct_venography"]
    assert len(ct) == 1
    assert ct[0].target_on == dt.date(2027, 1, 31)
    assert not ct[0].with_clinical
    assert (ct[0].earliest_on, ct[0].latest_on) == (dt.date(2027, 1, 1), dt.date(2027, 3, 2))


def test_lifelong_protocols_continue_past_the_horizon_and_nivl_stops():
    horizon = surveillance.add_months(START, 60)
    assert surveillance.schedule_is_open_ended(
        spec_of("post_thrombotic"), start=START, horizon=horizon
    )
    assert surveillance.schedule_is_open_ended(
        spec_of("ivc_reconstruction"), start=START, horizon=horizon
    )
    assert not surveillance.schedule_is_open_ended(spec_of("nivl"), start=START, horizon=horizon)


def test_extension_continues_the_sequence_without_repeating_a_visit():
    spec = spec_of("post_thrombotic")
    first = surveillance.plan_visits(spec, start=START, until=surveillance.add_months(START, 60))
    more = surveillance.plan_visits(
        spec,
        start=START,
        until=surveillance.add_months(START, 96),
        after_sequence=first[-1].sequence,
    )
    assert first[-1].label == "Year 5"
    assert [(v.sequence, v.label) for v in more] == [(11, "Year 6"), (12, "Year 7"), (13, "Year 8")]


@pytest.mark.parametrize(
    ("label", "earliest", "latest"),
    [
        ("Before discharge", dt.date(2026, 1, 31), dt.date(2026, 2, 1)),  # day 0–1
        ("2 weeks", dt.date(2026, 2, 11), dt.date(2026, 2, 17)),  # ±3 days
        ("6 weeks", dt.date(2026, 3, 7), dt.date(2026, 3, 21)),  # ±7 days
        ("3 months", dt.date(2026, 4, 16), dt.date(2026, 5, 14)),  # ±14 days
        ("12 months", dt.date(2027, 1, 1), dt.date(2027, 3, 2)),  # ±30 days
    ],
)
def test_windows_and_due_soon_dates(label, earliest, latest):
    visit = next(
        v
        for v in surveillance.plan_visits(
            spec_of("post_thrombotic"), start=START, until=dt.date(2028, 1, 1)
        )
        if v.label == label
    )
    assert (visit.earliest_on, visit.latest_on) == (earliest, latest)
    assert visit.notice_on == earliest - dt.timedelta(days=14)


def test_no_window_opens_before_the_procedure():
    spec = surveillance.ProtocolSpec(
        visits=(
            surveillance.VisitTemplate(
                "Day 2", 2, "days", "duplex", window_before_days=7, window_after_days=1
            ),
        ),
        yearly_from_months=None,
    )
    (visit,) = surveillance.plan_visits(spec, start=START, until=dt.date(2027, 1, 1))
    assert visit.earliest_on == START


# --- status at every boundary: notice 2026-03-01, window 03-08 … 03-22, target 03-15 -------

WINDOW = {
    "notice_on": dt.date(2026, 3, 1),
    "earliest_on": dt.date(2026, 3, 8),
    "target_on": dt.date(2026, 3, 15),
    "latest_on": dt.date(2026, 3, 22),
}


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 2, 28), "upcoming"),
        (dt.date(2026, 3, 1), "due_soon"),  # notice day
        (dt.date(2026, 3, 7), "due_soon"),
        (dt.date(2026, 3, 8), "due"),  # window opens
        (dt.date(2026, 3, 15), "due"),  # target day
        (dt.date(2026, 3, 16), "overdue"),
        (dt.date(2026, 3, 22), "overdue"),  # last day of the window
        (dt.date(2026, 3, 23), "missed"),
    ],
)
def test_visit_status_at_each_boundary(today, expected):
    assert surveillance.visit_status(today=today, **WINDOW) == expected


@pytest.mark.parametrize(("state", "expected"), [("done", "done"), ("cancelled", "cancelled")])
def test_closed_visits_have_their_state_as_status(state, expected):
    assert surveillance.visit_status(today=dt.date(2026, 3, 30), state=state, **WINDOW) == expected


# --- abnormal findings ------------------------------------------------------------------------

NORMAL = SegmentReading(
    "CIV",
    "left",
    "patent",
    in_stent_thrombus=False,
    isr_percent=20,
    peak_velocity_ratio=Decimal("1.4"),
    compression=False,
)


def test_a_normal_duplex_is_not_abnormal():
    assessment = surveillance.assess([NORMAL], phasicity="phasic", ulcer_status="healed")
    assert not assessment.abnormal


@pytest.mark.parametrize(
    ("changes", "phasicity", "ulcer", "code"),
    [
        ({"isr_percent": 50}, "", "", "isr"),
        ({"patency": "occluded"}, "", "", "occlusion"),
        ({"in_stent_thrombus": True}, "", "", "thrombus"),
        ({"compression": True}, "", "", "compression"),
        ({"peak_velocity_ratio": Decimal("2.5")}, "", "", "pvr"),
        ({}, "lost", "", "phasicity"),
        ({}, "", "new", "ulcer"),
        ({}, "", "non_healing", "ulcer"),
    ],
)
def test_each_abnormal_finding_is_detected(changes, phasicity, ulcer, code):
    reading = SegmentReading(**{**NORMAL.__dict__, **changes})
    assessment = surveillance.assess([reading], phasicity=phasicity, ulcer_status=ulcer)
    assert assessment.codes == [code]


def test_isr_just_below_the_threshold_is_not_abnormal():
    reading = SegmentReading(
        **{**NORMAL.__dict__, "isr_percent": 49, "peak_velocity_ratio": Decimal("2.4")}
    )
    assert not surveillance.assess([reading]).abnormal


def test_findings_name_the_segment():
    reading = SegmentReading("IVC", "midline", "occluded")
    assert surveillance.assess([reading]).texts == ["Stent occlusion (IVC)"]


def test_new_reasons_ignores_those_already_escalated():
    assert surveillance.new_reasons(["isr", "thrombus"], ["isr"]) == ["thrombus"]
    assert surveillance.new_reasons(["isr"], ["isr", "occlusion"]) == []
