"""What the patency analytics read: a centre's schedules, results and re-interventions in a
constant number of queries, never another centre's, and the curves they make."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import time_machine

from followup import selectors
from followup.models import ReIntervention, Schedule
from followup.patency import PRIMARY, PRIMARY_ASSISTED, SECONDARY
from followup.services.results import reintervention_record, stented_segments
from tests.bulk import schedules_bulk_create
from tests.followup.cohort import build_cohort, record, schedule_of
from tests.followup.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def bulk_schedules(centre, author, count: int) -> list[int]:
    """``count`` schedules with done visits and segment results (tests/bulk.py), a
    re-intervention on every tenth."""
    schedules_bulk_create(centre=centre, author=author, count=count, now=NOW)
    ids = list(Schedule.objects.filter(centre=centre).order_by("pk").values_list("pk", flat=True))
    for schedule in Schedule.objects.filter(pk__in=ids[::10]).select_related("procedure"):
        stented = stented_segments(schedule.procedure)
        reintervention_record(
            schedule=schedule,
            user=author,
            now=NOW,
            data={
                "performed_on": schedule.start_on + dt.timedelta(days=1),
                "kind": "angioplasty",
                "for_occlusion": False,
                "segments": [f"{s}:{d}" for s, d in stented[:1]],
            },
        )
    return ids


@pytest.mark.parametrize("count", [10, 100])
def test_the_analysis_reads_a_constant_number_of_queries(
    count, centre_a, clinician, django_assert_max_num_queries
):
    ids = bulk_schedules(centre_a, clinician, count)
    assert ReIntervention.objects.filter(centre=centre_a).count() == len(ids[::10])
    # ids, then schedules + results + segments + re-interventions of the one chunk
    with django_assert_max_num_queries(5):
        analysis = selectors.patency_analysis(centre_id=centre_a.pk)
    assert sum(g.schedules for g in analysis.groups) == len(ids) >= count
    with django_assert_max_num_queries(4):
        histories = selectors.patency_histories(centre_id=centre_a.pk)
    assert len(histories) == len(ids)
    assert sum(len(h.treatments) for h in histories) == len(ids[::10])
    assert all(h.observations for h in histories if h.last_known_on() and not h.treatments)


def test_the_analysis_reads_chunks_and_reports_progress(
    centre_a, clinician, django_assert_max_num_queries
):
    ids = bulk_schedules(centre_a, clinician, 10)
    seen: list[tuple[int, int]] = []
    with django_assert_max_num_queries(1 + 4 * math.ceil(len(ids) / 4)):
        chunked = selectors.patency_analysis(
            centre_id=centre_a.pk, chunk_size=4, progress=lambda d, t: seen.append((d, t))
        )
    total = len(ids)
    assert seen == [(min(n, total), total) for n in range(4, total + 4, 4)]
    assert chunked == selectors.patency_analysis(centre_id=centre_a.pk)


def test_histories_hold_the_recorded_results_and_reinterventions(make_procedure, nurse, clinician):
    cohort = build_cohort(make_procedure, nurse, clinician)
    histories = {
        h.schedule_id: h
        for h in selectors.patency_histories(
            centre_id=clinician.centre_id, entity="post_thrombotic"
        )
    }
    assert set(histories) == {cohort[k].pk for k in ("restored", "stenosed", "lost", "new")}
    restored = histories[cohort["restored"].pk]
    assert [o.on for o in restored.observations] == [
        cohort["restored"].start_on + dt.timedelta(days=d) for d in (42, 90, 365)
    ]
    assert [o.occluded for o in restored.observations] == [False, True, False]
    assert [(t.for_occlusion, t.successful) for t in restored.treatments] == [(True, True)]
    assert histories[cohort["new"].pk].last_known_on() is None


def test_the_curves_of_the_cohort(make_procedure, nurse, clinician):
    build_cohort(make_procedure, nurse, clinician)
    analysis = selectors.patency_analysis(centre_id=clinician.centre_id)
    groups = {g.entity: g for g in analysis.groups}
    assert list(groups) == ["nivl", "acute_thrombotic", "post_thrombotic", "ivc_reconstruction"]
    pt = groups["post_thrombotic"]
    assert (pt.schedules, pt.excluded) == (4, 1)

    def table(endpoint: str) -> list[tuple[int, int, int, int, float]]:
        curve = pt.curve_for(endpoint)
        return [(r.time_days, r.at_risk, r.events, r.censored, r.survival) for r in curve.rows]

    third = pytest.approx(1 / 3)
    two_thirds = pytest.approx(2 / 3)
    assert table(PRIMARY) == [
        (0, 3, 0, 0, 1.0),
        (42, 3, 1, 0, two_thirds),
        (90, 2, 1, 0, third),
        (180, 1, 1, 0, 0.0),
    ]
    assert table(PRIMARY_ASSISTED) == [
        (0, 3, 0, 0, 1.0),
        (42, 3, 1, 0, two_thirds),
        (90, 2, 1, 0, third),
        (370, 1, 0, 1, third),
    ]
    assert table(SECONDARY) == [
        (0, 3, 0, 0, 1.0),
        (42, 3, 1, 0, two_thirds),
        (365, 2, 0, 1, two_thirds),
        (370, 1, 0, 1, two_thirds),
    ]
    nivl = groups["nivl"].curve_for(PRIMARY)
    assert (nivl.n, nivl.events, nivl.max_days) == (1, 0, 182)
    assert groups["ivc_reconstruction"].curves == ()


def test_another_centres_schedules_are_never_read(
    make_procedure, nurse, clinician, other_centre_clinician, centre_b
):
    build_cohort(make_procedure, nurse, clinician)
    theirs = schedule_of(make_procedure, "nivl", 100, author=other_centre_clinician)
    record(theirs, "6 weeks", other_centre_clinician, on_day=42, patency="occluded")
    mine = selectors.patency_histories(centre_id=clinician.centre_id)
    assert theirs.pk not in {h.schedule_id for h in mine}
    assert all(not o.occluded for h in mine if h.entity == "nivl" for o in h.observations)
    (only,) = selectors.patency_histories(centre_id=centre_b.pk)
    assert only.schedule_id == theirs.pk
    b = {g.entity: g for g in selectors.patency_analysis(centre_id=centre_b.pk).groups}
    assert b["nivl"].schedules == 1
    assert b["post_thrombotic"].schedules == 0
    assert selectors.patency_cohort_size(centre_id=centre_b.pk) == 1
    assert selectors.patency_cohort_size(centre_id=clinician.centre_id, entity="nivl") == 1
