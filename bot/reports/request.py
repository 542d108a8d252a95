"""What a report asks for (checked before any database work), and its periods."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from bot.errors import UserError

PERIODS = ("month", "quarter", "year", "all")
DIMENSIONS = ("centre", "service", "channel", "origin", "parent")  # parent: the top centre (bot.reports.rollup)
# How a response was reached, the values of the "origin" dimension and of --origin (bot.reports.dataset codes them
# 0, 1, 2 in this order): with an invitation, an open survey at a counter (no invitation), a paper form imported.
ORIGINS = ("invited", "open", "paper")
FORMATS = ("table", "csv", "xlsx", "json")
PARTICIPATION = ("issued", "opened", "started", "completed")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class ReportRequest:
    survey: str | None = None
    period: str = "all"
    by: tuple[str, ...] = ("centre",)
    min_n: int = 30
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    origins: tuple[str, ...] | None = None  # only responses of these origins; None: every origin
    exclude_flagged: bool = False  # leave out the responses flagged as a burst from one client address
    total: bool = False  # one more row per period over every response: the province ("Toàn tỉnh")


def parse_request(*, survey: str | None = None, period: str = "all", by: str = "centre", min_n: int = 30,
                  date_from: str | None = None, date_to: str | None = None, origin: str | None = None,
                  exclude_flagged: bool = False, total: bool = False) -> ReportRequest:
    """A request from command-line text; every mistake is a UserError that says what is allowed."""
    period = period.strip().lower()
    if period not in PERIODS:
        raise UserError.say("admin.bad_period", periods=", ".join(PERIODS), period=period)
    dimensions = [part.strip().lower() for part in by.split(",") if part.strip()]
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown or not dimensions:
        raise UserError.say("admin.bad_by", dimensions=", ".join(DIMENSIONS), given=", ".join(unknown) or by)
    if min_n < 1:
        raise UserError.say("admin.bad_min_n", min_n=min_n)
    start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    if start and end and start > end:
        raise UserError.say("admin.from_after_to", first=start.isoformat(), last=end.isoformat())
    return ReportRequest(survey=survey, period=period, by=tuple(dict.fromkeys(dimensions)), min_n=min_n,
                         date_from=start, date_to=end, origins=parse_origins(origin),
                         exclude_flagged=exclude_flagged, total=total)


def parse_origins(text: str | None) -> tuple[str, ...] | None:
    """--origin: a comma-separated list of ORIGINS, in ORIGINS order; None (every origin) when not given."""
    if text is None:
        return None
    given = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [o for o in given if o not in ORIGINS]
    if unknown or not given:
        raise UserError.say("admin.bad_origin", origins=UserError.term("admin.origins_allowed"),
                            given=", ".join(unknown) or text)
    return tuple(o for o in ORIGINS if o in given)


def parse_date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        if not _ISO_DATE.match(text.strip()):
            raise ValueError
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError.say("admin.bad_day", option=option, text=text) from None


def period_index(days: np.ndarray, period: str) -> np.ndarray:
    """An integer per day that sorts like the period: months or years since 1970, year * 4 + quarter, or 0."""
    if period == "all" or not len(days):
        return np.zeros(len(days), dtype=np.int64)
    # numpy's day-to-month conversion is slow per element; convert the few hundred distinct days once instead.
    number = days.astype(np.int64)
    first = int(number.min())
    lookup = np.arange(first, int(number.max()) + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    months = np.take(lookup, number - first, mode="clip")
    if period == "month":
        return months
    if period == "quarter":
        return (months // 12 + 1970) * 4 + (months % 12) // 3
    return months // 12 + 1970  # year


def period_key(index: int, period: str) -> str:
    """The period as it appears in JSON and CSV: 2024-07, 2024-Q3, 2024 or all."""
    if period == "month":
        return f"{1970 + index // 12}-{index % 12 + 1:02d}"
    if period == "quarter":
        return f"{index // 4}-Q{index % 4 + 1}"
    return str(index) if period == "year" else "all"


def period_label(key: str, request: ReportRequest) -> str:
    """The period in Vietnamese: "tháng 7/2024", "quý III/2024", "năm 2024", or the date range for "all"."""
    if request.period == "month":
        year, month = key.split("-")
        return f"tháng {int(month)}/{year}"
    if request.period == "quarter":
        year, quarter = key.split("-Q")
        return f"quý {_ROMAN[int(quarter) - 1]}/{year}"
    if request.period == "year":
        return f"năm {key}"
    start, end = (d.strftime("%d/%m/%Y") if d else None for d in (request.date_from, request.date_to))
    if start and end:
        return f"{start}–{end}"
    return f"từ {start}" if start else f"đến {end}" if end else "toàn bộ"


def participation_keys(request: ReportRequest) -> tuple[str, ...] | None:
    """The dimensions invitations can be counted by for this report, or None: invitations have no channel, and a
    report of open surveys or paper forms only has none to count. (By origin, only the "invited" rows get them.)
    Invitations are not rolled up to the parent centre (yet): a report by parent has none either."""
    if {"channel", "parent"} & set(request.by) or (request.origins is not None and "invited" not in request.origins):
        return None
    return tuple(d for d in request.by if d in ("centre", "service"))
