"""Headless Chromium: the clinical safety revision as a clinician meets it.

A pregnant patient with a symptomatic May-Thurner compression is deferred (the deferral card,
no "Plan the procedure"); a plan for a case where the guidelines disagree asks for a reason
and prints it on the plan and its PDF.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case
from planning.models import ProcedurePlan
from tests.e2e.a11y import assert_accessible, unlinked_errors
from tests.e2e.session import log_in
from tests.scenarios import SCENARIOS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PREGNANT = "40999777"
POOR_INFLOW = SCENARIOS["poor_inflow"].identifier
REASON = "Venous board: inflow to be restored by endophlebectomy in the same session."


def test_pregnant_patient_with_a_symptomatic_compression_is_deferred(
    page: Page, site: str, clinician, tmp_path
):
    log_in(page, site)
    page.get_by_role("button", name="New case").click()
    patient = page.locator("#section-patient")
    patient.get_by_label("Hospital identifier").fill(PREGNANT)
    patient.get_by_label("Date of birth").fill("1994-06-01")
    patient.get_by_label("Sex").select_option("female")
    page.get_by_label("Case date").fill("2026-11-02")
    page.locator("#section-lesion").get_by_label("Side").select_option("left")
    page.get_by_label("Lesion entity").select_option("nivl")
    page.locator("[name='findings-0-segment']").select_option("CIV")
    page.locator("[name='findings-0-side']").select_option("left")
    page.locator("[name='findings-0-finding']").select_option("compression")
    page.locator("[name='findings-0-area_reduction_pct']").fill("70")
    page.locator("[name='findings-0-imaging_method']").select_option("ivus")
    page.get_by_label("CEAP 2020").fill("C3,s Ese Ad Po (CIV)")
    page.get_by_label("Venous ulcer").select_option("none")
    page.get_by_label("Venous claudication").select_option("true")
    page.get_by_label("Impairment of daily life").select_option("moderate")

    tick = page.get_by_label("Pregnancy or lactation")
    expect(tick).not_to_be_checked()
    page.get_by_label("Pregnancy", exact=True).select_option("true")
    expect(tick).to_be_checked()  # ticked and locked while pregnancy is "Yes"
    tick.click(force=True)
    expect(tick).to_be_checked()
    assert_accessible(page, "new case form, pregnancy")
    page.get_by_role("button", name="Save case").click()

    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    expect(page.locator("#overall-status")).to_contain_text("Contraindicated")
    expect(page.locator("#overall-reasons")).to_contain_text(
        "Elective stenting is deferred during pregnancy"
    )
    card = page.locator("[data-rule='PRACTICE-PREGNANCY-DEFER']")
    expect(card).to_be_visible()
    expect(card.locator(".badge.provisional")).to_be_visible()
    expect(page.locator("#provisional-legend")).to_be_visible()
    expect(page.locator("#contraindication-class")).to_contain_text("Relative")
    expect(page.locator("#contraindication-class")).to_contain_text("Pregnancy or lactation")
    expect(page.get_by_role("button", name="Plan the procedure")).to_have_count(0)
    expect(page.get_by_role("link", name="Plan the procedure")).to_have_count(0)
    assert_accessible(page, "case deferred for pregnancy")
    page.screenshot(path=tmp_path / "pregnancy-deferred.png", full_page=True)

    case = Case.objects.get(patient__identifier=PREGNANT)
    assert case.overall_status == "contraindicated_defer"
    assert "pregnancy_or_lactation" in case.thrombolysis_contraindications


def test_a_plan_over_disagreeing_guidelines_asks_for_the_reason_and_prints_it(
    page: Page, site: str, scenario_case, tmp_path
):
    scenario_case("poor_inflow")
    log_in(page, site)
    page.goto(f"{site}/cases/?q={POOR_INFLOW}")
    page.locator("table a[href^='/cases/']").first.click()
    expect(page.locator("#overall-status")).to_contain_text("guidelines disagree")
    page.locator("#procedure-plan").get_by_role("button", name="Plan the procedure").click()

    expect(page.locator("#advice-against")).to_contain_text("SIR-2023-CIVO-05")
    page.get_by_role("button", name="Create the plan").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Record why the procedure is planned nonetheless")
    assert unlinked_errors(page) == []
    assert_accessible(page, "new plan, refused without a reason")
    assert not ProcedurePlan.objects.exists()

    page.get_by_label("Why the procedure is planned although a guideline advises against it").fill(
        REASON
    )
    page.get_by_role("button", name="Create the plan").click()
    expect(page.get_by_text("was created from the case")).to_be_visible()
    expect(page.locator("#plan-indication-override")).to_contain_text(REASON)
    expect(page.locator("#plan-indication-override")).to_contain_text("SIR-2023-CIVO-05")
    assert_accessible(page, "plan with the reason")

    with page.expect_download() as download:
        page.get_by_role("button", name="PDF").click()
    path = tmp_path / "plan.pdf"
    download.value.save_as(path)
    if shutil.which("pdftotext"):
        text = " ".join(
            subprocess.run(
                [shutil.which("pdftotext") or "", str(path), "-"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
        )
        assert REASON in text
        assert "Planned although a guideline advises against it" in text
