"""The case page tells the patient's whole story: plans, procedure records, the duplex schedule
with its next visit, open escalations and the score trend, each linked; a constant number of
queries however many visits there are."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.scores import VCSS_ITEMS
from followup.models import Escalation, Protocol, Schedule
from followup.services.protocols import protocol_revise
from followup.services.results import visit_result_record
from tests.cases.browser import form_data
from tests.followup.conftest import NOW, TODAY


def _page(client, case_id: int) -> str:
    response = client.get(f"/cases/{case_id}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def story(make_procedure, nurse):
    record = make_procedure(performed_on=TODAY - dt.timedelta(days=100))
    schedule = Schedule.objects.get(procedure=record)
    first = schedule.visits.order_by("target_on").first()
    visit_result_record(
        visit=first,
        user=nurse,
        now=NOW,
        data={"performed_on": first.target_on, **{f"vcss_{i.key}": 1 for i in VCSS_ITEMS}},
        segments=[
            {"segment": "CIV", "side": "left", "patency": "occluded"},
            {"segment": "EIV", "side": "left", "patency": "patent"},
        ],
    )
    return record, schedule


@time_machine.travel(NOW, tick=False)
def test_the_case_page_links_records_schedule_next_visit_escalation_and_trend(client_for, story):
    record, schedule = story
    html = _page(client_for("clinician"), record.case_id)
    assert 'id="case-records"' in html
    assert f'href="/planning/records/{record.pk}/"' in html
    assert f'id="case-schedule-{schedule.pk}"' in html
    assert f'href="/followup/schedules/{schedule.pk}/"' in html
    upcoming = schedule.visits.filter(state="planned").order_by("target_on").first()
    assert f'href="/followup/visits/{upcoming.pk}/"' in html
    assert upcoming.target_on.strftime("%Y-%m-%d") in html
    escalation = Escalation.objects.get(case=record.case)
    assert f'id="case-escalation-{escalation.pk}"' in html
    assert '<figure class="fu-trend"' in html


@time_machine.travel(NOW, tick=False)
def test_the_nurse_sees_the_follow_up_on_the_case_page_too(client_for, story):
    record, schedule = story
    html = _page(client_for("nurse"), record.case_id)
    assert f'id="case-schedule-{schedule.pk}"' in html


@time_machine.travel(NOW, tick=False)
def test_the_case_page_queries_do_not_grow_with_the_visits(client_for, make_procedure):
    client = client_for("clinician")
    record = make_procedure(performed_on=TODAY - dt.timedelta(days=100))
    _page(client, record.case_id)  # warm-up
    with CaptureQueriesContext(connection) as one:
        _page(client, record.case_id)
    for days in (400, 800):
        make_procedure(case=record.case, performed_on=TODAY - dt.timedelta(days=days))
    with CaptureQueriesContext(connection) as three:
        _page(client, record.case_id)
    assert len(three.captured_queries) == len(one.captured_queries)


def _revise_post_thrombotic(guideline_admin) -> Any:
    protocol = Protocol.objects.get(entity="post_thrombotic", retired_at__isnull=True)
    return protocol_revise(
        protocol=protocol,
        user=guideline_admin,
        data={"name": "Post-thrombotic, centre revision"},
        visits=[
            {
                "label": "4 weeks",
                "offset_value": 4,
                "offset_unit": "weeks",
                "kind": "duplex",
                "with_clinical": True,
                "window_before_days": 7,
                "window_after_days": 7,
            }
        ],
        now=NOW,
    )


def test_plan_and_record_show_the_protocol_that_applies(
    client_for, make_procedure, guideline_admin
):
    client = client_for("clinician")
    record = make_procedure(performed_on=TODAY - dt.timedelta(days=10))
    applied = Schedule.objects.get(procedure=record).protocol
    revised = _revise_post_thrombotic(guideline_admin)
    page = client.get(f"/planning/records/{record.pk}/").content.decode()
    assert f'data-protocol="{applied.pk}"' in page  # the version its schedule was made from
    assert "(applied)" in page
    open_record = make_procedure(complete=False)
    page = client.get(f"/planning/records/{open_record.pk}/").content.decode()
    assert f'data-protocol="{revised.pk}"' in page  # what completing would apply now
    assert "4 weeks" in page
    assert "Duplex before discharge" not in page


def test_the_duplex_form_starts_every_stented_segment_as_not_assessed(client_for, schedule):
    """A result saved as the form starts must not claim patency nobody measured."""
    nurse = client_for("nurse")
    visit = schedule.visits.filter(kind="duplex").order_by("target_on").first()
    page = nurse.get(f"/followup/visits/{visit.pk}/result/")
    posted = form_data(page.content)
    patency = {k: v for k, v in posted.items() if k.endswith("-patency")}
    assert patency
    assert {value for values in patency.values() for value in values} == {"not_assessed"}
