"""Headless Chromium: the clinician opens the ETR case (the "acute" scenario), reads the cards
and a "why", overrides a card with a reason, signs, and reopens the signed decision as it was.

Runs against pytest-django's live server (tests/e2e/conftest.py); Chromium is Debian's
(tests/conftest.py, ``browser_type_launch_args``).
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case
from guidelines.models import Decision
from tests.e2e.a11y import (
    announcements,
    assert_accessible,
    listen_for_announcements,
    unlinked_errors,
)
from tests.e2e.session import log_in
from tests.scenarios import SCENARIOS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ETR_PATIENT = SCENARIOS["acute"].identifier  # acute left iliofemoral DVT, ETR candidate


def test_clinician_overrides_a_card_signs_and_reopens_the_decision(
    page: Page, site: str, scenario_case, tmp_path: Path
):
    scenario_case("acute")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, site)
    row = page.get_by_role("row").filter(has_text=ETR_PATIENT)
    expect(row.locator(".overall-chip")).to_have_text("Early thrombus removal candidate")
    assert_accessible(page, "case list")
    page.screenshot(path=tmp_path / "case-list.png", full_page=True)
    row.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get(patient__identifier=ETR_PATIENT)

    # The status at once, the cards, and the disagreeing guideline beside the supporting ones.
    expect(page.locator("#overall-status")).to_contain_text("Early thrombus removal candidate")
    expect(page.locator(".rec-card")).to_have_count(9)
    expect(page.locator("#group-etr .side-supports #rule-ESVS-2021-VT-ETR")).to_be_visible()
    accp = page.locator("#group-etr .side-against #rule-ACCP-2016-CDT")
    expect(accp).to_be_visible()
    expect(accp).to_contain_text("Grade 2C")
    expect(accp.locator(".badge.provisional")).to_be_visible()

    # "Why", opened with the keyboard: every criterion with the values that decided it.
    esvs = page.locator("#rule-ESVS-2021-VT-ETR")
    why = esvs.locator("details.why")
    why.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(why).to_have_attribute("open", "")
    criteria = why.locator("li.criterion")
    expect(criteria).to_have_count(5)
    expect(criteria.first).to_contain_text("Population")
    expect(criteria.first).to_contain_text("acute thrombotic")
    expect(why).to_contain_text("Days since symptom onset: 4")
    assert_accessible(page, "case, a why opened")
    page.screenshot(path=tmp_path / "case-panel.png", full_page=True)

    # Override without a reason: refused in place (htmx), nothing chosen is lost.
    accp.get_by_label("Override", exact=True).check()
    reason = accp.get_by_label("Reason for the override")
    expect(reason).to_be_visible()  # shown only once "Override" is chosen
    listen_for_announcements(page)
    page.get_by_role("button", name="Sign decision").click()
    errors = page.locator("#decision-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("ACCP-2016-CDT: An override needs a reason.")
    expect(errors).to_be_focused()
    # The summary is announced once (the cards' messages are read with their fields), and
    # the reason's message is tied to the reason.
    said = announcements(page)
    assert len(said) == 1, said
    assert "An override needs a reason." in said[0]
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{reason.get_attribute('aria-describedby')}")).to_have_text(
        "An override needs a reason."
    )
    assert unlinked_errors(page) == []
    assert_accessible(page, "case, signing refused")
    expect(accp.get_by_label("Override", exact=True)).to_be_checked()
    page.screenshot(path=tmp_path / "case-panel-error.png", full_page=True)
    assert not Decision.objects.exists()

    reason.select_option(label="Patient preference")
    accp.get_by_label("Comment (optional)").fill("Prefers anticoagulation alone.")
    page.get_by_role("button", name="Accept all not yet answered").click()
    expect(
        page.locator("#rule-ESVS-2021-VT-ETR").get_by_label("Accept", exact=True)
    ).to_be_checked()
    expect(accp.get_by_label("Override", exact=True)).to_be_checked()
    expect(accp.get_by_label("Reason for the override")).to_have_value("patient_preference")
    page.get_by_label("Comment on the decision (optional)").fill("Venous board, 3 November.")
    page.get_by_role("button", name="Sign decision").click()

    # Back on the case page: the signed decision is listed.
    expect(page.locator(".messages")).to_contain_text("Decision signed.")
    decisions = page.locator("#decisions")
    expect(decisions.get_by_role("row")).to_have_count(2)  # header + one decision
    expect(decisions).to_contain_text("Early thrombus removal candidate")
    expect(decisions).to_contain_text("1 of 9")
    decision = Decision.objects.get()
    assert decision.case_id == case.pk
    assert decision.feedback.get(rule_id="ACCP-2016-CDT").reason == "patient_preference"
    assert decision.feedback.filter(action="accepted").count() == 8
    # Each card shows the answer signed, not blank forms again.
    expect(page.locator("#signed-state")).to_be_visible()
    expect(page.locator("#decision-form")).to_have_count(0)
    expect(page.locator("#rule-ACCP-2016-CDT .feedback-stored")).to_contain_text(
        "Overridden — Patient preference"
    )
    assert_accessible(page, "case, decision signed")
    decisions.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "case-signed.png")

    # The signed decision, exactly as it was.
    decisions.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Decision signed")
    expect(page.locator("#same-today")).to_be_visible()
    frozen_accp = page.locator("#rule-ACCP-2016-CDT")
    expect(frozen_accp.locator(".feedback-stored")).to_contain_text(
        "Overridden — Patient preference"
    )
    expect(frozen_accp).to_contain_text("Prefers anticoagulation alone.")
    expect(page.locator("#decision-summary")).to_contain_text("Venous board, 3 November.")
    as_signed = page.locator("#recommendations").inner_text()
    assert_accessible(page, "decision as signed")
    page.screenshot(path=tmp_path / "decision-as-of.png", full_page=True)

    # The case changes (bleeding risk now high): the decision stays as it was, with a note.
    Case.objects.filter(pk=case.pk).update(bleeding_risk_level="high")
    page.reload()
    expect(page.locator("#differs-today")).to_be_visible()
    expect(page.locator("#differs-today")).to_contain_text("Anticoagulation only")
    expect(page.locator("#facts-changed")).to_contain_text("level high")
    assert page.locator("#recommendations").inner_text() == as_signed
    assert_accessible(page, "decision as signed, differing today")
    page.screenshot(path=tmp_path / "decision-differs.png", full_page=True)
