"""Logging in through the login page, as a person does."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from demo import cases as demo_cases


def log_in(
    page: Page,
    base_url: str,
    username: str = "clinician",
    password: str = demo_cases.DEFAULT_PASSWORD,
) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
