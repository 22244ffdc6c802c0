"""The centre's local time: a visit is due by the centre's calendar date, and its reminders go
out at the reminder hour of the centre's day, whatever the server's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings

from venousapp.accounts.models import Centre


def centre_zone(centre: Centre) -> zoneinfo.ZoneInfo:
    return centre.zone


def centre_today(centre: Centre, now: dt.datetime | None = None) -> dt.date:
    """The calendar date at the centre right now (visits are due by local date)."""
    return centre.today(now)


def local_at(centre: Centre, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=centre_zone(centre))


def reminder_hour() -> int:
    return int(settings.FOLLOWUP_REMINDER_HOUR)
