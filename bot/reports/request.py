"""What a report asks for (checked before any database work), and its periods."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from bot.errors import UserError

PERIODS = ("week", "month", "quarter", "year", "all")
COMPARE = ("previous", "same-last-year")  # --compare: the period before, or the same period a year earlier
WINDOW_PERIODS = ("week", "month")  # --window DAYS: rolling windows ending on each period's last day
DIMENSIONS = ("centre", "service", "channel", "origin", "parent")  # parent: the top centre (bot.reports.rollup)
# How a response was reached, the values of the "origin" dimension and of --origin (bot.reports.dataset codes them
# 0, 1, 2 in this order): with an invitation, an open survey at a counter (no invitation), a paper form imported.
ORIGINS = ("invited", "open", "paper")
FORMATS = ("table", "csv", "xlsx", "json")
PARTICIPATION = ("issued", "opened", "started", "completed")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROMAN = ("I", "II", "III", "IV")
_EPOCH = dt.date(1970, 1, 1)


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
    compare: str | None = None  # one of COMPARE: each row's change against that base period (bot.reports.compare)
    window: int | None = None  # days: each period's row counts the DAYS days ending on its last day (rolling)
    total: bool = False  # one more row per period over every response: the province ("Toàn tỉnh")
    weight: str | None = None  # "volume": responses weighted to the invitations issued (bot.reports.weighting)


def parse_request(*, survey: str | None = None, period: str = "all", by: str = "centre", min_n: int = 30,
                  date_from: str | None = None, date_to: str | None = None, origin: str | None = None,
                  exclude_flagged: bool = False, compare: str | None = None,
                  window: int | None = None, total: bool = False, weight: str | None = None) -> ReportRequest:
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
    compare, window = _check_trend(compare, window, period, start, end)
    if weight is not None:
        weight = weight.strip().lower()
        if weight != "volume":
            raise UserError.say("admin.bad_weight", given=weight)
    return ReportRequest(survey=survey, period=period, by=tuple(dict.fromkeys(dimensions)), min_n=min_n,
                         date_from=start, date_to=end, origins=parse_origins(origin),
                         exclude_flagged=exclude_flagged, compare=compare, window=window, total=total,
                         weight=weight)


def _check_trend(compare: str | None, window: int | None, period: str, start: dt.date | None,
                 end: dt.date | None) -> tuple[str | None, int | None]:
    """--compare and --window: what they allow with this --period (--period all compares a range given in full)."""
    if compare is not None:
        compare = compare.strip().lower()
        if compare not in COMPARE:
            raise UserError.say("admin.bad_compare", allowed=", ".join(COMPARE), given=compare)
        if period == "all" and not (start and end):
            raise UserError.say("admin.compare_needs_range")
    if window is not None:
        if period not in WINDOW_PERIODS:
            raise UserError.say("admin.window_needs_period", periods=", ".join(WINDOW_PERIODS), period=period)
        if not 1 <= window <= 366:
            raise UserError.say("admin.bad_window", window=window)
    return compare, window


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
    """An integer per day that sorts like the period: ISO weeks, months or years since 1970, year * 4 + quarter,
    or 0."""
    if period == "all" or not len(days):
        return np.zeros(len(days), dtype=np.int64)
    if period == "week":  # 1970-01-01 is a Thursday: week 0 runs from Monday 1969-12-29
        return (days.astype("datetime64[D]").astype(np.int64) + 3) // 7
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
    """The period as it appears in JSON and CSV: 2024-W07 (ISO week), 2024-07, 2024-Q3, 2024 or all."""
    if period == "week":  # the ISO week-year: Monday 2024-12-30 starts 2025-W01
        year, week, _ = (_EPOCH + dt.timedelta(days=7 * index - 3)).isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{1970 + index // 12}-{index % 12 + 1:02d}"
    if period == "quarter":
        return f"{index // 4}-Q{index % 4 + 1}"
    return str(index) if period == "year" else "all"


def period_label(key: str, request: ReportRequest) -> str:
    """The period in Vietnamese: "tuần 7/2024", "tháng 7/2024", "quý III/2024", "năm 2024", or the date range for
    "all"."""
    if request.period == "week":
        year, week = key.split("-W")
        return f"tuần {int(week)}/{year}"
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
    By parent, each centre's invitations count under its top centre (bot.reports.rollup)."""
    if "channel" in request.by or (request.origins is not None and "invited" not in request.origins):
        return None
    return tuple(d for d in request.by if d in ("parent", "centre", "service"))
