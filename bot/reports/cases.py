"""The follow-up figures of a report by centre: per centre and period, the cases opened, and of those the ones
closed, closed on time (on or before the due date) and still open past it (today, in the centres' local day).

Cases are counted by the period of the day they opened (a cohort): a case opened in March and closed in April counts
in March as closed. Only `--by centre` rows (and the `--total` rows, over every centre) carry them; cases of another
survey than the report's, or opened outside --from/--to, are not counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from sqlalchemy import select

from bot.reports.request import ReportRequest, period_index, period_key
from bot.services import Services
from bot.storage.base import utcnow
from bot.storage.models import Centre, FollowUpCase

COUNTS = ("opened", "closed", "closed_on_time", "open_overdue")
OPEN_STATUSES = ("new", "in_progress")  # bot.survey.cases.STATUSES but "resolved" (survey imports reports)
CSV_HEADERS = tuple(f"cases_{count}" for count in COUNTS)
SHEET_HEADERS = ("Phản hồi cần xử lý: đã mở", "Đã xử lý", "Xử lý đúng hạn", "Quá hạn chưa xử lý")
_EPOCH = dt.date(1970, 1, 1)


def applies(request: ReportRequest) -> bool:
    return request.by == ("centre",)


async def add_case_figures(services: Services, request: ReportRequest, rows: list[dict],
                           today: dt.date | None = None, *, sensitive: bool = True) -> None:
    """Give every row of a report by centre its ``cases`` figures (zeros where none opened); with
    ``sensitive=False`` without the harassment and payment reports (what counter staff may know of)."""
    if not applies(request) or not rows:
        return
    today = today or services.local_date(utcnow())
    async with services.db.reading() as session:
        query = (select(Centre.code, FollowUpCase.opened_on, FollowUpCase.status, FollowUpCase.due_on,
                        FollowUpCase.closed_on).join(Centre, FollowUpCase.centre_id == Centre.id)
                 .where(FollowUpCase.instrument == request.survey))
        if not sensitive:
            query = query.where(FollowUpCase.sensitive.is_(False))
        if request.date_from:
            query = query.where(FollowUpCase.opened_on >= request.date_from)
        if request.date_to:
            query = query.where(FollowUpCase.opened_on <= request.date_to)
        found = (await session.execute(query)).all()
    figures = count_cases(found, request.period, today)
    for row in rows:
        key = (None if row.get("total") else row.get("centre"), row["period"])
        row["cases"] = dict(figures.get(key) or dict.fromkeys(COUNTS, 0))


async def open_case_days(session, survey: str) -> list[dt.date]:
    """The days on which ``survey``'s still open cases were opened (a report's figures of those days change with
    today: a case may fall overdue); read through the index on (instrument, status, opened_on), two ranges."""
    return list((await session.scalars(select(FollowUpCase.opened_on).distinct().where(
        FollowUpCase.instrument == survey, FollowUpCase.status.in_(OPEN_STATUSES)))).all())


def count_cases(found: list, period: str, today: dt.date) -> dict[tuple[str | None, str], dict[str, int]]:
    """{(centre code, or None for all centres; period key): counts} of (code, opened_on, status, due_on,
    closed_on) rows."""
    figures: dict = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    if not found:
        return figures
    days = np.array([(row[1] - _EPOCH).days for row in found], dtype=np.int64)
    for row, index in zip(found, period_index(days, period).tolist(), strict=True):
        code, _, status, due_on, closed_on = row
        key = period_key(index, period)
        for counted in (figures[(code, key)], figures[(None, key)]):
            counted["opened"] += 1
            if status == "resolved":
                counted["closed"] += 1
                counted["closed_on_time"] += closed_on is not None and closed_on <= due_on
            elif due_on < today:
                counted["open_overdue"] += 1
    return figures


def csv_cells(row: dict) -> list[int | None]:
    cases = row.get("cases") or {}
    return [cases.get(count) for count in COUNTS]
