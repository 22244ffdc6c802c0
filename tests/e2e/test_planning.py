"""Headless Chromium: the clinician plans an IVC reconstruction for the case with bilateral
iliac disease (the "ivc" scenario), reads the diagram and the stent sizes, ticks through the
checklist (mouse and keyboard), signs, downloads the PDF and records the procedure."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from planning.models import ProcedurePlan, ProcedureRecord
from tests.e2e.a11y import assert_accessible
from tests.e2e.session import log_in
from tests.scenarios import SCENARIOS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IVC_PATIENT = SCENARIOS["ivc"].identifier


@pytest.fixture
def ivc_case(scenario_case):
    return scenario_case("ivc")


def test_clinician_plans_an_ivc_reconstruction(site, ivc_case, page: Page, tmp_path):
    log_in(page, site)
    page.goto(f"{site}/cases/?q={IVC_PATIENT}")
    page.locator("table a[href^='/cases/']").first.click()
    section = page.locator("#procedure-plan")
    expect(section.get_by_role("heading", name="Procedure plan")).to_be_visible()
    expect(section.get_by_role("img", name="Iliocaval diagram of case")).to_be_visible()
    assert_accessible(page, "case with bilateral iliac disease")

    section.get_by_role("button", name="Plan the procedure").click()
    assert_accessible(page, "new plan")
    page.get_by_role("button", name="Create the plan").click()
    expect(page.get_by_text("was created from the case")).to_be_visible()
    plan = ProcedurePlan.objects.get(case__patient__identifier=IVC_PATIENT)

    # The plan: inverted-Y, bilateral and jugular access, stents sized per level.
    expect(page.locator("#plan-scenario")).to_have_text("IVC reconstruction (inverted-Y)")
    expect(page.locator("#plan-extension")).to_contain_text("Yes (inverted-Y)")
    access = page.locator("#plan-access li")
    expect(access).to_have_count(3)
    expect(access.nth(0)).to_contain_text("primary")
    expect(access.nth(2)).to_contain_text("internal jugular")
    diagram = page.get_by_role("img", name="Iliocaval diagram of case")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.stent")).to_have_count(5)
    expect(diagram.locator("g.inverted-y")).to_have_count(1)
    ivc_row = page.locator("tr.stent-row[data-segment='IVC']")
    expect(ivc_row).to_contain_text("sinus-XL")
    expect(ivc_row.locator(".stent-diameter")).to_have_text("22")
    expect(page.locator("tr.stent-row")).to_have_count(5)
    assert_accessible(page, "plan")
    page.screenshot(path=str(tmp_path / "plan.png"), full_page=True)

    # Tick the first item with the keyboard: focus stays on the box after the htmx swap.
    first = page.locator("li.check-item button.tick").first
    first.focus()
    page.keyboard.press("Space")
    expect(page.locator("li.check-item").first.locator("button.tick")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(page.locator("li.check-item").first.locator("button.tick")).to_be_focused()
    expect(page.locator("li.check-item").first.locator(".who")).to_have_text("alice")
    # ... and the rest with the mouse, phase by phase.
    while page.locator("button.tick[aria-checked='false']").count():
        box = page.locator("button.tick[aria-checked='false']").first
        item_id = box.locator("xpath=ancestor::li[1]").get_attribute("id")
        box.click()
        expect(page.locator(f"#{item_id} button.tick")).to_have_attribute("aria-checked", "true")
    total = plan.items.count()
    assert plan.items.filter(ticked_at__isnull=False, ticked_by__username="alice").count() == total
    for phase in ("preparation", "sign_in", "time_out", "sign_out"):
        expect(page.locator(f"#phase-count-{phase}")).to_have_class("phase-count complete")

    assert_accessible(page, "plan, checklist ticked")

    # Sign (no open contraindication on this case).
    page.get_by_role("button", name="Sign", exact=True).click()
    assert_accessible(page, "signing the plan")
    page.get_by_role("button", name="Sign the plan").click()
    expect(page.get_by_text("The plan was signed.")).to_be_visible()
    assert_accessible(page, "plan, signed")

    # The PDF.
    with page.expect_download() as download:
        page.get_by_role("button", name="PDF").click()
    path = tmp_path / "plan.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = " ".join(
            subprocess.run(
                [shutil.which("pdftotext") or "", "-layout", str(path), "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
        )
        assert f"Patient {IVC_PATIENT}" in text
        assert "sinus-XL" in text
        assert "Left common femoral vein — primary" in text

    # Record the procedure, pre-filled from the plan, with lot numbers.
    page.get_by_role("button", name="Record procedure").click()
    expect(page.get_by_role("heading", name="Record the procedure")).to_be_visible()
    assert_accessible(page, "procedure record form")
    lots = page.locator("input[name$='-lot']")
    for index in range(lots.count() - 1):  # the last row is an empty extra one
        lots.nth(index).fill(f"LOT-{index + 1}")
    page.get_by_label("Technical success").select_option("true")
    page.get_by_label("Max. balloon pressure (atm)").fill("18")
    page.get_by_role("button", name="Save the record").click()
    expect(page.get_by_text("The procedure was recorded.")).to_be_visible()
    assert_accessible(page, "procedure record")
    page.get_by_role("button", name="Complete and start follow-up").click()
    expect(page.get_by_text("the follow-up schedule was handed over")).to_be_visible()
    assert_accessible(page, "procedure record, completed")
    record = ProcedureRecord.objects.get(plan=plan)
    assert record.completed_at is not None
    assert sorted(record.implants.values_list("lot", flat=True)) == [
        f"LOT-{n}" for n in range(1, 6)
    ]
    assert hasattr(record, "followup_schedule")


def test_a_record_saved_without_touching_the_rows_keeps_every_planned_stent(
    site, ivc_case, page: Page
):
    log_in(page, site)
    page.goto(f"{site}/cases/?q={IVC_PATIENT}")
    page.locator("table a[href^='/cases/']").first.click()
    page.locator("#procedure-plan").get_by_role("button", name="Plan the procedure").click()
    page.get_by_role("button", name="Create the plan").click()
    expect(page.get_by_text("was created from the case")).to_be_visible()
    plan = ProcedurePlan.objects.get(case__patient__identifier=IVC_PATIENT)
    planned = plan.stents.count()

    page.get_by_role("button", name="Record procedure").click()
    page.get_by_label("Technical success").select_option("true")
    page.get_by_role("button", name="Save the record").click()
    expect(page.get_by_text("The procedure was recorded.")).to_be_visible()
    expect(page.locator("#implants tbody tr")).to_have_count(planned)
    expect(page.locator("#handover")).to_contain_text(f"Completing hands {planned} implanted")
    page.get_by_role("button", name="Complete and start follow-up").click()
    expect(page.get_by_text("the follow-up schedule was handed over")).to_be_visible()
    record = ProcedureRecord.objects.get(plan=plan)
    assert record.implants.count() == planned == 5
