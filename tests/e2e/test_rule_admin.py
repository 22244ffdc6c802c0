"""Headless Chromium: a guideline admin changes SVSAVF-2012-ETR-03's onset window (14 → 21
days) in the structured editor, a failing test case blocks publication, the fix lets it
through, a second admin approves, and a case with an 18-day history changes.

Runs against pytest-django's live server (tests/e2e/conftest.py); Chromium is Debian's
(tests/conftest.py, ``browser_type_launch_args``).
"""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from guidelines.models import RuleVersion
from tests.e2e.a11y import assert_accessible
from tests.e2e.session import log_in
from tests.factories import UserFactory
from tests.guidelines.rule_admin import (
    ETR03,
    acute_facts,
    acute_iliofemoral_case,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def late_case(centre_a, clinician):
    """A case at centre A, entered by Alice: acute iliofemoral DVT, symptoms for 18 days."""
    return acute_iliofemoral_case(
        centre=centre_a, author=clinician, onset_days=18, identifier="40999018"
    )


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def etr03_card(page: Page):
    return page.locator("#recommendations article", has_text=ETR03)


def test_admin_changes_a_rule_and_a_second_admin_publishes_it(
    page: Page, site: str, guideline_admin, late_case, tmp_path: Path
):
    UserFactory(
        username="guidelines_admin2", centre=late_case.patient.centre, role="guideline_admin"
    )
    case_url = f"{site}/cases/{late_case.pk}/"

    # Before: outside the 14-day window, ETR-03 advises against; anticoagulation only.
    log_in(page, site, "gustav")
    page.goto(case_url)
    expect(etr03_card(page).locator(".badge").first).to_have_text("Against")
    expect(page.locator("#overall-status")).to_contain_text("Anticoagulation only")

    # Open the rule and start a draft.
    page.goto(f"{site}/guidelines/rules/")
    assert_accessible(page, "rule list")
    page.get_by_role("link", name=ETR03, exact=True).click()
    expect(page.locator("#active-definition")).to_contain_text("Days since symptom onset ≤ 14")
    assert_accessible(page, "rule")
    page.get_by_role("button", name="New draft").click()  # a link styled as a button
    assert_accessible(page, "new draft")
    page.get_by_label("What do you intend to change?").fill("Onset window 21 days")
    page.get_by_role("button", name="Create draft").click()
    expect(page).to_have_url(re.compile(r"/v2/edit/$"))

    # The structured editor replaced the JSON textarea; change the onset criterion's value.
    editor = page.locator("#rule-editor")
    expect(editor).to_be_visible()
    expect(page.locator("textarea[name='logic']")).to_be_hidden()
    assert_accessible(page, "rule editor")
    onset = editor.locator('[data-path="criteria[0].test"]')
    expect(onset.get_by_label("Input")).to_have_value("symptom_onset_days")
    expect(onset.get_by_label("Operator")).to_have_value("lte")
    value = onset.get_by_label("Value")
    value.fill("21")
    editor.locator('[data-path="criteria[0]"]').get_by_label("Label").fill(
        "Symptoms for 21 days or fewer"
    )
    # Keyboard only: add a criterion (focus moves into it), then remove it again.
    editor.get_by_role("button", name="Add criterion").focus()
    page.keyboard.press("Enter")
    added = editor.locator('[data-path="criteria[5]"]')
    expect(added.get_by_label("Id")).to_be_focused()
    added.get_by_role("button", name="Remove criterion 6").focus()
    page.keyboard.press("Enter")
    expect(added).to_have_count(0)
    expect(editor.get_by_role("button", name="Add criterion")).to_be_focused()
    logic = json.loads(page.locator("textarea[name='logic']").input_value())
    assert logic["criteria"][0]["test"] == {"input": "symptom_onset_days", "op": "lte", "value": 21}
    assert_accessible(page, "rule editor, changed")
    page.screenshot(path=tmp_path / "editor.png", full_page=True)
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/v2/tests/$"))
    assert_accessible(page, "test cases")
    assert (
        RuleVersion.objects.get(rule__rule_id=ETR03, number=2).definition["criteria"][0]["test"][
            "value"
        ]
        == 21
    )

    # A test case with the wrong expectation fails and blocks the submission.
    add = page.locator("#add-test-case")
    add.get_by_label("Name").fill("18 days is inside the new window")
    add.get_by_label("Facts (JSON)").fill(json.dumps(acute_facts(symptom_onset_days=18)))
    add.get_by_label("Expected value").select_option("against")
    add.get_by_role("button", name="Add test case").click()
    page.get_by_role("button", name="Run all test cases").click()
    failing = page.locator("tr.test-case", has_text="18 days is inside the new window")
    expect(failing.locator(".badge")).to_have_text("fail")
    assert_accessible(page, "test cases, one failing")
    page.get_by_role("button", name="Submit for approval").click()  # link to the confirmation
    assert_accessible(page, "submission")
    page.get_by_role("button", name="Submit for approval").click()  # the confirmation's button
    expect(page.locator(".messages")).to_contain_text("Submission refused")
    expect(page.locator(".messages")).to_contain_text("1 of 7 test case(s) fail")
    assert_accessible(page, "submission refused")
    page.screenshot(path=tmp_path / "refused.png", full_page=True)

    # Fix the expectation, run again, submit.
    failing.get_by_role("link", name="Edit").click()
    assert_accessible(page, "test case")
    page.get_by_label("Expected value").select_option("consider")
    page.get_by_role("button", name="Save test case").click()
    page.get_by_role("button", name="Run all test cases").click()
    expect(page.locator(".messages")).to_contain_text("All 7 test case(s) pass.")
    expect(page.locator("tr.test-case .badge.test-fail")).to_have_count(0)
    page.get_by_role("button", name="Submit for approval").click()
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator(".messages")).to_contain_text("submitted")
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    log_out(page)

    # A second guideline admin approves; the case now gets the new recommendation.
    log_in(page, site, "guidelines_admin2")
    page.goto(f"{site}/guidelines/rules/{ETR03}/v2/")
    assert_accessible(page, "version awaiting approval")
    page.get_by_role("button", name="Approve and publish").click()
    assert_accessible(page, "approval")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".messages")).to_contain_text("is now active")
    expect(page.locator("#active-definition")).to_contain_text("Days since symptom onset ≤ 21")
    assert_accessible(page, "rule, published")

    page.goto(case_url)
    expect(etr03_card(page).locator(".badge").first).to_have_text("Consider")
    expect(page.locator("#overall-status")).to_contain_text("Early thrombus removal candidate")
    assert_accessible(page, "case after the new rule")
    page.screenshot(path=tmp_path / "case-after.png", full_page=True)
    version = RuleVersion.objects.get(rule__rule_id=ETR03, number=2)
    assert (version.status, version.author.username, version.approver.username) == (
        "active",
        "gustav",
        "guidelines_admin2",
    )


def test_without_javascript_the_json_textarea_still_works(browser, site, guideline_admin, tmp_path):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, site, "gustav")
        page.goto(f"{site}/guidelines/rules/{ETR03}/drafts/new/")
        page.get_by_role("button", name="Create draft").click()
        textarea = page.get_by_label("Logic (JSON)")
        expect(textarea).to_be_visible()
        text = textarea.input_value()
        textarea.fill(text.replace('"value": 14', '"value": 14,,'))
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("#field-logic .field-error")).to_contain_text("Invalid JSON at line")
        expect(page.get_by_label("Logic (JSON)")).to_have_value(
            text.replace('"value": 14', '"value": 14,,')
        )
        page.get_by_label("Logic (JSON)").fill(text.replace('"value": 14', '"value": 21'))
        page.get_by_role("button", name="Save draft").click()
        expect(page).to_have_url(re.compile(r"/v2/tests/$"))
    finally:
        context.close()
