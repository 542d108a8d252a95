"""`report --window DAYS` with --period week|month: rolling windows for trend lines.

Each period's row counts the responses of the DAYS days ending on the period's last day (30 or 90 for the
dashboard), so a monthly line with --window 90 moves smoothly where one month alone is too few answers. A
response counts in every period whose window holds its day: it is copied once per such period, with its day moved
to that period's last day, so that grouping, scoring and flag counts work unchanged. The responses are read from
DAYS days before the first period's end, so the first window is full even when it starts before --from. The
invitations (`participation`) stay counted per calendar period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np

from bot.reports.dataset import RatingArrays
from bot.reports.request import ReportRequest, period_index

_EPOCH = dt.date(1970, 1, 1)


def last_day(index: np.ndarray, period: str) -> np.ndarray:
    """Days since 1970 of the last day of each week or month index (`period_index`)."""
    index = np.asarray(index, dtype=np.int64)
    if period == "week":
        return 7 * index + 3  # week 0 ends on Sunday 1970-01-04
    return (index + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1


def loading_from(request: ReportRequest) -> dt.date | None:
    """The first day to read: --from, or, with a window, DAYS days before the first period's last day."""
    start = request.date_from
    if not request.window or start is None:
        return start
    first = period_index(np.array([start], dtype="datetime64[D]"), request.period)
    end = int(last_day(first, request.period)[0])
    return _EPOCH + dt.timedelta(days=end - request.window + 1)


def rolling(arrays: RatingArrays, request: ReportRequest) -> RatingArrays:
    """Every response once per period whose window holds its day (its day set to that period's last day)."""
    if not request.window or not len(arrays):
        return arrays
    days = arrays.day.astype("datetime64[D]")
    number = days.astype(np.int64)
    # The periods of the report's range (of the responses read, where --from or --to is not given).
    first = np.datetime64(request.date_from, "D") if request.date_from else days.min()
    last = np.datetime64(request.date_to, "D") if request.date_to else days.max()
    low, high = period_index(np.array([first, last], dtype="datetime64[D]"), request.period).tolist()
    periods = np.arange(low, high + 1)
    taken, moved = [], []
    for end in last_day(periods, request.period).tolist():
        rows = np.flatnonzero((number > end - request.window) & (number <= end))
        taken.append(rows)
        moved.append(np.full(len(rows), end, dtype=np.int64))
    rows = np.concatenate(taken)
    return replace(arrays, codes=arrays.codes.T[:, rows].T, centre_id=arrays.centre_id[rows],
                   service_id=arrays.service_id[rows], channel=arrays.channel[rows],
                   day=np.concatenate(moved).astype("datetime64[D]"), origin=arrays.origin[rows],
                   flagged=arrays.flagged[rows])
