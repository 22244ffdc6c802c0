"""Sessions end after SESSION_COOKIE_AGE of inactivity, yet an active user's session is
written at most once every SESSION_REFRESH_MINUTES instead of on every request."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

PASSWORD = "correct-horse-battery-staple"  # tests/factories.py
LOGIN = "/accounts/login/"
PAGE = "/accounts/me/"
START = dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC)
AGE = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
REFRESH = dt.timedelta(minutes=5)


def logs_in(client: Client) -> None:
    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302


def still_logged_in(client: Client) -> bool:
    response = client.get(PAGE)
    if response.status_code == 302:
        assert response["Location"].startswith(LOGIN)
        return False
    assert response.status_code == 200
    return True


def session_writes(queries: CaptureQueriesContext) -> int:
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].startswith(("UPDATE", "INSERT")) and '"django_session"' in query["sql"]
    )


def test_session_refresh_settings_default_to_five_minutes():
    assert settings.SESSION_REFRESH_MINUTES == 5
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60


def test_session_refresh_idle_session_ends_after_the_cookie_age(clinician):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        logs_in(client)
        assert still_logged_in(client)
        clock.move_to(START + AGE + dt.timedelta(seconds=1))
        assert not still_logged_in(client)


def test_session_refresh_idle_session_ends_after_activity_too(clinician):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        logs_in(client)
        last = START + dt.timedelta(hours=3, minutes=2)
        for minutes in range(0, 183, 7):
            clock.move_to(START + dt.timedelta(minutes=minutes))
            assert still_logged_in(client)
        clock.move_to(last + AGE + dt.timedelta(seconds=1))
        assert not still_logged_in(client)


def test_session_refresh_active_user_is_never_logged_out(clinician):
    """Requests a few minutes apart for longer than the cookie age: each idle gap is short,
    so the session must live on although most requests write nothing."""
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        logs_in(client)
        now = START
        while now < START + AGE + dt.timedelta(hours=1):
            now += dt.timedelta(minutes=23)
            clock.move_to(now)
            assert still_logged_in(client), now


def test_session_refresh_idle_up_to_the_age_less_the_refresh_interval_is_safe(clinician):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        logs_in(client)
        last = START + REFRESH - dt.timedelta(seconds=1)
        clock.move_to(last)
        assert still_logged_in(client)  # not refreshed: the last write is 4:59 old
        clock.move_to(last + AGE - REFRESH)
        assert still_logged_in(client)


def test_session_refresh_writes_at_most_once_per_interval(clinician):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        logs_in(client)
        with CaptureQueriesContext(connection) as quiet:
            for second in range(0, 290, 20):
                clock.move_to(START + dt.timedelta(seconds=second))
                assert still_logged_in(client)
        assert len(range(0, 290, 20)) == 15
        assert session_writes(quiet) == 0
        with CaptureQueriesContext(connection) as refreshed:
            for second in range(300, 590, 20):
                clock.move_to(START + dt.timedelta(seconds=second))
                assert still_logged_in(client)
        assert session_writes(refreshed) == 1


@pytest.mark.parametrize("minutes", [1, 10])
def test_session_refresh_interval_is_configurable(clinician, settings, minutes):
    settings.SESSION_REFRESH_MINUTES = minutes
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        logs_in(client)
        with CaptureQueriesContext(connection) as queries:
            for minute in range(1, 21):
                clock.move_to(START + dt.timedelta(minutes=minute, seconds=30))
                assert still_logged_in(client)
        assert session_writes(queries) == 20 // minutes


def test_session_refresh_a_changed_session_is_saved_at_once(clinician):
    """A message (stored in the session) is kept even within the interval."""
    client = Client()
    with time_machine.travel(START, tick=False):
        logs_in(client)
        client.post(PAGE, {"first_name": "Alice", "last_name": "", "email": "a@example.org"})
        assert "Your account was updated." in client.get(PAGE).content.decode()


def test_session_refresh_creates_no_session_for_anonymous_visitors(db):
    client = Client()
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_session_refresh_log_out_still_ends_the_session(clinician):
    client = Client()
    with time_machine.travel(START, tick=False) as clock:
        logs_in(client)
        clock.move_to(START + dt.timedelta(minutes=30))
        client.post("/accounts/logout/")
        assert not still_logged_in(client)
