"""The procedure record form posted exactly as the browser renders it: every pre-filled implant
row is saved unless it is explicitly removed, and reaches the duplex surveillance."""

from __future__ import annotations

import pytest
from django.urls import reverse

from followup.models import Schedule
from planning.models import ProcedureRecord
from tests.cases.browser import form_data


@pytest.fixture
def alice(client_for):
    return client_for("clinician")


def _record_page(client, plan) -> dict[str, list[str]]:
    page = client.get(reverse("planning:record-create", args=[plan.pk]))
    assert page.status_code == 200
    posted = form_data(page.content, form_id="record-form")
    posted["record-technical_success"] = ["true"]
    posted["record-operators"] = ["Dr Alice"]
    return posted


def test_untouched_prefilled_rows_are_all_saved(alice, ivc_plan):
    planned = sorted((s.segment, s.side) for s in ivc_plan.stents.all())
    assert len(planned) == 5
    response = alice.post(
        reverse("planning:record-create", args=[ivc_plan.pk]), _record_page(alice, ivc_plan)
    )
    assert response.status_code == 302
    record = ProcedureRecord.objects.get(plan=ivc_plan)
    implanted = sorted((i.segment, i.side) for i in record.implants.all())
    assert implanted == planned
    detail = alice.get(reverse("planning:record-detail", args=[record.pk])).content.decode()
    assert "None recorded." not in detail


def test_a_removed_prefilled_row_is_not_saved(alice, ivc_plan):
    posted = _record_page(alice, ivc_plan)
    posted["implants-0-DELETE"] = ["on"]
    response = alice.post(reverse("planning:record-create", args=[ivc_plan.pk]), posted)
    assert response.status_code == 302
    assert ProcedureRecord.objects.get(plan=ivc_plan).implants.count() == 4


def test_a_prefilled_row_made_invalid_is_an_error_not_a_loss(alice, ivc_plan):
    posted = _record_page(alice, ivc_plan)
    posted["implants-1-length_mm"] = ["-5"]
    response = alice.post(reverse("planning:record-create", args=[ivc_plan.pk]), posted)
    assert response.status_code == 200
    assert not ProcedureRecord.objects.exists()


def test_every_implant_is_under_surveillance_after_completion(alice, client_for, ivc_plan):
    alice.post(reverse("planning:record-create", args=[ivc_plan.pk]), _record_page(alice, ivc_plan))
    record = ProcedureRecord.objects.get(plan=ivc_plan)
    response = alice.post(reverse("planning:record-complete", args=[record.pk]))
    assert response.status_code == 302
    schedule = Schedule.objects.get(procedure=record)
    visit = schedule.visits.order_by("target_on").first()
    nurse = client_for("nurse")
    page = nurse.get(reverse("followup:visit-result", args=[visit.pk])).content.decode()
    for implant in record.implants.all():
        assert f'value="{implant.segment}"' in page


def _api_record(client, plan, **extra):
    body = {
        "case": plan.case_id,
        "plan": plan.pk,
        "performed_on": "2026-11-21",
        "operators": "Alice",
        "access_used": "both CFVs, right IJ",
        "technical_success": True,
        "antithrombotic_regimen": "LMWH, then apixaban",
        "follow_up_entity": "ivc_reconstruction",
        **extra,
    }
    return client.post("/api/v1/planning/procedure-records/", body, content_type="application/json")


def test_api_record_from_a_plan_takes_the_planned_stents(alice, ivc_plan):
    answer = _api_record(alice, ivc_plan)
    assert answer.status_code == 201, answer.json()
    implanted = sorted((i["segment"], i["side"]) for i in answer.json()["implants"])
    assert implanted == sorted((s.segment, s.side) for s in ivc_plan.stents.all())


def test_api_record_with_an_empty_list_records_no_implant(alice, ivc_plan):
    answer = _api_record(alice, ivc_plan, implants=[])
    assert answer.status_code == 201
    assert answer.json()["implants"] == []


def test_the_record_page_says_what_completing_hands_over(alice, ivc_plan):
    _api_record(alice, ivc_plan, implants=[])
    record = ProcedureRecord.objects.get(plan=ivc_plan)
    page = alice.get(reverse("planning:record-detail", args=[record.pk])).content.decode()
    assert "Completing hands 0 implanted devices" in page
    assert 'id="implants-missing"' in page
    record.delete()
    _api_record(alice, ivc_plan)
    record = ProcedureRecord.objects.get(plan=ivc_plan)
    page = alice.get(reverse("planning:record-detail", args=[record.pk])).content.decode()
    assert "Completing hands 5 implanted devices" in page
    assert 'id="implants-missing"' not in page
