"""Schedules from completed procedures: per entity, idempotent, versioned protocols, reminder
rows, lazy extension of lifelong schedules (time frozen with time-machine)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from followup import surveillance
from followup.models import Protocol, ProtocolVisit, Reminder, Schedule, Visit
from followup.services.protocols import protocol_revise, protocols_ensure_defaults
from followup.services.schedules import followup_schedule_create, schedules_extend_due
from planning import services as planning_services
from tests.followup.conftest import BERLIN, NOW, TODAY

pytestmark = pytest.mark.django_db


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("entity", "labels"),
    [
        (
            "nivl",
            [
                "Before discharge",
                "6 weeks",
                "6 months",
                "12 months",
                "Year 2",
                "Year 3",
                "Year 4",
                "Year 5",
            ],
        ),
        (
            "acute_thrombotic",
            [
                "Before discharge",
                "2 weeks",
                "6 weeks",
                "3 months",
                "6 months",
                "12 months",
                "Year 2",
                "Year 3",
                "Year 4",
                "Year 5",
            ],
        ),
        (
            "post_thrombotic",
            [
                "Before discharge",
                "2 weeks",
                "6 weeks",
                "3 months",
                "6 months",
                "12 months",
                "Year 2",
                "Year 3",
                "Year 4",
                "Year 5",
            ],
        ),
        (
            "ivc_reconstruction",
            [
                "Before discharge",
                "2 weeks",
                "6 weeks",
                "3 months",
                "6 months",
                "12 months",
                "12 months CT venography",
                "Year 2",
                "Year 3",
                "Year 4",
                "Year 5",
            ],
        ),
    ],
)
def test_completing_a_procedure_creates_the_schedule_of_its_entity(make_procedure, entity, labels):
    record = make_procedure(entity=entity, performed_on=TODAY, now=timezone.now())
    schedule = Schedule.objects.get(procedure=record)
    assert schedule.entity == entity
    assert schedule.protocol == Protocol.objects.get(entity=entity, retired_at__isnull=True)
    assert schedule.centre == record.case.patient.centre
    assert schedule.start_on == TODAY
    visits = list(schedule.visits.order_by("sequence"))
    assert [v.label for v in visits] == labels
    assert [v.sequence for v in visits] == list(range(1, len(labels) + 1))
    assert schedule.horizon_until == dt.date(2031, 11, 16)
    assert schedule.open_ended == (entity in ("post_thrombotic", "ivc_reconstruction"))
    six_weeks = schedule.visits.get(label="6 weeks")
    assert (
        six_weeks.target_on,
        six_weeks.earliest_on,
        six_weeks.latest_on,
        six_weeks.notice_on,
    ) == (dt.date(2026, 12, 28), dt.date(2026, 12, 21), dt.date(2027, 1, 4), dt.date(2026, 12, 7))


def test_completing_a_record_twice_creates_one_schedule(make_procedure, clinician):
    record = make_procedure()
    schedule = Schedule.objects.get(procedure=record)
    visits = schedule.visits.count()
    planning_services.procedure_record_complete(record=record, user=clinician, now=NOW)
    again = followup_schedule_create(procedure=record, now=NOW)
    assert again == schedule
    assert Schedule.objects.filter(procedure=record).count() == 1
    assert Visit.objects.filter(schedule__procedure=record).count() == visits


def test_an_open_record_gets_no_schedule(make_procedure):
    record = make_procedure(complete=False)
    with pytest.raises(ValidationError):
        followup_schedule_create(procedure=record, now=NOW)
    assert not Schedule.objects.filter(procedure=record).exists()


def test_each_open_visit_gets_a_window_and_an_overdue_reminder_at_7_local(make_procedure):
    record = make_procedure(entity="nivl", performed_on=TODAY)
    visit = Visit.objects.get(schedule__procedure=record, label="6 weeks")
    reminders = {r.kind: r.due_at for r in Reminder.objects.filter(visit=visit)}
    assert reminders == {
        "window_open": dt.datetime(2026, 12, 21, 7, 0, tzinfo=BERLIN),
        "overdue": dt.datetime(2026, 12, 29, 7, 0, tzinfo=BERLIN),
    }


def test_a_record_completed_late_reminds_now_and_skips_closed_windows(make_procedure):
    record = make_procedure(entity="post_thrombotic", performed_on=TODAY - dt.timedelta(days=45))
    visits = {v.label: v for v in Visit.objects.filter(schedule__procedure=record)}
    # 2 weeks: window closed 28 days ago (missed) -> no reminder at all.
    assert not Reminder.objects.filter(visit=visits["2 weeks"]).exists()
    # 6 weeks: target 3 days ago, still in the window -> only "overdue", due now.
    assert {r.kind: r.due_at for r in Reminder.objects.filter(visit=visits["6 weeks"])} == {
        "overdue": NOW
    }


def test_a_protocol_revision_applies_to_new_schedules_only(make_procedure, guideline_admin):
    old = make_procedure(entity="nivl")
    protocol = Protocol.objects.get(entity="nivl", retired_at__isnull=True)
    rows = [
        {
            "label": "3 months",
            "offset_value": 3,
            "offset_unit": "months",
            "kind": "duplex",
            "with_clinical": True,
            "window_before_days": 14,
            "window_after_days": 14,
        }
    ]
    new_version = protocol_revise(
        protocol=protocol,
        user=guideline_admin,
        data={"yearly_from_months": None, "name": "NIVL, short"},
        visits=rows,
        now=NOW,
    )
    protocol.refresh_from_db()
    assert protocol.retired_at == NOW
    assert new_version.version == protocol.version + 1
    assert new_version.history.first().history_user == guideline_admin

    new = make_procedure(entity="nivl")
    assert Schedule.objects.get(procedure=old).protocol == protocol
    assert Schedule.objects.get(procedure=old).visits.count() == 8
    assert Schedule.objects.get(procedure=new).protocol == new_version
    assert [v.label for v in Schedule.objects.get(procedure=new).visits.all()] == ["3 months"]


def test_a_superseded_protocol_cannot_be_revised(guideline_admin):
    protocol = Protocol.objects.get(entity="nivl", retired_at__isnull=True)
    visits = [{"label": "x", "offset_value": 1, "offset_unit": "weeks", "kind": "duplex"}]
    protocol_revise(protocol=protocol, user=guideline_admin, data={}, visits=visits)
    with pytest.raises(ValidationError):
        protocol_revise(protocol=protocol, user=guideline_admin, data={}, visits=visits)


def test_missing_default_protocols_are_recreated(db):
    assert protocols_ensure_defaults() == 0  # the migration made them
    ProtocolVisit.objects.all().delete()
    Protocol.objects.all().delete()  # as a flush between transactional tests does
    assert protocols_ensure_defaults() == 4
    assert set(
        Protocol.objects.filter(retired_at__isnull=True).values_list("entity", flat=True)
    ) == {"nivl", "acute_thrombotic", "post_thrombotic", "ivc_reconstruction"}


def test_lifelong_schedules_are_extended_lazily_by_the_sweep(make_procedure):
    record = make_procedure(entity="post_thrombotic", performed_on=TODAY)
    schedule = Schedule.objects.get(procedure=record)
    assert schedule.visits.order_by("-sequence").first().label == "Year 5"
    later = NOW + dt.timedelta(days=4 * 365 + 30)  # the horizon is now within a year
    with time_machine.travel(later, tick=False):
        assert schedules_extend_due(now=later) == 1
        assert schedules_extend_due(now=later) == 0  # idempotent
    schedule.refresh_from_db()
    labels = list(schedule.visits.order_by("sequence").values_list("label", flat=True))
    assert labels[-1] == "Year 9"
    assert labels.count("Year 5") == 1
    assert schedule.horizon_until == surveillance.add_months(later.date(), 60)
    assert schedule.open_ended


def test_a_bounded_protocol_is_not_extended(make_procedure):
    record = make_procedure(entity="nivl", performed_on=TODAY)
    schedule = Schedule.objects.get(procedure=record)
    assert not schedule.open_ended
    later = NOW + dt.timedelta(days=4 * 365 + 30)
    assert schedules_extend_due(now=later) == 0


def test_schedule_and_visits_have_history_naming_the_completer(make_procedure, clinician):
    record = make_procedure()
    schedule = Schedule.objects.get(procedure=record)
    assert schedule.history.get().history_user == clinician
    visit = schedule.visits.first()
    assert visit.history.get().history_user == clinician
