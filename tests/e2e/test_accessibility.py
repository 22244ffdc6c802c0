"""Headless Chromium: what an automated checker cannot see, measured as a person meets it.

Every page a persona reaches reflows at 320 px (WCAG 1.4.10) and at 200 % zoom without
scrolling sideways, with field borders of at least 3:1 (1.4.11) and a focus indicator of at
least 3:1 on every kind of control (2.4.7, 1.4.11); the new-case form, the worklist and the
rule editor are used with the keyboard alone, every control reached and its focus visible;
errors are tied to their fields (3.3.1) and updates made without a page load are announced
once (4.1.3).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Page, expect

from guidelines.models import RuleVersion
from tests.e2e.a11y import (
    announced,
    announcements,
    assert_accessible,
    listen_for_announcements,
    missing_focus_indicators,
    overflow,
    tab_through,
    unlinked_errors,
    weak_field_borders,
)
from tests.e2e.session import log_in
from tests.guidelines.rule_admin import ETR03

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NARROW = {"width": 320, "height": 720}  # WCAG 1.4.10: 1280 px at 400 %
ZOOM_200 = {"width": 640, "height": 400}  # 1280 × 800 at 200 %
SKIP = ("/admin/", "/api/", "/accounts/logout/", "/static/", "/healthz")
DOWNLOAD = re.compile(r"(\.pdf|\.csv|/pdf/|/export/)$")
PER_SHAPE = 1
MAX_PAGES = 60


def _shape(path: str) -> str:
    """The page kind: path segments holding an id (digits, or a rule id in capitals) as N."""
    return "/".join("N" if re.search(r"[\dA-Z%]", part) else part for part in path.split("/"))


def walk(page: Page, base_url: str) -> dict[str, list[str]]:
    """{page: problems} of every page of one kind reachable from the home page."""
    queue, seen, shapes = ["/"], set(), set()
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        shape = _shape(urlsplit(path).path)
        if path in seen or shape in shapes:
            continue
        seen.add(path)
        shapes.add(shape)
        page.set_viewport_size(NARROW)
        response = page.goto(base_url + path)
        assert response is not None
        assert response.status < 500, path
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        found = []
        narrow = overflow(page)
        if narrow["excess"] > 0:
            found.append(f"320 px: {narrow['excess']} px too wide: {narrow['culprits']}")
        page.set_viewport_size(ZOOM_200)
        zoomed = overflow(page)
        if zoomed["excess"] > 0:
            found.append(f"200 %: {zoomed['excess']} px too wide: {zoomed['culprits']}")
        found += [f"field border {b}" for b in weak_field_borders(page)]
        found += [f"focus {f}" for f in missing_focus_indicators(page)]
        if found:
            problems[path] = found
        for href in page.eval_on_selector_all(
            "a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))"
        ):
            target = urlsplit(urljoin(path, href))
            if target.scheme or target.netloc or not target.path.startswith("/"):
                continue
            if target.path.startswith(SKIP) or DOWNLOAD.search(target.path):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return problems


@pytest.mark.parametrize("persona", ["clinician", "nurse", "guideline_admin"])
def test_every_page_reflows_with_visible_focus_and_field_borders(
    page: Page, site: str, clinic, request, persona: str
):
    log_in(page, site, request.getfixturevalue(persona).username)
    problems = walk(page, site)
    report = "\n".join(f"{path}\n  " + "\n  ".join(found) for path, found in problems.items())
    assert not problems, f"{len(problems)} page(s) fall short:\n{report}"


def test_new_case_form_by_keyboard_alone(page: Page, site: str, clinician):
    log_in(page, site)
    page.goto(f"{site}/cases/new/")
    listen_for_announcements(page)

    missing, invisible = tab_through(page, "#case-form")
    assert not missing, f"never reached with Tab: {missing}"
    assert not invisible, "no visible focus indicator:\n" + "\n".join(invisible)
    page.set_viewport_size(NARROW)
    assert overflow(page)["excess"] <= 0, overflow(page)

    # The live CEAP reading is announced once the user pauses, not at every keystroke.
    announcements(page)
    page.get_by_label("CEAP 2020").press_sequentially("C2 Ep As Pr", delay=300)
    expect(page.locator("#ceap-reading")).to_contain_text("C2 Ep As Pr")
    said = announced(page)
    assert len(said) == 1, said
    assert "C2 Ep As Pr" in said[0]

    # An empty form, sent with the keyboard: the summary is announced once and links to each
    # field; each field's message is tied to it.
    page.get_by_label("CEAP 2020").fill("")
    announcements(page)
    page.get_by_role("button", name="Save case").focus()
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert unlinked_errors(page) == []
    field = page.get_by_label("Case date")
    expect(field).to_have_attribute("aria-invalid", "true")
    message = page.locator(f"#{field.get_attribute('aria-describedby').split()[-1]}")
    expect(message).to_be_visible()
    summary.get_by_role("link", name=re.compile("Case date")).focus()
    page.keyboard.press("Enter")
    expect(field).to_be_focused()
    assert_accessible(page, "new case, refused")


def test_worklist_by_keyboard_alone(page: Page, site: str, clinic, nurse):
    log_in(page, site, "nina")
    expect(page.get_by_role("heading", name="Follow-up worklist")).to_be_visible()

    # The skip link appears first and covers nothing.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    link, brand = skip.bounding_box(), page.locator("header .brand").bounding_box()
    assert link
    assert brand
    assert (
        link["x"] + link["width"] <= brand["x"]
        or brand["x"] + brand["width"] <= link["x"]
        or link["y"] + link["height"] <= brand["y"]
        or brand["y"] + brand["height"] <= link["y"]
    ), f"the skip link {link} covers the site name {brand}"

    missing, invisible = tab_through(page, "body")
    assert not missing, f"never reached with Tab: {missing}"
    assert not invisible, "no visible focus indicator:\n" + "\n".join(invisible)

    # Filtering replaces the rows without a page load: the result is announced once.
    listen_for_announcements(page)
    status = page.get_by_role("combobox", name="Status")
    status.focus()
    status.select_option("overdue")
    rows = page.locator("table.worklist tbody tr[data-visit]")
    expect(rows.filter(has_not_text="Overdue")).to_have_count(0)
    said = announced(page, quiet_ms=300)
    count = rows.count()
    assert said == [f"{count} visit{'s' if count != 1 else ''} shown"], said
    assert_accessible(page, "worklist, filtered")


def test_rule_editor_by_keyboard_alone(page: Page, site: str, guideline_admin):
    log_in(page, site, "gustav")
    page.goto(f"{site}/guidelines/rules/{ETR03}/drafts/new/")
    page.get_by_role("button", name="Create draft").click()
    version = RuleVersion.objects.get(rule__rule_id=ETR03, status="draft")
    expect(page).to_have_url(re.compile(rf"/v{version.number}/edit/$"))
    expect(page.locator("#rule-editor")).to_be_visible()
    assert_accessible(page, "rule editor")

    missing, invisible = tab_through(page, "#rule-editor")
    assert not missing, f"never reached with Tab: {missing}"
    assert not invisible, "no visible focus indicator:\n" + "\n".join(invisible)

    # The editor's nested groups reflow at 320 px too.
    page.set_viewport_size(NARROW)
    narrow = overflow(page)
    assert narrow["excess"] <= 0, narrow
