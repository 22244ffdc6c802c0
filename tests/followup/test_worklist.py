"""The nurse's worklist: statuses at every boundary on the centre's local date, filters,
what a row shows, and a constant number of SQL queries with 10 and 1 000 visits."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup import selectors, surveillance
from followup.models import Schedule, Visit
from followup.services.visits import contact_attempt_log
from tests.followup.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db

WORKLIST = "/followup/worklist/"
# Session, user, role permissions, centre, bell, status counts, page count, page rows; one
# query per row would exceed it at once.
MAX_QUERIES = 12


def make_visit(
    schedule: Schedule,
    sequence: int,
    *,
    notice: dt.date,
    earliest: dt.date,
    target: dt.date,
    latest: dt.date,
    **extra: Any,
) -> Visit:
    return Visit.objects.create(
        schedule=schedule,
        centre_id=schedule.centre_id,
        entity=schedule.entity,
        sequence=sequence,
        label=f"V{sequence}",
        kind="duplex",
        target_on=target,
        earliest_on=earliest,
        latest_on=latest,
        notice_on=notice,
        **extra,
    )


@pytest.fixture
def boundary_schedule(make_procedure) -> Schedule:
    """A schedule without protocol visits, for hand-made windows."""
    record = make_procedure(entity="nivl", performed_on=TODAY - dt.timedelta(days=400))
    schedule = Schedule.objects.get(procedure=record)
    schedule.visits.all().delete()
    return schedule


# One visit per status boundary relative to TODAY (2026-11-16).
D = dt.timedelta
BOUNDARIES = {
    "upcoming (notice tomorrow)": ("upcoming", D(1), D(8), D(15), D(22)),
    "due soon (notice today)": ("due_soon", D(0), D(7), D(14), D(21)),
    "due soon (window opens tomorrow)": ("due_soon", D(-13), D(1), D(8), D(15)),
    "due (window opens today)": ("due", D(-14), D(0), D(7), D(14)),
    "due (target today)": ("due", D(-21), D(-7), D(0), D(7)),
    "overdue (target yesterday)": ("overdue", D(-22), D(-8), D(-1), D(6)),
    "overdue (window closes today)": ("overdue", D(-29), D(-15), D(-7), D(0)),
    "missed (window closed yesterday)": ("missed", D(-30), D(-16), D(-8), D(-1)),
}


def test_worklist_statuses_at_every_boundary(boundary_schedule):
    expected = {}
    for sequence, (name, (status, *offsets)) in enumerate(BOUNDARIES.items(), start=1):
        notice, earliest, target, latest = (TODAY + o for o in offsets)
        visit = make_visit(
            boundary_schedule,
            sequence,
            notice=notice,
            earliest=earliest,
            target=target,
            latest=latest,
        )
        expected[visit.pk] = (name, status)
    rows = {
        v.pk: v.status
        for v in selectors.worklist_due(centre_id=boundary_schedule.centre_id, today=TODAY)
    }
    shown = {pk: expected[pk][1] for pk in rows}
    assert rows == shown
    assert {expected[pk][0] for pk in rows} == set(BOUNDARIES) - {"upcoming (notice tomorrow)"}
    for status in ("due_soon", "due", "overdue", "missed"):
        filtered = selectors.worklist_due(
            centre_id=boundary_schedule.centre_id, today=TODAY, status=status
        )
        assert {v.status for v in filtered} == {status}
        assert {v.pk for v in filtered} == {pk for pk, (_, s) in expected.items() if s == status}
    counts = selectors.worklist_counts(centre_id=boundary_schedule.centre_id, today=TODAY)
    assert counts == {"due_soon": 2, "due": 2, "overdue": 2, "missed": 1, "all": 7}


def test_done_and_closed_visits_leave_the_worklist(boundary_schedule):
    make_visit(
        boundary_schedule, 1, notice=TODAY, earliest=TODAY, target=TODAY, latest=TODAY, state="done"
    )
    make_visit(
        boundary_schedule,
        2,
        notice=TODAY,
        earliest=TODAY,
        target=TODAY,
        latest=TODAY,
        state="cancelled",
    )
    assert not selectors.worklist_due(centre_id=boundary_schedule.centre_id, today=TODAY)


@pytest.mark.parametrize(
    ("utc_now", "zone", "status"),
    [
        # 23:30 UTC on the 15th is already the 16th in Berlin: the window opened there.
        (dt.datetime(2026, 11, 15, 23, 30, tzinfo=dt.UTC), "Europe/Berlin", "due"),
        # ... but still the 15th in New York: due soon.
        (dt.datetime(2026, 11, 15, 23, 30, tzinfo=dt.UTC), "America/New_York", "due_soon"),
    ],
)
def test_status_follows_the_centres_local_date(
    boundary_schedule, client_for, utc_now, zone, status, centre_a
):
    centre_a.time_zone = zone
    centre_a.save()
    make_visit(
        boundary_schedule,
        1,
        notice=TODAY - D(14),
        earliest=TODAY,
        target=TODAY + D(7),
        latest=TODAY + D(14),
    )
    with time_machine.travel(utc_now, tick=False):
        response = client_for("nurse").get(WORKLIST)
    assert [v.status for v in response.context["page"]] == [status]


def test_worklist_row_shows_patient_procedure_visit_window_and_last_contact(
    schedule, client_for, nurse
):
    visit = schedule.visits.get(label="3 months")
    patient = schedule.case.patient
    patient.phone, patient.preferred_contact = "+49 30 555 0303", "phone"
    patient.save()
    contact_attempt_log(
        visit=visit, user=nurse, now=NOW, data={"method": "phone", "outcome": "no_answer"}
    )
    with time_machine.travel(NOW, tick=False):
        response = client_for("nurse").get(WORKLIST, {"status": "overdue"})
    html = response.content.decode()
    row = next(v for v in response.context["page"] if v.pk == visit.pk)
    assert row.status == "overdue"
    assert schedule.case.patient.identifier in html
    assert schedule.start_on.isoformat() in html
    assert "3 months" in html
    assert f"{visit.earliest_on:%Y-%m-%d} – {visit.latest_on:%Y-%m-%d}" in html
    assert "Phone call: No answer" in html
    assert 'href="tel:+49305550303"' in html
    assert "+49 30 555 0303" in html


def test_worklist_filters_by_entity_and_date(make_procedure, centre_a):
    nivl = Schedule.objects.get(procedure=make_procedure(entity="nivl", performed_on=TODAY - D(40)))
    make_procedure(entity="post_thrombotic", performed_on=TODAY - D(40))
    rows = selectors.worklist_due(centre_id=centre_a.pk, today=TODAY, entity="nivl")
    assert {v.schedule_id for v in rows} == {nivl.pk}
    six_weeks = nivl.visits.get(label="6 weeks")
    rows = selectors.worklist_due(
        centre_id=centre_a.pk,
        today=TODAY,
        date_from=six_weeks.target_on,
        date_to=six_weeks.target_on,
    )
    assert {v.pk for v in rows} >= {six_weeks.pk}
    assert all(v.target_on == six_weeks.target_on for v in rows)


def test_worklist_shows_only_the_users_centre(schedule, client_for):
    with time_machine.travel(NOW, tick=False):
        response = client_for("other_centre_clinician").get(WORKLIST)
    assert response.status_code == 200
    assert list(response.context["page"]) == []


def test_htmx_filter_returns_the_table_partial(schedule, client_for):
    with time_machine.travel(NOW, tick=False):
        response = client_for("nurse").get(
            WORKLIST, {"status": "overdue"}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    assert next(t.name for t in response.templates) == "followup/_worklist_table.html"
    assert b"<html" not in response.content


# --- constant query count -----------------------------------------------------------------


def add_visits(schedules: list[Schedule], count: int, start: int) -> None:
    """``count`` open visits spread over the four statuses, round-robin over schedules."""
    rows = []
    cycle = itertools.cycle(schedules)
    for i in range(start, start + count):
        schedule = next(cycle)
        offset = D(days=(i % 40) - 30)  # targets from 30 days ago to 9 days ahead
        target = TODAY + offset
        rows.append(
            Visit(
                schedule=schedule,
                centre_id=schedule.centre_id,
                entity=schedule.entity,
                sequence=100 + i,
                label=f"V{i}",
                kind="duplex",
                target_on=target,
                earliest_on=target - D(7),
                latest_on=target + D(7),
                notice_on=target - D(21),
            )
        )
    Visit.objects.bulk_create(rows)


def count_queries(client: Any, url: str, django_assert_max_num_queries: Any) -> int:
    with django_assert_max_num_queries(MAX_QUERIES), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        WORKLIST,
        f"{WORKLIST}?status=missed&entity=post_thrombotic",
        f"{WORKLIST}?q=F0&sort=-patient",
        f"{WORKLIST}?sort=procedure",
    ],
)
def test_worklist_runs_constant_queries_with_10_and_1000_visits(
    make_procedure, client_for, django_assert_max_num_queries, url
):
    schedules = [
        Schedule.objects.get(procedure=make_procedure(performed_on=TODAY - D(400)))
        for _ in range(5)
    ]
    Visit.objects.filter(schedule__in=schedules).delete()
    client = client_for("nurse")
    add_visits(schedules, 10, 0)
    with time_machine.travel(NOW, tick=False):
        client.get(url)  # warm-up: session, content types
        with_10 = count_queries(client, url, django_assert_max_num_queries)
        add_visits(schedules, 990, 10)
        assert Visit.objects.filter(schedule__in=schedules).count() == 1000
        with_1000 = count_queries(client, url, django_assert_max_num_queries)
        response = client.get(url)
    assert with_10 == with_1000
    assert len(response.context["page"]) == 50
    assert response.context["counts"]["all"] > 50


def test_worklist_api_runs_constant_queries(
    make_procedure, client_for, django_assert_max_num_queries
):
    schedules = [
        Schedule.objects.get(procedure=make_procedure(performed_on=TODAY - D(400)))
        for _ in range(3)
    ]
    client = client_for("nurse")
    add_visits(schedules, 10, 0)
    with time_machine.travel(NOW, tick=False):
        client.get("/api/v1/followup/worklist/")
        with CaptureQueriesContext(connection) as small:
            client.get("/api/v1/followup/worklist/")
        add_visits(schedules, 300, 10)
        with CaptureQueriesContext(connection) as large:
            response = client.get("/api/v1/followup/worklist/")
    assert response.status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)
    assert response.json()["count"] > 50


def test_worklist_status_sql_and_python_agree(boundary_schedule):
    for sequence, (_, (_status, *offsets)) in enumerate(BOUNDARIES.items(), start=1):
        notice, earliest, target, latest = (TODAY + o for o in offsets)
        make_visit(
            boundary_schedule,
            sequence,
            notice=notice,
            earliest=earliest,
            target=target,
            latest=latest,
        )
    for visit in selectors.schedule_visits(boundary_schedule, TODAY):
        assert visit.status == surveillance.visit_status(
            today=TODAY,
            notice_on=visit.notice_on,
            earliest_on=visit.earliest_on,
            target_on=visit.target_on,
            latest_on=visit.latest_on,
            state=visit.state,
        )
