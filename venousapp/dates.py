"""The limits of the dates people enter, one definition for the forms, the API serializers and
the services of every app.

A date typed as 0001-01-01 or 9999-12-31 is a slip of the keyboard, and adding a follow-up
window to the last one overflows Python's calendar. What a clinician expects instead:

- a date of birth on or after 1 January 1900 and not in the future (:func:`birth_dates`);
- what has happened (a case, a symptom onset, a procedure, a contact attempt, a visit, a
  re-intervention) within ``CLINICAL_DATES_YEARS_BACK`` years before today and not after
  today (:func:`past_dates`);
- what is planned: re-imaging from today (:func:`future_dates`), a visit's new target date
  from the same years back (an overdue visit may keep its date) (:func:`planned_dates`), both
  up to ``CLINICAL_DATES_YEARS_AHEAD`` years after today.

"Today" is the centre's date (``Centre.today``), so a procedure dated on the centre's day is
accepted in every time zone. The error names the limit ("Enter a date on or after 1 January
1900."), on the field of a form and as the field's 400 in the API.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import dateparse, formats, timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February becomes 28 February), held at the first or
    last day of the calendar when it would leave it."""
    year = day.year + years
    if year > dt.MAXYEAR:
        return dt.date.max
    if year < dt.MINYEAR:
        return dt.date.min
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return day.replace(year=year)


def _long(day: dt.date) -> str:
    return formats.date_format(day, "j F Y")


@dataclass(frozen=True)
class DateLimits:
    """The first and the last date a field accepts, both included."""

    earliest: dt.date
    latest: dt.date

    def problem(self, day: dt.date) -> str | None:
        """What is wrong with ``day``, or None when it lies within the limits."""
        if day < self.earliest:
            return _("Enter a date on or after %(date)s.") % {"date": _long(self.earliest)}
        if day > self.latest:
            return _("Enter a date no later than %(date)s.") % {"date": _long(self.latest)}
        return None

    def check(self, value: dt.date) -> None:
        """A validator for form and serializer fields: ``ValidationError`` naming the limit."""
        problem = self.problem(value)
        if problem is not None:
            raise ValidationError(problem, code="date_out_of_limits")

    def widget_attrs(self) -> dict[str, str]:
        """``min`` and ``max`` of a date input, so the browser offers only these dates."""
        return {"min": self.earliest.isoformat(), "max": self.latest.isoformat()}


Limits = Callable[[dt.date], DateLimits]


def birth_dates(today: dt.date) -> DateLimits:
    return DateLimits(EARLIEST_BIRTH_DATE, today)


def past_dates(today: dt.date) -> DateLimits:
    return DateLimits(add_years(today, -settings.CLINICAL_DATES_YEARS_BACK), today)


def future_dates(today: dt.date) -> DateLimits:
    return DateLimits(today, add_years(today, settings.CLINICAL_DATES_YEARS_AHEAD))


def planned_dates(today: dt.date) -> DateLimits:
    return DateLimits(
        add_years(today, -settings.CLINICAL_DATES_YEARS_BACK),
        add_years(today, settings.CLINICAL_DATES_YEARS_AHEAD),
    )


def _as_date(value: dt.date | str | None) -> dt.date | None:
    """A service may be given the date as ISO text, as the model field accepts it; text that
    is no date is left to the model's own validation."""
    if not isinstance(value, str):
        return value
    try:
        return dateparse.parse_date(value)
    except ValueError:
        return None


def check_dates(values: Mapping[str, tuple[dt.date | str | None, DateLimits]]) -> None:
    """For services: ``ValidationError`` naming every field whose date is out of its limits.

    ``values`` maps a field name to its value (None: not given) and its limits.
    """
    errors = {}
    for name, (value, limits) in values.items():
        day = _as_date(value)
        if day is not None and (problem := limits.problem(day)) is not None:
            errors[name] = problem
    if errors:
        raise ValidationError(errors)


def local_day(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The calendar day of ``moment`` in ``zone``. On the calendar's first or last day, where
    converting overflows, its own day: a day's difference does not matter that far out."""
    try:
        return moment.astimezone(zone).date()
    except OverflowError:
        return moment.date()


class DateLimitsFormMixin:
    """Form date fields kept to their limits: ``date_limits`` maps a field name to the
    function of today that gives its limits; ``today`` is the centre's date (the site's when
    the form is built without one)."""

    date_limits: ClassVar[Mapping[str, Limits]] = {}

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        for name, limits_of in self.date_limits.items():
            limits = limits_of(self.today)
            field = self.fields[name]  # type: ignore[attr-defined]
            field.widget.attrs.update(limits.widget_attrs())
            field.validators.append(limits.check)


def _validator(limits: DateLimits, zone: dt.tzinfo) -> Callable[[dt.date], None]:
    def check(value: dt.date) -> None:
        limits.check(local_day(value, zone) if isinstance(value, dt.datetime) else value)

    return check


class DateLimitsSerializerMixin:
    """Serializer date (and date-time) fields kept to their limits (``date_limits`` as for
    forms), at the requesting user's centre: its today, and its calendar day of a moment."""

    date_limits: ClassVar[Mapping[str, Limits]] = {}

    def get_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        centre = getattr(getattr(request, "user", None), "centre", None)
        today = centre.today() if centre is not None else timezone.localdate()
        zone = centre.zone if centre is not None else timezone.get_current_timezone()
        for name, limits_of in self.date_limits.items():
            field = fields.get(name)
            if field is not None and not field.read_only:
                field.validators = [*field.validators, _validator(limits_of(today), zone)]
        return fields


class DateTimeField(serializers.DateTimeField):
    """DRF's date-time field, answering 400 for a naive time on the calendar's first or last
    day: DRF checks it through UTC, which overflows there, and would answer 500."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")
