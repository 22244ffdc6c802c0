"""Accessibility checks of a page as the browser shows it.

axe-core (pinned, vendored under static/vendor) finds what rules can see; the other checks
(tests/e2e/a11y.js) measure what axe cannot: reflow (WCAG 1.4.10), the focus indicator's
contrast (2.4.7, 1.4.11), field borders (1.4.11), error messages tied to their fields (3.3.1)
and what a screen reader announces (4.1.3, tests/e2e/announcements.js).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from playwright.sync_api import Page

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core-4.14.1.min.js"
MEASURE = Path(__file__).with_name("a11y.js")
ANNOUNCEMENTS = Path(__file__).with_name("announcements.js")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MIN_CONTRAST = 3.0  # non-text contrast, WCAG 1.4.11


def _measure(page: Page, call: str, arg: Any = None) -> Any:
    if not page.evaluate("() => Boolean(window.__a11y)"):
        page.add_script_tag(path=str(MEASURE))
    return page.evaluate(f"(arg) => window.__a11y.{call}", arg)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations.map((v) => ({
                id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
            }));
        }""",
        WCAG_21_AA,
    )


def assert_accessible(page: Page, state: str) -> None:
    """Fail on any axe-core violation in this page state."""
    violations = axe_violations(page)
    report = "\n".join(f"  {v['id']}: {v['help']} at {', '.join(v['nodes'])}" for v in violations)
    assert not violations, f"axe-core, {state} ({page.url}):\n{report}"


def overflow(page: Page) -> dict[str, Any]:
    """How far the document is wider than the viewport, and the widest culprits outside any
    scroll container."""
    return _measure(page, "overflow()")


def weak_field_borders(page: Page) -> list[str]:
    """Visible, unfocused form fields whose border has less than 3:1 against the page."""
    return _measure(page, "weakFieldBorders(arg)", MIN_CONTRAST)


def missing_focus_indicators(page: Page) -> list[str]:
    """Controls of the page (one of each kind) without a visible focus indicator."""
    return _measure(page, "focusIndicators(arg)", MIN_CONTRAST)


def tab_through(page: Page, within: str, limit: int = 400) -> tuple[list[str], list[str]]:
    """Press Tab from the top of the page until focus leaves the page; returns the controls
    inside ``within`` never reached, and the stops without a visible focus indicator (an
    outline at least 2 px wide with at least 3:1 against what it is drawn on)."""
    expected = _measure(page, "markFocusable(arg)", within)
    assert expected, f"nothing focusable in {within}"
    reached: set[str] = set()
    invisible: set[str] = set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = _measure(page, "focusIndicator(arg)", MIN_CONTRAST)
        if state["element"] is None:
            break
        if state["key"]:
            reached.add(state["key"])
        if not state["visible"]:
            invisible.add(f"{state['element']}: {state['detail']}")
    return _measure(page, "unreached(...arg)", [within, sorted(reached)]), sorted(invisible)


def unlinked_errors(page: Page) -> list[str]:
    """Error messages not tied to their field.

    Each invalid field must point (aria-describedby) to an element that exists, holds its
    message and sits next to it (same field block or table cell); each field message must be
    pointed to by its field; each link of the error summary must lead to a field; and one
    alert at most (the summary), so that a screen reader announces the errors once."""
    return _measure(page, "unlinkedErrors()")


def listen_for_announcements(page: Page) -> None:
    """Record announcements on this page and on every page loaded after it."""
    page.add_init_script(path=str(ANNOUNCEMENTS))
    page.add_script_tag(path=str(ANNOUNCEMENTS))


def announcements(page: Page) -> list[str]:
    """What was announced since the page loaded or since the last call; then forget it."""
    return page.evaluate("() => window.__announcements.splice(0)")


def announced(page: Page, quiet_ms: int = 1500) -> list[str]:
    """Wait for the next announcement, then for ``quiet_ms`` in which the page may say more;
    return everything said (and forget it)."""
    page.wait_for_function("() => window.__announcements.length > 0")
    page.wait_for_timeout(quiet_ms)
    return announcements(page)
