"""`report --compare previous|same-last-year`: each row's change in SIPAS and in each element against the same
group in a base period, with a 95% interval for the difference and a mark where it is significant.

The base figures come from the same report built on the shifted date range (the same survey, grouping, min_n and
filters), so a base period before --from counts too. Each difference's interval combines the two estimates' own
intervals (MOVER, `surveys.spread.difference_interval`): it follows whatever interval the report gives and stays
honest near 0 and 100. The two periods are taken as independent samples (a respondent who answered in both counts
twice, which the survey cannot tell apart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from bot.reports.request import ReportRequest, period_key, period_label
from surveys.ceiling import equal_tailed_high
from surveys.spread import difference_interval

_EPOCH = dt.date(1970, 1, 1)
_MONTHS = {"month": 1, "quarter": 3, "year": 12}  # how far "previous" reaches back, in months
LABELS = {"previous": "kỳ trước", "same-last-year": "cùng kỳ năm trước"}
NO_BASE = "–"


def key_index(key: str, period: str) -> int:
    """The inverse of `period_key`: "2024-W07", "2024-07", "2024-Q3" or "2024" back to its period index."""
    if period == "week":
        year, week = key.split("-W")
        return ((dt.date.fromisocalendar(int(year), int(week), 1) - _EPOCH).days + 3) // 7
    if period == "month":
        year, month = key.split("-")
        return (int(year) - 1970) * 12 + int(month) - 1
    if period == "quarter":
        year, quarter = key.split("-Q")
        return int(year) * 4 + int(quarter) - 1
    return int(key)


def weeks_in(year: int) -> int:
    """52 or 53: the ISO weeks of ``year`` (28 December is always in its last week)."""
    return dt.date(year, 12, 28).isocalendar()[1]


def base_key(key: str, request: ReportRequest) -> str | None:
    """The period a row is compared with; None for week 53 a year after a year of 52 weeks."""
    period = request.period
    if period == "all":
        start, end = base_range(request)
        return f"{start.isoformat()}/{end.isoformat()}"  # an ISO 8601 interval: "all" alone would say nothing
    if request.compare == "previous":
        return period_key(key_index(key, period) - 1, period)
    if period == "week":  # the same ISO week number, a week-year earlier
        year, week = (int(part) for part in key.split("-W"))
        return f"{year - 1}-W{week:02d}" if week <= weeks_in(year - 1) else None
    return period_key(key_index(key, period) - {"month": 12, "quarter": 4, "year": 1}[period], period)


def months_before(day: dt.date, months: int, *, end: bool = False) -> dt.date:
    """The same day ``months`` earlier, the month's last day where it is shorter (31 March -> 29 February).
    With ``end`` (the last day of a range), a month's last day stays its month's last day (30 June -> 31 May):
    otherwise a range to the end of June would be compared with May less its last day."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    last = _last_day(year, month + 1)
    if end and day == _last_day(day.year, day.month):
        return last
    return dt.date(year, month + 1, min(day.day, last.day))


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _shift(day: dt.date | None, request: ReportRequest, end: bool = False) -> dt.date | None:
    """A day of a report's range moved into its base period: one period back, or one year back."""
    if day is None:
        return None
    if request.period == "week":
        if request.compare == "previous":
            return day - dt.timedelta(days=7)
        year, week, weekday = day.isocalendar()
        return dt.date.fromisocalendar(year - 1, min(week, weeks_in(year - 1)), weekday)
    return months_before(day, 12 if request.compare == "same-last-year" else _MONTHS[request.period], end=end)


def base_range(request: ReportRequest) -> tuple[dt.date | None, dt.date | None]:
    """The --from and --to of the base report. With --period all (both given): the range of equal length just
    before, or the same days a year earlier; otherwise both ends shifted into their base periods."""
    start, end = request.date_from, request.date_to
    if request.period == "all":
        if request.compare == "previous":
            length = end - start + dt.timedelta(days=1)
            return start - length, start - dt.timedelta(days=1)
        return months_before(start, 12), months_before(end, 12, end=True)
    return _shift(start, request), _shift(end, request, end=True)


async def compare_rows(request: ReportRequest, rows: list[dict], build: Callable[[ReportRequest], Awaitable[Any]],
                       ) -> None:
    """Set every row's "change" (None without --compare), building the base report (with its ``rows``) with
    ``build``: `bot.reports.build.build_report`, passed in, since that module calls this one."""
    if request.compare is None:
        for row in rows:
            row["change"] = None
        return
    start, end = base_range(request)
    base = await build(replace(request, date_from=start, date_to=end, compare=None))
    # A province total (--total) has every key null, as a group without a service has its service: keep them apart.
    found = {(row.get("total", False), *(row[d] for d in request.by), row["period"]): row for row in base.rows}
    for row in rows:
        key = base_key(row["period"], request)
        earlier = found.get((row.get("total", False), *(row[d] for d in request.by),
                             "all" if request.period == "all" else key))
        row["change"] = change(row, earlier, request.compare, key)


def change(row: dict, base: dict | None, against: str, key: str | None) -> dict | None:
    """The "change" of one row against its base row; None when either is suppressed or has no SIPAS."""
    if base is None or row["sipas"] is None or base["sipas"] is None:
        return None
    elements = row["elements"] or {}
    intervals, base_intervals = _equal_tailed(row), _equal_tailed(base)
    return {"against": against, "period": key,
            "sipas": difference(row["sipas"], row["sipas_ci"], base["sipas"], base["sipas_ci"]),
            "elements": {code: difference(value, intervals.get(code), (base["elements"] or {}).get(code),
                                          base_intervals.get(code)) for code, value in elements.items()}}


def _equal_tailed(row: dict) -> dict:
    """A row's element intervals as MOVER reads them: a one-sided upper end near the ceiling (surveys.ceiling) is
    moved to where an equal-tailed one would be."""
    intervals = dict(row.get("elements_ci") or {})
    for code in row.get("elements_one_sided") or ():
        low, high = intervals[code]
        intervals[code] = [low, float(equal_tailed_high(row["elements"][code], high))]
    return intervals


def difference(value: float | None, interval, base: float | None, base_interval) -> dict:
    """{base, change, change_ci, significant}: null parts where an estimate or an interval end is missing."""
    out = {"base": base, "change": None, "change_ci": None, "significant": None}
    if value is None or base is None:
        return out
    out["change"] = value - base
    ends = [*(interval or (None, None)), *(base_interval or (None, None))]
    if any(end is None for end in ends):
        return out
    _, low, high = difference_interval(value, ends[0], ends[1], base, ends[2], ends[3])
    out["change_ci"] = [float(low), float(high)]
    out["significant"] = bool(low > 0 or high < 0)  # the interval leaves 0 out
    return out


# How the change reads for people: the table, the CSV columns and the rows of the "So sánh" sheet.

def signed(value: float | None, digits: int = 2) -> str:
    """+3.2 -> "+3,20", with a decimal comma (changes stay within ±100, so no thousands separator)."""
    return NO_BASE if value is None else f"{value:+.{digits}f}".replace(".", ",")


def change_cell(row: dict) -> str:
    """ "+3,20*" (* where significant), or "–" without a base."""
    found = (row.get("change") or {}).get("sipas")
    if not found or found["change"] is None:
        return NO_BASE
    return signed(found["change"]) + ("*" if found["significant"] else "")


def base_label(key: str | None, request: ReportRequest) -> str:
    """The base period in Vietnamese: "tháng 6/2024", or its dates for --period all."""
    if key is None:
        return NO_BASE
    if request.period == "all":
        return "–".join(dt.date.fromisoformat(day).strftime("%d/%m/%Y") for day in key.split("/"))
    return period_label(key, request)


def footnote(request: ReportRequest) -> str:
    return (f"Thay đổi: SIPAS so với {LABELS[request.compare]} (điểm phần trăm); * = có ý nghĩa thống kê (khoảng "
            "tin cậy 95% của mức thay đổi không chứa 0); – = không có số liệu kỳ so sánh hoặc chưa đủ mẫu.")


def csv_headers(elements: list[str]) -> list[str]:
    return ["change_against", "change_period", "change_sipas", "change_sipas_low", "change_sipas_high",
            "change_significant", *(f"change_{e}{part}" for e in elements for part in ("", "_low", "_high"))]


def csv_cells(row: dict, elements: list[str]) -> list:
    found = row.get("change")
    if not found:
        return [None] * (6 + 3 * len(elements))
    sipas = found["sipas"]
    cells = [found["against"], found["period"], *_rounded(sipas),
             None if sipas["significant"] is None else str(sipas["significant"]).lower()]
    for e in elements:
        cells += _rounded(found["elements"].get(e))
    return cells


def _rounded(measure: dict | None) -> list:
    if not measure:
        return [None, None, None]
    low, high = measure["change_ci"] or (None, None)
    return [None if v is None else round(v, 2) for v in (measure["change"], low, high)]


SHEET = "So sánh"
SHEET_HEADERS = ["Kỳ so sánh", "SIPAS kỳ trước", "Thay đổi", "Cận dưới", "Cận trên", "Có ý nghĩa thống kê"]


def sheet_headers(element_names: list[str]) -> list[str]:
    return [*SHEET_HEADERS, *(f"{name}: {part}" for name in element_names
                              for part in ("kỳ trước", "thay đổi", "cận dưới", "cận trên", "có ý nghĩa thống kê"))]


def sheet_cells(row: dict, request: ReportRequest, elements: list[str]) -> list:
    """One row of "So sánh": the base period, then SIPAS's base, change, interval, significance; then each
    element's."""
    found = row.get("change")
    if not found:
        return ["không có số liệu kỳ so sánh"]
    cells = [base_label(found["period"], request)]
    for measure in (found["sipas"], *(found["elements"].get(e) for e in elements)):
        measure = measure or {}
        significant = measure.get("significant")
        base = measure.get("base")
        cells += [None if base is None else round(base, 2), *_rounded(measure),
                  None if significant is None else "Có" if significant else "Không"]
    return cells
