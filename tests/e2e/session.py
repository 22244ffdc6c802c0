"""Logging in through the login page, as a person does."""

from __future__ import annotations

from playwright.sync_api import Page, expect

PASSWORD = "correct-horse-battery-staple"  # every persona's (tests/factories.py)


def log_in(
    page: Page,
    base_url: str,
    username: str = "alice",
    password: str = PASSWORD,
) -> None:
    """Log in as a persona of tests/conftest.py (Alice, the clinician, unless named); the
    test asks for the persona's fixture, which creates the user."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
