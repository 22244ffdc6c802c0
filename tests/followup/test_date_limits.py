"""Follow-up dates keep to plausible limits (venousapp.dates), and stored dates cannot break a
page or the sweep (issue 11, item 5).

What happened (a contact attempt, a visit, a re-intervention) lies within the configured years
before the centre's today and never after it; what is planned (a rescheduled visit,
re-imaging) up to the configured years ahead. Pages name the limit on the field and keep what
was typed, the API answers 400 naming the field, nothing answers 500. Window and schedule
arithmetic holds at the calendar's ends instead of overflowing, for dates that got in before
these limits existed or through the admin.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from followup import surveillance
from followup.models import ContactAttempt, Schedule, Visit, VisitResult
from followup.services.schedules import followup_schedule_create, schedules_extend_due
from planning.models import ProcedureRecord
from tests.cases.browser import lost_values
from tests.followup.conftest import NOW, TODAY
from tests.followup.test_pages import raise_escalation, result_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

API = "/api/v1/followup"
TOO_EARLY = "Enter a date on or after 16 November 1996."  # 30 years back, the default
NOT_AFTER_TODAY = "Enter a date no later than 16 November 2026."
TOO_FAR_AHEAD = "Enter a date no later than 16 November 2036."  # 10 years ahead, the default
OUT_OF_RANGE = "Datetime value out of range."


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def visit(schedule) -> Visit:
    return schedule.visits.get(label="3 months")


@pytest.fixture
def nina(client_for):
    return client_for("nurse")


@pytest.fixture
def alice(client_for):
    return client_for("clinician")


# --- contact attempts (API) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1996-11-15T23:00:00", TOO_EARLY),
        ("1996-11-16T00:30:00+02:00", TOO_EARLY),  # 15 November, 23:30 in Berlin
        ("9999-12-31T12:00:00", NOT_AFTER_TODAY),
        ("2026-11-17T00:30:00", NOT_AFTER_TODAY),
        # Times that cannot be placed in the centre's time zone at all:
        ("0001-01-01T00:00:00", OUT_OF_RANGE),
        ("0001-01-01", OUT_OF_RANGE),
        ("0001-01-01T00:00:00+05:00", OUT_OF_RANGE),
        ("9999-12-31T23:59:59-05:00", OUT_OF_RANGE),
    ],
)
def test_api_contact_attempt_out_of_limits_is_a_400_naming_the_field(nina, visit, value, message):
    answer = nina.post(
        f"{API}/visits/{visit.pk}/contacts/",
        {"method": "phone", "outcome": "no_answer", "attempted_at": value},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json() == {"attempted_at": [message]}
    assert not ContactAttempt.objects.exists()
    assert nina.get(f"{API}/visits/{visit.pk}/contacts/").status_code == 200


# --- reschedule (page) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [("9999-12-31", TOO_FAR_AHEAD), ("2036-11-17", TOO_FAR_AHEAD), ("0001-01-01", TOO_EARLY)],
)
def test_reschedule_out_of_limits_names_the_limit_and_keeps_the_input(nina, visit, value, message):
    posted = {"target_on": value, "reason": "Patient abroad"}
    response = nina.post(f"/followup/visits/{visit.pk}/reschedule/", posted)
    assert response.status_code == 400
    assert response.context["form"].errors == {"target_on": [message]}
    html = response.content.decode()
    assert f'value="{value}"' in html
    assert 'value="Patient abroad"' in html
    assert Visit.objects.get(pk=visit.pk).target_on == visit.target_on


def test_reschedule_to_the_last_day_ahead_keeps_the_window(nina, visit):
    response = nina.post(
        f"/followup/visits/{visit.pk}/reschedule/",
        {"target_on": "2036-11-16", "reason": "Next check in ten years"},
    )
    assert response.status_code == 302
    moved = Visit.objects.get(pk=visit.pk)
    assert moved.target_on == dt.date(2036, 11, 16)
    assert moved.latest_on - moved.target_on == visit.latest_on - visit.target_on


def test_reschedule_page_offers_only_dates_within_the_limits(nina, visit):
    page = nina.get(f"/followup/visits/{visit.pk}/reschedule/")
    widget = page.context["form"]["target_on"].field.widget
    assert (widget.attrs["min"], widget.attrs["max"]) == ("1996-11-16", "2036-11-16")


@override_settings(CLINICAL_DATES_YEARS_AHEAD=1)
def test_the_years_ahead_come_from_the_settings(nina, visit):
    refused = nina.post(
        f"/followup/visits/{visit.pk}/reschedule/", {"target_on": "2027-11-17", "reason": "Away"}
    )
    assert refused.context["form"].errors == {
        "target_on": ["Enter a date no later than 16 November 2027."]
    }
    accepted = nina.post(
        f"/followup/visits/{visit.pk}/reschedule/", {"target_on": "2027-11-16", "reason": "Away"}
    )
    assert accepted.status_code == 302


# --- visit results (page and API) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"), [("0001-01-01", TOO_EARLY), ("9999-12-31", NOT_AFTER_TODAY)]
)
def test_result_out_of_limits_is_refused_on_the_page_and_in_the_api(nina, visit, value, message):
    posted = result_post(**{"result-performed_on": value})
    response = nina.post(f"/followup/visits/{visit.pk}/result/", posted)
    assert response.status_code == 400
    assert response.context["form"].errors == {"performed_on": [message]}
    assert lost_values(posted, response.content, form_id="result-form") == set()
    answer = nina.post(
        f"{API}/visits/{visit.pk}/result/",
        {
            "performed_on": value,
            "segments": [
                {"segment": "CIV", "side": "left", "patency": "patent"},
                {"segment": "EIV", "side": "left", "patency": "patent"},
            ],
        },
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json() == {"performed_on": [message]}
    assert not VisitResult.objects.exists()


# --- re-imaging (page and API) ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["9999-12-31", "2036-11-17"])
def test_reimaging_too_far_ahead_is_refused_on_the_page_and_in_the_api(alice, visit, nurse, value):
    escalation = raise_escalation(visit, nurse)
    response = alice.post(
        f"/followup/escalations/{escalation.pk}/decide/",
        {"decision": "reimage", "reimage_kind": "duplex", "reimage_on": value},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"reimage_on": [TOO_FAR_AHEAD]}
    assert f'value="{value}"' in response.content.decode()
    answer = alice.post(
        f"{API}/escalations/{escalation.pk}/decide/",
        {"decision": "reimage", "reimage_on": value},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json() == {"reimage_on": [TOO_FAR_AHEAD]}
    escalation.refresh_from_db()
    assert escalation.reimage_visit is None


def test_reimaging_in_the_past_is_refused_with_the_limit(alice, visit, nurse):
    escalation = raise_escalation(visit, nurse)
    answer = alice.post(
        f"{API}/escalations/{escalation.pk}/decide/",
        {"decision": "reimage", "reimage_on": "0001-01-01"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json() == {"reimage_on": ["Enter a date on or after 16 November 2026."]}


# --- re-interventions (page) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"), [("0001-01-01", TOO_EARLY), ("9999-12-31", NOT_AFTER_TODAY)]
)
def test_reintervention_out_of_limits_names_the_limit(alice, schedule, value, message):
    posted = {
        "performed_on": value,
        "kind": "angioplasty",
        "successful": "on",
        "segments": ["CIV:left"],
    }
    response = alice.post(f"/followup/schedules/{schedule.pk}/reinterventions/new/", posted)
    assert response.status_code == 400
    assert response.context["form"].errors == {"performed_on": [message]}
    assert not schedule.reinterventions.exists()


# --- stored dates out of limits ---------------------------------------------------------------


def test_a_visit_stored_with_a_wide_open_window_can_still_be_shown_and_rescheduled(
    nina, alice, visit, schedule
):
    Visit.objects.filter(pk=visit.pk).update(
        earliest_on=dt.date(1, 1, 1),
        notice_on=dt.date(1, 1, 1),
        target_on=TODAY + dt.timedelta(days=20),
        latest_on=dt.date(9999, 12, 31),
    )
    for path in (
        f"/followup/visits/{visit.pk}/",
        f"/followup/visits/{visit.pk}/reschedule/",
        "/followup/worklist/",
        f"{API}/worklist/",
        f"{API}/visits/{visit.pk}/",
    ):
        assert nina.get(path).status_code == 200, path
    assert alice.get(f"/followup/schedules/{schedule.pk}/").status_code == 200
    target = TODAY + dt.timedelta(days=9)
    response = nina.post(
        f"/followup/visits/{visit.pk}/reschedule/",
        {"target_on": target.isoformat(), "reason": "Earlier slot"},
    )
    assert response.status_code == 302
    moved = Visit.objects.get(pk=visit.pk)
    assert (moved.earliest_on, moved.target_on) == (schedule.start_on, target)
    assert moved.latest_on == dt.date(9999, 12, 20)  # the window keeps its width after


def test_the_sweep_extends_a_schedule_stored_with_a_procedure_in_year_9999(schedule):
    Schedule.objects.filter(pk=schedule.pk).update(
        start_on=dt.date(9999, 12, 31), horizon_until=TODAY, open_ended=True
    )
    schedules_extend_due(now=NOW)
    schedule.refresh_from_db()
    assert schedule.horizon_until == dt.date(2031, 11, 16)


@pytest.mark.parametrize("performed_on", [dt.date(9999, 12, 31), dt.date(9999, 1, 1)])
def test_a_schedule_from_a_procedure_stored_in_year_9999_is_made_without_overflow(
    make_procedure, performed_on
):
    """The hand-over refuses such a date (tests/planning/test_date_limits.py); a record that
    reached the schedule service anyway gets visits held at the calendar's end."""
    record = make_procedure(complete=False)
    ProcedureRecord.objects.filter(pk=record.pk).update(
        performed_on=performed_on, completed_at=NOW, completed_by=record.author
    )
    record.refresh_from_db()
    schedule = followup_schedule_create(procedure=record, now=NOW)
    assert schedule.start_on == performed_on
    assert all(v.target_on >= performed_on for v in schedule.visits.all())


# --- the arithmetic itself (pure) -------------------------------------------------------------


def test_date_arithmetic_holds_at_the_calendars_ends():
    assert surveillance.add_days(dt.date(9999, 12, 30), 5) == dt.date.max
    assert surveillance.add_days(dt.date(1, 1, 2), -5) == dt.date.min
    assert surveillance.add_months(dt.date(9999, 12, 31), 60) == dt.date.max
    assert surveillance.add_months(dt.date(1, 1, 31), -1) == dt.date.min
    assert surveillance.add_offset(dt.date(9999, 12, 31), 2, surveillance.WEEKS) == dt.date.max
    assert surveillance.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)


def test_a_lifelong_schedule_planned_to_the_calendars_end_stops():
    spec = surveillance.ProtocolSpec(
        visits=(
            surveillance.VisitTemplate("2 weeks", 2, surveillance.WEEKS, "duplex", True, 3, 3),
        ),
        yearly_from_months=12,
        yearly_until_years=None,
    )
    planned = surveillance.plan_visits(spec, start=dt.date(9999, 6, 1), until=dt.date.max)
    assert [p.label for p in planned] == ["2 weeks", "Year 1"]
    assert planned[-1].target_on == planned[-1].latest_on == dt.date.max
