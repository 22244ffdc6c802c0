"""Headless Chromium: the clinician enters a chronic post-thrombotic case.

Runs against pytest-django's live server (tests/e2e/conftest.py); Chromium is Debian's
(tests/conftest.py, ``browser_type_launch_args``).
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case
from tests.e2e.a11y import assert_accessible, unlinked_errors
from tests.e2e.session import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IDENTIFIER = "40999123"


def open_new_case(page: Page) -> None:
    page.get_by_role("button", name="New case").click()  # a link styled as a button
    expect(page.get_by_role("heading", name="New case")).to_be_visible()


def fill_patient(page: Page) -> None:
    page.locator("#section-patient").get_by_label("Hospital identifier").fill(IDENTIFIER)
    page.locator("#section-patient").get_by_label("Name").fill("Test Example")
    page.get_by_label("Date of birth").fill("1969-04-12")
    page.get_by_label("Sex").select_option("female")


def fill_lesion(page: Page, entity: str = "chronic_post_thrombotic") -> None:
    page.get_by_label("Case date").fill("2026-11-02")
    page.locator("#section-lesion").get_by_label("Side").select_option("left")
    page.get_by_label("Lesion entity").select_option(entity)


def fill_finding(page: Page, index: int, segment: str, finding: str, area: str, ref: str) -> None:
    page.locator(f"[name='findings-{index}-segment']").select_option(segment)
    page.locator(f"[name='findings-{index}-side']").select_option("left")
    page.locator(f"[name='findings-{index}-finding']").select_option(finding)
    page.locator(f"[name='findings-{index}-area_reduction_pct']").fill(area)
    page.locator(f"[name='findings-{index}-reference_diameter_mm']").fill(ref)
    page.locator(f"[name='findings-{index}-imaging_method']").select_option("ivus")


def test_clinician_enters_a_chronic_case_with_two_findings(
    page: Page, site: str, clinician, tmp_path: Path
):
    log_in(page, site)
    assert_accessible(page, "case list")
    open_new_case(page)
    assert_accessible(page, "new case form")
    fill_patient(page)
    fill_lesion(page)

    # Only the sections of the chosen entity are shown.
    expect(page.locator("#section-acute")).to_be_hidden()
    expect(page.locator("#section-chronic")).to_be_visible()

    expect(page.locator("#findings-rows .finding-row")).to_have_count(1)
    fill_finding(page, 0, "CIV", "occlusion", "100", "16")
    page.get_by_role("button", name="Add segment finding").click()
    expect(page.locator("#findings-rows .finding-row")).to_have_count(2)
    fill_finding(page, 1, "EIV", "stenosis", "70", "14")

    page.get_by_label("CEAP 2020").fill("c3, c4b,s esi ad po (civ, eiv)")
    reading = page.locator("#ceap-reading")
    expect(reading).to_contain_text("oedema")  # the live plain-language reading (htmx)
    expect(reading).to_contain_text("lipodermatosclerosis")
    expect(reading).to_contain_text("C3,4b,s Esi Ad Po (CIV,EIV)")
    assert_accessible(page, "new case form, filled in")
    page.screenshot(path=tmp_path / "case-form.png", full_page=True)

    page.get_by_role("button", name="Save case").click()

    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    expect(page.locator(".page-head")).to_contain_text(IDENTIFIER)
    findings = page.locator("#findings")
    expect(findings).to_contain_text("Common iliac vein (CIV)")
    expect(findings).to_contain_text("External iliac vein (EIV)")
    expect(page.locator("#ceap")).to_contain_text("C3,4b,s Esi Ad Po (CIV,EIV)")
    assert_accessible(page, "the new case")
    page.screenshot(path=tmp_path / "case-detail.png", full_page=True)

    case = Case.objects.get(patient__identifier=IDENTIFIER)
    assert case.lesion_entity == "chronic_post_thrombotic"
    assert sorted(case.findings.values_list("segment", flat=True)) == ["CIV", "EIV"]
    assert case.history.count() == 1


def test_a_mistake_shows_the_error_summary_and_keeps_what_was_typed(
    page: Page, site: str, clinician, tmp_path: Path
):
    log_in(page, site)
    open_new_case(page)
    fill_patient(page)
    fill_lesion(page)
    fill_finding(page, 0, "CIV", "occlusion", "100", "16")
    page.get_by_label("CEAP 2020").fill("C4b,s Es Ai,p Pr,o")
    expect(page.locator("#ceap-reading")).to_contain_text("did you mean Ad?")

    page.get_by_role("button", name="Save case").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Ai is not a CEAP anatomy code; did you mean Ad?")
    expect(summary).to_be_focused()
    ceap = page.get_by_label("CEAP 2020")
    expect(ceap).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_case-ceap_error")).to_contain_text("did you mean Ad?")
    expect(summary.get_by_role("link", name=re.compile("CEAP 2020"))).to_have_attribute(
        "href", "#id_case-ceap"
    )
    assert unlinked_errors(page) == []
    assert_accessible(page, "new case form, refused")
    page.screenshot(path=tmp_path / "case-form-error.png", full_page=True)
    # Nothing typed is lost.
    expect(page.locator("#section-patient").get_by_label("Hospital identifier")).to_have_value(
        IDENTIFIER
    )
    expect(page.get_by_label("Date of birth")).to_have_value("1969-04-12")
    expect(page.get_by_label("Lesion entity")).to_have_value("chronic_post_thrombotic")
    expect(page.get_by_label("CEAP 2020")).to_have_value("C4b,s Es Ai,p Pr,o")
    expect(page.locator("[name='findings-0-segment']")).to_have_value("CIV")
    expect(page.locator("[name='findings-0-area_reduction_pct']")).to_have_value("100")
    expect(page.locator("#section-chronic")).to_be_visible()
    expect(page.locator("#section-acute")).to_be_hidden()
    assert not Case.objects.filter(patient__identifier=IDENTIFIER).exists()
