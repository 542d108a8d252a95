"""Invitation counts per centre (and service) and period: issued, opened, started, completed.

Invitations are counted by their creation time, stored in UTC, converted to the local calendar of the
`timezone` setting (the one that dates responses), so an invitation issued at 06:30 on 1 August in Huế counts in
August; pandas converts the times, daylight saving included. Invitations have no channel, so a report by
channel has no participation. ``zns`` counts the invitations sent to a phone by ZNS (paid messages, channel hint
"zns") among those issued.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.dataset import CHUNK, days, number, packed_chunks
from bot.reports.request import PARTICIPATION, ReportRequest, participation_keys, period_index
from bot.storage.models import Invitation

_ID_OFFSET = 10_000_000  # ids below 90 million print as exactly 8 digits once offset
_FIELDS = {"centre_id": f"({_ID_OFFSET} + centre_id)", "service_id": f"({_ID_OFFSET} + ifnull(service_id, 0))"}
ZNS = "zns"  # the column of invitations sent by ZNS
COUNTS = (*PARTICIPATION, ZNS)
_MINUTE = 16  # "YYYY-MM-DD HH:MM", the start of how SQLAlchemy stores a DateTime in SQLite


async def load_participation(session: AsyncSession, survey: str, request: ReportRequest, timezone: str, *,
                             driver_sql: bool | None = None) -> pd.DataFrame | None:
    """Counts per (centre_id and/or service_id as the report groups, 0 = no service) and period index.

    Columns: the ids, period, issued, opened, started, completed, zns. None when the report groups by channel.
    ``driver_sql`` as in `bot.reports.dataset.load_arrays`.
    """
    keys = participation_keys(request)
    if keys is None:
        return None
    ids = [f"{k}_id" for k in keys]
    zone = ZoneInfo(timezone)
    where: list[tuple[str, str, object]] = [("instrument", "=", survey)]
    if request.date_from is not None:
        where.append(("created_at", ">=", _utc_midnight(request.date_from, zone)))
    if request.date_to is not None:
        where.append(("created_at", "<", _utc_midnight(request.date_to + dt.timedelta(days=1), zone)))
    fast = (await session.connection()).dialect.name == "sqlite" if driver_sql is None else driver_sql
    parts = await _read_sqlite(session, ids, where) if fast else None
    if parts is None:
        parts = await _read_portable(session, ids, where)
    return await asyncio.to_thread(_count, parts, ids, zone, request.period)


def _count(parts: list[pd.DataFrame], ids: list[str], zone: ZoneInfo, period: str) -> pd.DataFrame:
    """Sum the invitations per ids and local period (CPU-bound: runs in a worker thread)."""
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {**{k: np.zeros(0, np.int64) for k in ids}, "created": np.zeros(0, "datetime64[m]"),
         **{k: np.zeros(0, np.int64) for k in COUNTS[1:]}})
    local = pd.DatetimeIndex(frame.pop("created")).tz_localize("UTC").tz_convert(zone).tz_localize(None)
    frame["period"] = period_index(local.to_numpy().astype("datetime64[D]"), period)
    frame["issued"] = 1
    return frame.groupby([*ids, "period"])[list(COUNTS)].sum().reset_index()


async def _read_sqlite(session: AsyncSession, ids: list[str], where: list) -> list[pd.DataFrame] | None:
    """One row per invitation: ids as 8 digits, the UTC minute and the stages reached as one digit; None if a
    row has another width (a time not stored by SQLAlchemy, say), for the portable path."""
    fields = [*(_FIELDS[k] for k in ids), f"substr(created_at, 1, {_MINUTE})",
              "(opened + 2 * started + 4 * (completed_on IS NOT NULL))", f"(ifnull(channel_hint, '') = '{ZNS}')"]
    width = 8 * len(ids) + _MINUTE + 2
    parts = []
    async for count, blob in packed_chunks(session, "invitations", fields, where):
        if len(blob) != width * count:
            return None
        parts.append(await asyncio.to_thread(_decode, blob, count, width, ids))
    return parts


def _decode(blob: bytes, count: int, width: int, ids: list[str]) -> pd.DataFrame:
    table = np.frombuffer(blob, dtype=np.uint8).reshape(count, width)
    part = {k: number(table[:, 8 * i:8 * i + 8]) - _ID_OFFSET for i, k in enumerate(ids)}
    start = 8 * len(ids)
    text = table[:, start:start + _MINUTE]
    hours, minutes = number(text[:, 11:13]), number(text[:, 14:16])
    part["created"] = days(text[:, :10]).astype("datetime64[m]") + (hours * 60 + minutes).astype("timedelta64[m]")
    flags = table[:, start + _MINUTE].astype(np.int64) - ord("0")  # one digit: opened 1, started 2, completed 4
    for i, flag in enumerate(PARTICIPATION[1:]):
        part[flag] = (flags >> i) & 1
    part[ZNS] = table[:, start + _MINUTE + 1].astype(np.int64) - ord("0")
    return pd.DataFrame(part)


async def _read_portable(session: AsyncSession, ids: list[str], where: list) -> list[pd.DataFrame]:
    query = select(*(getattr(Invitation, k) for k in ids), Invitation.created_at, Invitation.opened,
                   Invitation.started, Invitation.completed_on.is_not(None), Invitation.channel_hint)
    for column, op, value in where:
        query = query.where(getattr(Invitation, column).op(op)(value))
    result = await session.stream(query)
    return [await asyncio.to_thread(_portable_part, rows, ids) async for rows in result.partitions(CHUNK)]


def _portable_part(rows: list, ids: list[str]) -> pd.DataFrame:
    columns = list(zip(*rows, strict=True))
    part = {k: np.array([v or 0 for v in columns[i]], dtype=np.int64) for i, k in enumerate(ids)}
    part["created"] = np.array([_naive_utc(v) for v in columns[len(ids)]], dtype="datetime64[m]")
    for i, flag in enumerate(PARTICIPATION[1:], start=len(ids) + 1):
        part[flag] = np.array(columns[i], dtype=np.int64)
    part[ZNS] = np.array([hint == ZNS for hint in columns[-1]], dtype=np.int64)
    return pd.DataFrame(part)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes (every stored time is UTC); PostgreSQL aware ones.
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _utc_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Local midnight of a day, in UTC (stored times are UTC)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
