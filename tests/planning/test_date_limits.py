"""The date of a procedure keeps to plausible limits (venousapp.dates): within the configured
years before the centre's today and never after it. The record form names the limit and keeps
what was typed, the API answers 400 naming the field, and completing a record whose stored
date is out of limits is refused with the reason instead of answering 500 (issue 11, item 5).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from followup.models import Schedule
from planning import services
from planning.models import ProcedureRecord
from tests.cases.browser import form_data, lost_values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
TOO_EARLY = "Enter a date on or after 16 November 1996."  # 30 years, the default
TOO_LATE = "Enter a date no later than 16 November 2026."  # the procedure has taken place
RECORDS = "/api/v1/planning/procedure-records/"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alice(client_for):
    return client_for("clinician")


def record_page(client, plan) -> dict[str, list[str]]:
    page = client.get(reverse("planning:record-create", args=[plan.pk]))
    assert page.status_code == 200
    posted = form_data(page.content, form_id="record-form")
    posted["record-technical_success"] = ["true"]
    return posted


def api_record(client, plan, **changes):
    body = {
        "case": plan.case_id,
        "plan": plan.pk,
        "performed_on": "2026-11-16",
        "operators": "Alice",
        "access_used": "both CFVs, right IJ",
        "technical_success": True,
        "antithrombotic_regimen": "LMWH, then apixaban",
        "follow_up_entity": "ivc_reconstruction",
        **changes,
    }
    return client.post(RECORDS, body, content_type="application/json")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01", TOO_EARLY),
        ("1996-11-15", TOO_EARLY),
        ("9999-12-31", TOO_LATE),
        ("2026-11-17", TOO_LATE),
    ],
)
def test_record_form_names_the_limit_and_keeps_the_input(alice, ivc_plan, value, message):
    posted = record_page(alice, ivc_plan)
    posted["record-performed_on"] = [value]
    response = alice.post(reverse("planning:record-create", args=[ivc_plan.pk]), posted)
    assert response.status_code == 200
    assert response.context["form"].errors == {"performed_on": [message]}
    assert lost_values(posted, response.content, form_id="record-form") == set()
    assert not ProcedureRecord.objects.exists()


def test_record_form_offers_only_dates_within_the_limits(alice, ivc_plan):
    page = alice.get(reverse("planning:record-create", args=[ivc_plan.pk]))
    widget = page.context["form"]["performed_on"].field.widget
    assert (widget.attrs["min"], widget.attrs["max"]) == ("1996-11-16", "2026-11-16")


def test_the_limit_is_the_centres_today(client_for, ivc_plan):
    """At 22:00 in Berlin it is already tomorrow in Auckland: the pre-filled date is valid."""
    centre = ivc_plan.case.patient.centre
    centre.time_zone = "Pacific/Auckland"
    centre.save()
    with time_machine.travel(dt.datetime(2026, 11, 16, 21, 0, tzinfo=dt.UTC), tick=False):
        alice = client_for("clinician")
        posted = record_page(alice, ivc_plan)
        assert posted["record-performed_on"] == ["2026-11-17"]
        response = alice.post(reverse("planning:record-create", args=[ivc_plan.pk]), posted)
        assert response.status_code == 302
        assert api_record(alice, ivc_plan, performed_on="2026-11-18").json() == {
            "performed_on": ["Enter a date no later than 17 November 2026."]
        }


@pytest.mark.parametrize(
    ("value", "message"), [("0001-01-01", TOO_EARLY), ("9999-12-31", TOO_LATE)]
)
def test_api_record_out_of_limits_is_a_400_naming_the_field(alice, ivc_plan, value, message):
    answer = api_record(alice, ivc_plan, performed_on=value)
    assert answer.status_code == 400
    assert answer.json() == {"performed_on": [message]}
    created = api_record(alice, ivc_plan)
    assert created.status_code == 201
    update = alice.patch(
        f"{RECORDS}{created.json()['id']}/",
        {"performed_on": value},
        content_type="application/json",
    )
    assert update.status_code == 400
    assert update.json() == {"performed_on": [message]}


@override_settings(CLINICAL_DATES_YEARS_BACK=1)
def test_the_years_back_come_from_the_settings(alice, ivc_plan):
    limit = "Enter a date on or after 16 November 2025."
    assert api_record(alice, ivc_plan, performed_on="2025-11-15").json() == {
        "performed_on": [limit]
    }
    posted = record_page(alice, ivc_plan)
    posted["record-performed_on"] = ["2025-11-15"]
    response = alice.post(reverse("planning:record-create", args=[ivc_plan.pk]), posted)
    assert response.context["form"].errors == {"performed_on": [limit]}
    assert api_record(alice, ivc_plan, performed_on="2025-11-16").status_code == 201


@pytest.mark.parametrize("stored", [dt.date(9999, 12, 31), dt.date(1, 1, 1)])
def test_completing_a_record_stored_with_an_implausible_date_is_refused(alice, ivc_plan, stored):
    """A date that got in before the limits (or through the admin) cannot break the hand-over
    to follow-up: completion names the problem, and no schedule is made."""
    pk = api_record(alice, ivc_plan).json()["id"]
    ProcedureRecord.objects.filter(pk=pk).update(performed_on=stored)
    assert alice.get(reverse("planning:record-detail", args=[pk])).status_code == 200
    page = alice.post(reverse("planning:record-complete", args=[pk]), follow=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Correct the date of the procedure before completing the record." in text
    answer = alice.post(f"{RECORDS}{pk}/complete/")
    assert answer.status_code == 400
    assert list(answer.json()) == ["performed_on"]
    assert not Schedule.objects.exists()
    assert ProcedureRecord.objects.get(pk=pk).completed_at is None


def test_services_refuse_dates_out_of_limits_whoever_calls_them(ivc_plan, clinician):
    with pytest.raises(ValidationError) as refused:
        services.procedure_record_create(
            case=ivc_plan.case,
            author=clinician,
            data={
                "performed_on": dt.date(9999, 12, 31),
                "operators": "Alice",
                "access_used": "right CFV",
                "antithrombotic_regimen": "apixaban",
                "follow_up_entity": "ivc_reconstruction",
            },
            implants=[],
        )
    assert refused.value.message_dict == {"performed_on": [TOO_LATE]}
