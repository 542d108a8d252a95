"""Stored responses as a scoring table: one row per response, one column per criterion, plus the keys reports
group by. The one place that reads answers out of the database in bulk.

Reading a million rows is dominated by the Python objects the driver builds for each row and column, so the
SQLite path asks for as few as it can: the ratings, the day and one digit for the origin and the flag glued into
one blob by SQLite, the centre id, and the service id and channel only when the caller wants them. Ids are mapped
to codes afterwards, days are decoded with numpy, and each chunk is decoded in a worker thread while the driver
fetches the next one. Other databases take the portable path (SQLAlchemy Core, streamed in partitions).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.ascii_columns import _DAY, days, number
from bot.storage.models import Centre, Response, Service
from bot.storage.packing import unpack_ratings
from surveys.instrument import Instrument

KEY_COLUMNS = ("centre", "service", "channel", "submitted_on")
CHUNK = 100_000
KEYED_TABLES = ("responses",)  # WITHOUT ROWID on SQLite, keyed by random hex ids (bot/storage/models.py)
_ID_OFFSET = 10_000_000  # ids below 90 million print as exactly 8 digits once offset
_CHANNEL = 20  # characters (the column is a String(20))
_FIELDS = {  # key -> (SQLite expression of fixed width, width in bytes)
    "centre_id": (f"({_ID_OFFSET} + centre_id)", 8),
    "service_id": (f"({_ID_OFFSET} + ifnull(service_id, 0))", 8),
    # A longer channel is kept whole, so its row is too long and the read falls back (never cut silently).
    "channel": (f"CASE WHEN length(channel) > {_CHANNEL} THEN channel "
                f"ELSE substr(channel || '{' ' * _CHANNEL}', 1, {_CHANNEL}) END", _CHANNEL),
    "id": ("id", 32),  # random hex (bot.storage.responses); another length sends the read down the portable path
}
# One digit per response, always read (a byte per row, in the same query): its origin (0 invited, 1 open survey,
# 2 paper: bot.reports.request.ORIGINS) plus 3 when it is flagged. A paper form is paper whatever else it says.
_STATUS = ("(CASE WHEN import_batch_id IS NOT NULL THEN 2 WHEN open_survey THEN 1 ELSE 0 END"
           " + CASE WHEN flagged THEN 3 ELSE 0 END)")
_STATUS_PORTABLE = case((Response.import_batch_id.is_not(None), 2), (Response.open_survey, 1), else_=0) + \
    case((Response.flagged, 3), else_=0)


@dataclass(frozen=True)
class RatingArrays:
    """Responses as numpy arrays, one entry per response.

    codes: (rows, criteria) uint8 as packed (1..5, 0 = not applicable, 255 = no answer), a transposed view of
    a criterion-major array (``codes.T`` is contiguous). centre_id, service_id (0 = none; all 0 when not
    loaded) and channel (index into ``channels``; all 0 when not loaded) are int64; day is datetime64[D];
    origin is int64 (an index into bot.reports.request.ORIGINS) and flagged bool. ``centres`` and ``services``
    map ids to codes.
    """

    codes: np.ndarray
    centre_id: np.ndarray
    service_id: np.ndarray
    channel: np.ndarray
    channels: tuple[str, ...]
    day: np.ndarray
    centres: dict[int, str]
    services: dict[int, str]
    origin: np.ndarray
    flagged: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def only(self, keep: np.ndarray) -> RatingArrays:
        """The responses where the boolean mask ``keep`` is true (the names stay)."""
        # Through the criterion-major array, so the result keeps that layout.
        return replace(self, codes=self.codes.T[:, keep].T, centre_id=self.centre_id[keep],
                       service_id=self.service_id[keep], channel=self.channel[keep], day=self.day[keep],
                       origin=self.origin[keep], flagged=self.flagged[keep])


@dataclass(frozen=True)
class KeyedArrays(RatingArrays):
    """Rating arrays with each response's id (``ids``: bytes, S32), so that arrays kept in memory can be put back in
    the order a fresh read gives (bot.reports.day_arrays): sums of floats depend on it in their last bits."""

    ids: np.ndarray | None = None


async def load_arrays(session: AsyncSession, instrument: Instrument, date_from: dt.date | None = None,
                      date_to: dt.date | None = None, *, service: bool = True, channel: bool = True,
                      driver_sql: bool | None = None, ids: bool = False) -> RatingArrays:
    """Responses to ``instrument`` submitted between the dates (inclusive), as arrays.

    ``service=False`` / ``channel=False`` leave those keys out (each costs about a tenth of the read).
    ``driver_sql`` forces (True) or avoids (False) the SQLite path; None picks it on SQLite. Packed rows of
    another width raise ValueError. ``ids=True`` gives KeyedArrays.
    """
    width = len(instrument.criteria())
    centres = dict((await session.execute(select(Centre.id, Centre.code))).all())
    services = dict((await session.execute(select(Service.id, Service.code))).all())
    fast = (await session.connection()).dialect.name == "sqlite" if driver_sql is None else driver_sql
    keys = ("centre_id", *(("service_id",) if service else ()), *(("channel",) if channel else ()),
            *(("id",) if ids else ()))
    where = [("instrument", "=", instrument.id)]
    where += [("submitted_on", ">=", date_from)] if date_from else []
    where += [("submitted_on", "<=", date_to)] if date_to else []
    fetch = _fetch_sqlite if fast else _fetch_portable
    parts = await fetch(session, width, keys, where)
    return await asyncio.to_thread(_join, parts, width, keys, centres, services)


async def load_ratings(session: AsyncSession, instrument: Instrument, date_from: dt.date | None = None,
                       date_to: dt.date | None = None) -> pd.DataFrame:
    """Responses to ``instrument`` submitted between the dates (inclusive) as a frame for `surveys.scoring`.

    Columns: centre (code), service (code or None), channel, submitted_on (datetime64), then one column per
    criterion in instrument order (1..5, 0 = not applicable, NaN = no answer).
    """
    arrays = await load_arrays(session, instrument, date_from, date_to)
    return await asyncio.to_thread(_frame, arrays, list(instrument.criteria()))


def _frame(arrays: RatingArrays, criteria: list[str]) -> pd.DataFrame:
    keys = pd.DataFrame({
        "centre": _codes_of(arrays.centre_id, arrays.centres),
        "service": _codes_of(arrays.service_id, arrays.services),
        "channel": np.asarray(arrays.channels, dtype=object)[arrays.channel] if arrays.channels else
        np.full(len(arrays), None, dtype=object),
        "submitted_on": arrays.day.astype("datetime64[s]"),
    })
    ratings = pd.DataFrame(unpack_ratings([arrays.codes.tobytes()], len(criteria)) if len(arrays) else None,
                           columns=criteria, dtype="float32")
    return pd.concat([keys, ratings], axis=1)


def _codes_of(ids: np.ndarray, codes: dict[int, str]) -> np.ndarray:
    """Codes for integer ids via one lookup array (id 0, no service, gives None)."""
    lookup = np.full(max(codes, default=0) + 1, None, dtype=object)
    lookup[list(codes)] = list(codes.values())
    return lookup[ids]


async def packed_chunks(session: AsyncSession, table: str, fields: list[str],
                        where: list[tuple[str, str, object]]) -> AsyncIterator[tuple[int, bytes]]:
    """SQLite only: (row count, blob) per chunk of CHUNK rowids (or keys) of ``table``, for the rows matching
    ``where`` ((column, operator, value) triples); each row is its ``fields`` expressions glued together.

    SQLite glues the fields of a row and group_concat glues the rows, so the driver builds one Python object per
    chunk instead of several per row: reading a million rows costs about what SQLite's scan costs. The bytes pass
    through unchanged (0 and 255 included) and nothing checks them: callers use fields of a fixed width and
    check each chunk's length. NOT INDEXED: an index on a filtered column would visit the table in that order,
    one random page read per row, several times slower than this straight scan when most rows are wanted.
    """
    params = [_sqlite_value(value) for *_, value in where]
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    glued = f"SELECT count(*), CAST(group_concat({' || '.join(fields)}, '') AS BLOB) FROM {table}"
    if table in KEYED_TABLES:
        # WITHOUT ROWID (anonymity: no insertion order): chunks are ranges of the random hex key, each about
        # CHUNK rows; the unary + keeps SQLite on the key's own b-tree instead of an index on a filtered column
        # (NOT INDEXED does not apply to these tables).
        conditions = "".join(f" AND +{column} {op} ?" for column, op, _ in where)
        sql = f"{glued} WHERE id >= ? AND id < ?{conditions}"
        total = (await (await driver.execute(f"SELECT count(*) FROM {table}")).fetchone())[0]
        parts = max(1, -(-total // CHUNK))
        bounds = ["", *(f"{i * 16 ** 8 // parts:08x}" for i in range(1, parts)), "~"]
        starts = list(itertools.pairwise(bounds))
    else:
        conditions = "".join(f" AND {column} {op} ?" for column, op, _ in where)
        sql = f"{glued} NOT INDEXED WHERE rowid >= ? AND rowid < ?{conditions}"
        first, last = await (await driver.execute(f"SELECT min(rowid), max(rowid) FROM {table}")).fetchone()
        starts = [(start, start + CHUNK) for start in range(first or 0, (last or -1) + 1, CHUNK)]

    async def chunk(bounds: tuple) -> tuple[int, bytes]:
        return await (await driver.execute(sql, [*bounds, *params])).fetchone()

    # The next chunk's query runs in the driver's thread (SQLite lets go of the GIL while it works) while the
    # caller decodes this one.
    pending = asyncio.ensure_future(chunk(starts[0])) if starts else None
    try:
        for position in range(len(starts)):
            count, blob = await pending
            pending = asyncio.ensure_future(chunk(starts[position + 1])) if position + 1 < len(starts) else None
            if count:
                yield count, blob
    finally:
        if pending is not None:  # the caller stopped early: let the query finish before the session moves on
            await pending


def _sqlite_value(value: object) -> object:
    """A bound value as SQLAlchemy stores it in SQLite (dates and times are text)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat() if isinstance(value, dt.date) else value


async def _fetch_sqlite(session: AsyncSession, width: int, keys: tuple[str, ...], where: list) -> list[dict]:
    """Decoded chunks: each row is ratings, day and keys as fixed-width text (ids as 8 digits, the channel
    padded to 20 characters). Anything that layout cannot hold (a longer channel, an id past 90 million, a day
    not stored as YYYY-MM-DD) changes a chunk's length and sends the whole read down the portable path."""
    parts = []
    async for count, blob in packed_chunks(session, "responses", ["ratings", "submitted_on", _STATUS,
                                                                  *(_FIELDS[k][0] for k in keys)], where):
        part = await asyncio.to_thread(_decode, blob, count, width, keys)
        if part is None:
            return await _fetch_portable(session, width, keys, where)
        parts.append(part)
    return parts


def _decode(blob: bytes, count: int, width: int, keys: tuple[str, ...]) -> dict | None:
    """One chunk's arrays from its fixed-width rows; None when the rows are not of the expected width."""
    row = width + _DAY + 1 + sum(_FIELDS[k][1] for k in keys)
    if len(blob) != row * count:
        return None
    table = np.frombuffer(blob, dtype=np.uint8).reshape(count, row)
    # Criterion-major (one contiguous row of bytes per criterion), the layout scoring reads column by column.
    part = {"codes": table[:, :width].T.copy(), "day": days(table[:, width:width + _DAY]),
            "status": table[:, width + _DAY] - ord("0")}
    offset = width + _DAY + 1
    for key in keys:
        size = _FIELDS[key][1]
        text = table[:, offset:offset + size]
        if key == "id":
            part[key] = np.ascontiguousarray(text).view("S32").ravel()
        else:
            part[key] = _channels(text) if key == "channel" else number(text) - _ID_OFFSET
        offset += size
    return part


async def _fetch_portable(session: AsyncSession, width: int, keys: tuple[str, ...], where: list) -> list[dict]:
    query = select(Response.ratings, Response.submitted_on, _STATUS_PORTABLE, *(getattr(Response, k) for k in keys))
    for column, op, value in where:
        query = query.where(getattr(Response, column).op(op)(value))
    result = await session.stream(query)
    return [await asyncio.to_thread(_portable_part, rows, width, keys) async for rows in result.partitions(CHUNK)]


def _portable_part(rows: list, width: int, keys: tuple[str, ...]) -> dict:
    blob = b"".join(row[0] for row in rows)
    if len(blob) != width * len(rows):
        raise ValueError(f"packed ratings do not come in rows of {width} bytes")
    part = {"codes": np.frombuffer(blob, dtype=np.uint8).reshape(-1, width).T.copy(),
            "day": np.array([row[1] for row in rows], dtype="datetime64[D]"),
            "status": np.array([row[2] for row in rows], dtype=np.uint8)}
    for position, key in enumerate(keys, start=3):
        column = [row[position] for row in rows]
        if key == "id":
            part[key] = np.array(column, dtype="S32")
        else:
            part[key] = column if key == "channel" else np.array([v or 0 for v in column], dtype=np.int64)
    return part


def _join(parts: list[dict], width: int, keys: tuple[str, ...], centres: dict[int, str],
          services: dict[int, str]) -> RatingArrays:
    """One set of arrays from the chunks; channel names become small integers (first-seen order)."""
    rows = sum(part["codes"].shape[1] for part in parts)
    names: dict[str, int] = {}
    channel = np.zeros(rows, dtype=np.int64)
    if "channel" in keys and rows:
        channel = np.concatenate([_channel_codes(part["channel"], names) for part in parts])

    def joined(key: str, dtype) -> np.ndarray:
        if key not in ("day", *keys) or not parts:
            return np.zeros(rows, dtype=dtype)
        return np.concatenate([part[key] for part in parts])

    codes = np.concatenate([part["codes"] for part in parts], axis=1) if parts else np.empty((width, 0), np.uint8)
    status = np.concatenate([part["status"] for part in parts]) if parts else np.zeros(0, np.uint8)
    arrays = RatingArrays(codes=codes.T, centre_id=joined("centre_id", np.int64),
                          service_id=joined("service_id", np.int64), channel=channel, channels=tuple(names),
                          day=joined("day", "datetime64[D]"), centres=centres, services=services,
                          origin=(status % 3).astype(np.int64), flagged=status >= 3)
    if "id" not in keys:
        return arrays
    fields = {name: getattr(arrays, name) for name in RatingArrays.__dataclass_fields__}
    return KeyedArrays(**fields, ids=joined("id", "S32"))


def _channel_codes(values, names: dict[str, int]) -> np.ndarray:
    local, uniques = pd.factorize(np.asarray(values, dtype=object))
    remap = np.asarray([names.setdefault(name, len(names)) for name in uniques], dtype=np.int64)
    return remap[local] if len(remap) else local.astype(np.int64)


def _channels(text: np.ndarray) -> np.ndarray:
    """Channel names from (rows, 20) padded ASCII; decoded once per distinct value."""
    values, inverse = np.unique(np.ascontiguousarray(text).view(f"S{_CHANNEL}").ravel(), return_inverse=True)
    names = np.asarray([v.decode("utf-8").rstrip() for v in values], dtype=object)
    return names[inverse.ravel()]
