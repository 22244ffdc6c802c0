"""The limits of entered dates come from the environment (``CLINICAL_DATES_YEARS_BACK``,
``CLINICAL_DATES_YEARS_AHEAD``; venousapp/dates.py), and a window of no years stops startup
instead of refusing every date."""

from __future__ import annotations

import pytest

from tests.test_settings import production_env, run

READ = (
    "import django; django.setup(); import datetime as dt; from venousapp import dates; "
    "limits = dates.planned_dates(dt.date(2026, 11, 16)); "
    "print(limits.earliest.isoformat(), limits.latest.isoformat())"
)


def test_the_years_back_and_ahead_are_read_from_the_environment():
    default = run(["-c", READ], production_env())
    assert default.stdout.split() == ["1996-11-16", "2036-11-16"], default.stderr
    configured = run(
        ["-c", READ],
        production_env(CLINICAL_DATES_YEARS_BACK="5", CLINICAL_DATES_YEARS_AHEAD="2"),
    )
    assert configured.stdout.split() == ["2021-11-16", "2028-11-16"], configured.stderr


@pytest.mark.parametrize("name", ["CLINICAL_DATES_YEARS_BACK", "CLINICAL_DATES_YEARS_AHEAD"])
def test_a_window_of_no_years_stops_startup(name):
    result = run(["manage.py", "check"], production_env(**{name: "0"}))
    assert result.returncode != 0
    assert f"{name} must be at least 1, not '0'." in result.stderr
