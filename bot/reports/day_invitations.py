"""A survey's invitations kept in memory by UTC day of creation, for the participation counts of reports.

Counting the invitations of a report (`bot.reports.participation.load_participation`) scans the whole table each
time, about as long as scoring a month; a report with --total counts twice. The server keeps what the count
needs (centre and service ids, the minute of creation, the stages reached, ZNS or not: about 40 bytes an
invitation) and reads again only the UTC days whose version moved (migration 0012; issuing, opening, starting,
completing, expiring or deleting an invitation bumps its day), through the (instrument, created_at) index. The
counts are then the same function over the same rows (`participation._count`), so they are the same numbers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from bisect import bisect_left, bisect_right
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.day_arrays import FULL_RELOAD_DAYS, Versions, invitation_versions, runs
from bot.reports.participation import _count, _read_portable, _read_sqlite, _utc_midnight
from bot.reports.request import ReportRequest, participation_keys

IDS = ["centre_id", "service_id"]


class _Kept:
    def __init__(self) -> None:
        self.versions: Versions = {}
        self.blocks: dict[dt.date, pd.DataFrame] = {}
        self.days: list[dt.date] = []
        self.loaded = False
        self.lock = asyncio.Lock()


class DayInvitations:
    """`participation` answers like `load_participation`, from memory."""

    def __init__(self) -> None:
        self._surveys: dict[str, _Kept] = {}

    async def participation(self, session: AsyncSession, survey: str, request: ReportRequest, timezone: str
                            ) -> pd.DataFrame | None:
        keys = participation_keys(request)
        if keys is None:
            return None
        ids = [f"{k}_id" for k in keys]
        zone = ZoneInfo(timezone)
        low = _utc_midnight(request.date_from, zone) if request.date_from is not None else None
        high = _utc_midnight(request.date_to + dt.timedelta(days=1), zone) if request.date_to is not None else None
        kept = self._surveys.setdefault(survey, _Kept())
        async with kept.lock:
            await self._refresh(session, survey, kept)
            first = 0 if low is None else bisect_left(kept.days, low.date())
            last = len(kept.days) if high is None else bisect_right(kept.days, high.date())
            blocks = [kept.blocks[day] for day in kept.days[first:last]]
        return await asyncio.to_thread(_counted, blocks, ids, low, high, zone, request.period)

    async def _refresh(self, session: AsyncSession, survey: str, kept: _Kept) -> None:
        current = await invitation_versions(session, survey)  # before the rows (bot.reports.day_arrays)
        if kept.loaded and current == kept.versions:
            return
        changed = sorted(day for day in current.keys() | kept.versions.keys()
                         if current.get(day) != kept.versions.get(day))
        where = [("instrument", "=", survey)]
        if not kept.loaded or len(changed) > FULL_RELOAD_DAYS:
            fast = (await session.connection()).dialect.name == "sqlite"
            parts = await _read_sqlite(session, IDS, where) if fast else None
            kept.blocks = {}
            _store(kept, await _read_portable(session, IDS, where) if parts is None else parts, None)
        else:
            for first, last in runs(changed):
                span = [("created_at", ">=", _midnight(first)), ("created_at", "<", _midnight(last, 1))]
                _store(kept, await _read_portable(session, IDS, where + span), (first, last))
        kept.versions, kept.loaded = current, True
        kept.days = sorted(kept.blocks)


def _midnight(day: dt.date, later: int = 0) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=later), dt.time(), tzinfo=dt.UTC)


def _store(kept: _Kept, parts: list[pd.DataFrame], span: tuple[dt.date, dt.date] | None) -> None:
    if span is not None:
        for day in [d for d in kept.blocks if span[0] <= d <= span[1]]:
            del kept.blocks[day]
    if not parts:
        return
    frame = pd.concat(parts, ignore_index=True)
    day = frame["created"].to_numpy().astype("datetime64[D]")
    for value, block in frame.groupby(day, sort=False):
        kept.blocks[pd.Timestamp(value).date()] = block.reset_index(drop=True)


def _counted(blocks: list[pd.DataFrame], ids: list[str], low: dt.datetime | None, high: dt.datetime | None,
             zone: ZoneInfo, period: str) -> pd.DataFrame:
    """What load_participation gives for the invitations created from ``low`` until before ``high`` (UTC)."""
    if not blocks:
        return _count([], ids, zone, period)
    frame = pd.concat(blocks, ignore_index=True)
    created = frame["created"].to_numpy()
    keep = np.ones(len(frame), dtype=bool)
    if low is not None:
        keep &= created >= np.datetime64(low.replace(tzinfo=None), "m")
    if high is not None:
        keep &= created < np.datetime64(high.replace(tzinfo=None), "m")
    columns = [*ids, "created", "opened", "started", "completed", "zns"]
    return _count([frame.loc[keep, columns].reset_index(drop=True)], ids, zone, period)
