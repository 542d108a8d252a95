"""The period a dashboard page shows: its kind (month, quarter, year), which one (2026-05, 2026-Q2, 2026), the
periods that have responses to choose from, its dates, and its name in Vietnamese or English."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.reports.compare import key_index
from bot.reports.request import ReportRequest, period_key, period_label
from bot.services import Services
from bot.storage.models import Response

KINDS = ("month", "quarter", "year")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


@dataclass(frozen=True)
class Period:
    kind: str  # month, quarter or year
    key: str  # as in the report's rows: 2026-05, 2026-Q2, 2026
    first: dt.date
    last: dt.date

    def label(self, language: str) -> str:
        return label(self.key, self.kind, language)

    def query(self) -> dict[str, str]:
        """The dashboard's query parameters for this period."""
        return {"period": self.kind, "at": self.key}


def bounds(key: str, kind: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period; ValueError for a key that is not one of ``kind``."""
    if kind == "month":
        year, month = (int(part) for part in key.split("-"))
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    if kind == "quarter":
        year, quarter = key.split("-Q")
        first = dt.date(int(year), 3 * (int(quarter) - 1) + 1, 1)
        last_month = first.month + 2
        return first, dt.date(first.year, last_month, calendar.monthrange(first.year, last_month)[1])
    return dt.date(int(key), 1, 1), dt.date(int(key), 12, 31)


def label(key: str, kind: str, language: str) -> str:
    """"tháng 5/2026", "quý II/2026", "năm 2026"; in English "May 2026", "Q2 2026", "2026"."""
    if language == "vi":
        return period_label(key, ReportRequest(period=kind))
    if kind == "month":
        year, month = key.split("-")
        return f"{_MONTHS_EN[int(month) - 1]} {year}"
    if kind == "quarter":
        year, quarter = key.split("-Q")
        return f"Q{quarter} {year}"
    return key


def key_of(day: dt.date, kind: str) -> str:
    months = (day.year - 1970) * 12 + day.month - 1
    index = {"month": months, "quarter": day.year * 4 + (day.month - 1) // 3, "year": day.year}[kind]
    return period_key(index, kind)


async def span(services: Services, survey: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day with a response to ``survey``, or None when there is none."""
    # Two queries: SQLite answers a lone min() or max() from the (instrument, day) index, both at once by a scan.
    async with services.db.reading() as session:
        first, last = [(await session.execute(select(end(Response.submitted_on)).where(
            Response.instrument == survey))).scalar() for end in (func.min, func.max)]
    if first is None:
        return None
    as_date = dt.date.fromisoformat if isinstance(first, str) else (lambda value: value)
    return as_date(first), as_date(last)


def choices(kind: str, days: tuple[dt.date, dt.date] | None) -> list[str]:
    """The periods of ``kind`` from the first response's to the last's, newest first."""
    if days is None:
        return [key_of(dt.date.today(), kind)]
    start, end = (key_index(key_of(day, kind), kind) for day in days)
    return [period_key(index, kind) for index in range(end, start - 1, -1)]


def chosen(query, days: tuple[dt.date, dt.date] | None) -> tuple[Period, list[str]]:
    """The period the query asks for (?period=KIND&at=KEY), the latest one with responses when it asks for none
    or for one without any, and the keys to choose from."""
    kind = query.get("period", "month")
    kind = kind if kind in KINDS else "month"
    keys = choices(kind, days)
    key = query.get("at") if query.get("at") in keys else keys[0]
    return Period(kind, key, *bounds(key, kind)), keys


def months_to(period: Period, count: int = 12) -> tuple[dt.date, dt.date]:
    """The ``count`` months ending with ``period``'s last month: the span of a centre's trend."""
    last_month = key_index(key_of(period.last, "month"), "month")
    first = bounds(period_key(last_month - count + 1, "month"), "month")[0]
    return first, period.last
