"""Headless Chromium: the nurse finds an overdue visit on her worklist, logs a call and
records an abnormal duplex; the clinician sees the escalation and acknowledges it.

Runs against pytest-django's live server on real time (the procedure is dated relative to
today); escalation notices are delivered in-process instead of through Celery so the test
needs no worker (the worker path has its own tests in tests/followup/test_celery.py).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from cases.scores import VCSS_ITEMS
from followup import dispatch, notifications
from followup.models import Escalation, Visit
from followup.services.clock import centre_today
from followup.services.results import visit_result_record
from planning import services as planning_services
from planning.models import Device
from tests.e2e.a11y import (
    announced,
    assert_accessible,
    listen_for_announcements,
    unlinked_errors,
)
from tests.e2e.session import log_in
from tests.factories import CaseFactory, PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
IDENTIFIER = "E2E-4711"


@pytest.fixture
def overdue_visit(centre_a, clinician, nurse, monkeypatch) -> Visit:
    monkeypatch.setattr(dispatch, "_enqueue", notifications.deliver_inline)
    stent = Device.objects.filter(kind="stent").first()
    case = CaseFactory(
        patient=PatientFactory(centre=centre_a, identifier=IDENTIFIER), author=clinician
    )
    today = centre_today(centre_a)
    record = planning_services.procedure_record_create(
        case=case,
        author=clinician,
        data={
            "performed_on": today - dt.timedelta(days=100),
            "operators": "Dr Alice",
            "access_used": "Right CFV",
            "technical_success": True,
            "antithrombotic_regimen": "DOAC",
            "follow_up_entity": "post_thrombotic",
        },
        implants=[
            {
                "segment": "CIV",
                "side": "left",
                "device": stent,
                "diameter_mm": Decimal("16.0"),
                "length_mm": 90,
            }
        ],
    )
    planning_services.procedure_record_complete(record=record, user=clinician)
    return record.followup_schedule.visits.get(label="3 months")


def test_nurse_records_an_abnormal_duplex_and_the_clinician_acknowledges(
    page: Page, live_server, overdue_visit: Visit, clinician, tmp_path: Path
):
    # The nurse lands on her worklist and finds the overdue visit.
    log_in(page, live_server.url, "nina", PASSWORD)
    expect(page.get_by_role("heading", name="Follow-up worklist")).to_be_visible()
    assert_accessible(page, "worklist")
    page.locator("[data-status='overdue']").first.click()  # the "Overdue" filter tab
    row = page.locator(f"tr[data-visit='{overdue_visit.pk}']")
    expect(row).to_contain_text(IDENTIFIER)
    expect(row).to_contain_text("Overdue")
    expect(row).to_contain_text("none yet")
    assert_accessible(page, "worklist, overdue")
    page.screenshot(path=tmp_path / "worklist.png", full_page=True)

    # She logs a call (htmx swaps the contact list in place).
    row.get_by_role("link", name=IDENTIFIER).click()
    expect(page.locator("#visit-status")).to_have_text("Overdue")
    assert_accessible(page, "visit")
    listen_for_announcements(page)
    page.get_by_label("Method").select_option("phone")
    page.get_by_label("Outcome").select_option("booked")
    page.get_by_role("button", name="Log contact attempt").click()
    expect(page.locator("#contact-list")).to_contain_text("Phone call: Reached: appointment booked")
    assert announced(page, quiet_ms=300) == ["The contact attempt was logged."]
    assert_accessible(page, "visit, contact logged")

    # She records the duplex: 60 % in-stent restenosis of the left CIV stent, first mistyped
    # as 500 %: the message sits in the table cell, tied to the field, linked from the summary.
    page.get_by_role("button", name="Record the visit").click()
    expect(page.get_by_role("heading", name="Record the visit")).to_be_visible()
    assert_accessible(page, "visit result form")
    isr = page.get_by_label("CIV left in-stent restenosis (%)")
    isr.fill("500")
    page.get_by_label("CFV phasicity").select_option("phasic")
    page.get_by_label(
        "Pain or other discomfort (aching, heaviness, fatigue, soreness, burning)"
    ).select_option("2")
    page.get_by_role("button", name="Save the result").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(isr).to_have_attribute("aria-invalid", "true")
    cell_error = page.locator("tr.segment-row td .field-error")
    expect(cell_error).to_have_count(1)
    expect(isr).to_have_attribute("aria-describedby", re.compile(cell_error.get_attribute("id")))
    assert unlinked_errors(page) == []
    assert_accessible(page, "visit result form, refused")
    page.locator("#error-summary a").first.click()
    expect(isr).to_be_focused()
    isr.fill("60")
    page.get_by_role("button", name="Save the result").click()
    expect(page.locator(".messages")).to_contain_text(
        "Abnormal findings were sent to the responsible clinician"
    )
    expect(page.locator("#visit-status")).to_have_text("Done")
    assert_accessible(page, "visit, done")
    page.screenshot(path=tmp_path / "visit.png", full_page=True)
    page.get_by_role("button", name="Log out").click()

    escalation = Escalation.objects.get()
    assert escalation.clinician == clinician
    assert [m.to for m in mail.outbox] == [[clinician.email]]

    # The clinician sees the escalation on her home page and acknowledges it.
    log_in(page, live_server.url, "alice", PASSWORD)
    banner = page.locator("#escalation-banner")
    expect(banner).to_contain_text("1 follow-up escalation awaits your acknowledgement")
    expect(page.locator("#bell-count")).to_have_text("1")
    assert_accessible(page, "clinician's home with an escalation")
    banner.get_by_role("link", name="Review escalations").click()
    assert_accessible(page, "escalations")
    page.locator(f"tr[data-escalation='{escalation.pk}']").get_by_role(
        "link", name=str(escalation.pk)
    ).click()
    expect(page.locator("#escalation-findings")).to_contain_text(
        "In-stent restenosis ≥ 50 % (CIV left, 60 %)"
    )
    assert_accessible(page, "escalation")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messages")).to_contain_text(f"Escalation {escalation.pk} acknowledged")
    assert_accessible(page, "escalation, acknowledged")
    expect(page.locator("#escalation-banner")).to_have_count(0)
    expect(page.locator("#escalation-state")).to_contain_text("alice")
    page.screenshot(path=tmp_path / "escalation.png", full_page=True)

    escalation.refresh_from_db()
    assert escalation.acknowledged_by == clinician


def test_nurse_finds_a_patient_by_name_and_sees_the_number_to_call(
    page: Page, live_server, overdue_visit: Visit
):
    patient = overdue_visit.schedule.case.patient
    patient.name, patient.phone, patient.preferred_contact = (
        "Greta Lindqvist",
        "+49 30 555 0404",
        "phone",
    )
    patient.save()
    log_in(page, live_server.url, "nina", PASSWORD)
    expect(page.get_by_role("heading", name="Follow-up worklist")).to_be_visible()
    page.get_by_label("Find").fill("lindq")
    page.get_by_label("Find").press("Enter")
    rows = page.locator("table.worklist tbody tr[data-visit]")
    expect(rows.first).to_contain_text("Greta Lindqvist")
    expect(rows.filter(has_not_text="Greta Lindqvist")).to_have_count(0)
    call = rows.first.get_by_role("link", name="+49 30 555 0404")
    expect(call).to_have_attribute("href", "tel:+49305550404")
    assert_accessible(page, "worklist, found by name")
    page.get_by_label("Find").fill("nobody-called-this")
    page.get_by_label("Find").press("Enter")
    expect(page.locator("table.worklist tbody tr[data-visit]")).to_have_count(0)


def test_clinician_reaches_schedule_next_visit_escalation_and_trend_from_the_case(
    page: Page, live_server, overdue_visit: Visit, nurse
):
    visit_result_record(
        visit=overdue_visit,
        user=nurse,
        data={
            "performed_on": overdue_visit.target_on,
            **{f"vcss_{item.key}": 1 for item in VCSS_ITEMS},
        },
        segments=[{"segment": "CIV", "side": "left", "patency": "occluded"}],
    )
    schedule = overdue_visit.schedule
    log_in(page, live_server.url, "alice", PASSWORD)
    page.goto(f"{live_server.url}/cases/{schedule.case_id}/")
    panel = page.locator("#followup-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".fu-trend").first).to_be_visible()
    expect(panel.locator("[id^='case-escalation-']")).to_contain_text("awaiting acknowledgement")
    assert_accessible(page, "case with its follow-up panel")
    panel.locator(".next-visit a").click()
    expect(page.locator("#visit-status")).to_be_visible()
    page.go_back()
    panel.get_by_role("link", name=re.compile("Duplex schedule from")).click()
    expect(page).to_have_url(re.compile(rf"/followup/schedules/{schedule.pk}/$"))
    assert_accessible(page, "schedule")
    page.go_back()
    panel.locator("[id^='case-escalation-'] a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Escalation")


def test_guideline_admin_adds_a_visit_row_to_a_protocol_revision(
    page: Page, live_server, guideline_admin
):
    """The formset's "Add visit" button (app.js, shared by every formset) adds an empty row,
    counts it for the server and puts the cursor in it."""
    from followup.models import Protocol

    protocol = Protocol.objects.filter(retired_at__isnull=True).order_by("pk").first()
    log_in(page, live_server.url, "gustav", PASSWORD)
    page.goto(f"{live_server.url}/followup/protocols/{protocol.pk}/revise/")
    rows = page.locator("#visits-rows .finding-row")
    before = rows.count()
    total = page.locator("[name='visits-TOTAL_FORMS']")
    page.get_by_role("button", name="Add visit").click()
    expect(rows).to_have_count(before + 1)
    expect(total).to_have_value(str(before + 1))
    focused = page.evaluate("document.activeElement.name")
    assert focused.startswith(f"visits-{before}-")
