"""Working days for follow-up cases: Monday to Friday in the centre's local day, less the configured days off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

SATURDAY = 5


def is_working_day(day: dt.date, holidays: Collection[dt.date] = ()) -> bool:
    return day.weekday() < SATURDAY and day not in holidays


def add_working_days(day: dt.date, count: int, holidays: Collection[dt.date] = ()) -> dt.date:
    """The day ``count`` working days after ``day`` (a case opened on a Friday with 5 days is due the next Friday;
    one opened on a Saturday counts from Monday, so it is due the Friday after: the same as a Friday's)."""
    current = day
    left = count
    while left > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current, holidays):
            left -= 1
    return current


def working_days_between(start: dt.date, end: dt.date, holidays: Collection[dt.date] = ()) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    days = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        days += is_working_day(current, holidays)
    return days
