"""A survey's whole stored history as rating arrays kept in memory, day by day, for a long-running server.

Reading the responses is most of a report's time (a month of a million-response year: a quarter of a second,
since SQLite scans the whole table either way). The server reads them once, all keys included, and keeps them as
one block of arrays per day (about 60 bytes a response with its id: 60 MB for a million). Before every use it reads the
per-day versions that triggers bump in each writing transaction (migration 0012, `bot.storage.day_stamps`):
whoever wrote (a survey completion, a paper import, `import undo`, a flag, another process), the days whose
version moved are read again through the (instrument, day) index and replace their blocks; the rest is sliced
in memory and put back in id order, the order SQLite reads them in, so that every sum is the fresh report's to
the last bit. The versions are read before the rows, in the caller's session: on PostgreSQL (a snapshot per
statement) the rows can only be newer than their versions, which at worst reads a day once more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.dataset import RatingArrays, load_arrays
from bot.storage.day_stamps import InvitationDay, ResponseDay
from bot.storage.models import Centre, Service
from surveys.instrument import Instrument

FULL_RELOAD_DAYS = 62  # more changed days than this (a big import undone): one scan beats many index reads

Versions = dict[dt.date, int]


async def day_versions(session: AsyncSession, survey: str, table=ResponseDay) -> Versions:
    """{day: version} of ``survey``'s responses (or invitations, ``table=InvitationDay``)."""
    rows = await session.execute(select(table.day, table.version).where(table.instrument == survey))
    return dict(rows.all())


@dataclass
class _History:
    """One survey's blocks: per day, criterion-major codes and the keys (channel as an index into ``channels``)."""

    versions: Versions = field(default_factory=dict)
    blocks: dict[dt.date, dict[str, np.ndarray]] = field(default_factory=dict)
    days: list[dt.date] = field(default_factory=list)  # the days with a block, in order
    channels: dict[str, int] = field(default_factory=dict)
    loaded: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class DayArrays:
    """The in-memory responses of every survey; `arrays` answers like `bot.reports.dataset.load_arrays`."""

    def __init__(self) -> None:
        self._surveys: dict[str, _History] = {}
        self.reads = 0  # how many times rows were read from the database (whole history or changed days)

    async def arrays(self, session: AsyncSession, instrument: Instrument, date_from: dt.date | None = None,
                     date_to: dt.date | None = None, *, service: bool = True, channel: bool = True) -> RatingArrays:
        """The responses submitted between the dates (inclusive), up to date with the database as ``session``
        sees it. Every key is always there (``service`` and ``channel`` are accepted for load_arrays' sake)."""
        history = self._surveys.setdefault(instrument.id, _History())
        async with history.lock:
            await self._refresh(session, instrument, history)
            low = 0 if date_from is None else bisect_left(history.days, date_from)
            high = len(history.days) if date_to is None else bisect_right(history.days, date_to)
            blocks = [history.blocks[day] for day in history.days[low:high]]
            channels = tuple(history.channels)
        centres = dict((await session.execute(select(Centre.id, Centre.code))).all())
        services = dict((await session.execute(select(Service.id, Service.code))).all())
        return await asyncio.to_thread(_joined, blocks, len(instrument.criteria()), channels, centres, services)

    async def _refresh(self, session: AsyncSession, instrument: Instrument, history: _History) -> None:
        current = await day_versions(session, instrument.id)  # before the rows: see the module's docstring
        if history.loaded and current == history.versions:
            return
        changed = sorted(day for day in current.keys() | history.versions.keys()
                         if current.get(day) != history.versions.get(day))
        self.reads += 1
        if not history.loaded or len(changed) > FULL_RELOAD_DAYS:
            whole = await load_arrays(session, instrument, ids=True)
            history.blocks, history.channels = {}, {}
            self._store(history, whole, None)
        else:
            for first, last in runs(changed):
                # Through the (instrument, day) index: the SQLite fast path scans the whole table.
                part = await load_arrays(session, instrument, first, last, driver_sql=False, ids=True)
                self._store(history, part, (first, last))
        history.versions, history.loaded = current, True
        history.days = sorted(history.blocks)

    @staticmethod
    def _store(history: _History, arrays: RatingArrays, span: tuple[dt.date, dt.date] | None) -> None:
        """Replace the blocks of the days in ``span`` (every day when None) by those of ``arrays``."""
        if span is not None:
            for day in [d for d in history.blocks if span[0] <= d <= span[1]]:
                del history.blocks[day]
        if not len(arrays):
            return
        remap = np.array([history.channels.setdefault(name, len(history.channels)) for name in arrays.channels]
                         or [0], dtype=np.int64)
        order = np.lexsort((*_id_keys(arrays.ids)[::-1], arrays.day))  # by day, then by id
        day = arrays.day[order]
        starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
        ends = np.r_[starts[1:], len(day)]
        codes = arrays.codes.T[:, order]  # criterion-major, as load_arrays gives them
        keys = {"centre_id": arrays.centre_id[order], "service_id": arrays.service_id[order],
                "channel": remap[arrays.channel[order]], "origin": arrays.origin[order],
                "flagged": arrays.flagged[order], "ids": arrays.ids[order]}
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            block = {name: values[start:end] for name, values in keys.items()}
            block["codes"], block["day"] = codes[:, start:end], day[start].item()
            history.blocks[block["day"]] = block


def runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) ranges."""
    runs: list[list[dt.date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def _joined(blocks: list[dict], width: int, channels: tuple[str, ...], centres: dict[int, str],
            services: dict[int, str]) -> RatingArrays:
    rows = sum(block["codes"].shape[1] for block in blocks)
    codes = np.concatenate([b["codes"] for b in blocks], axis=1) if blocks else np.empty((width, 0), np.uint8)

    def joined(name: str, dtype) -> np.ndarray:
        return np.concatenate([b[name] for b in blocks]) if blocks else np.zeros(rows, dtype=dtype)

    day = np.repeat(np.array([b["day"] for b in blocks], dtype="datetime64[D]"),
                    [b["codes"].shape[1] for b in blocks]) if blocks else np.zeros(0, "datetime64[D]")
    keys = {name: joined(name, dtype) for name, dtype in (("centre_id", np.int64), ("service_id", np.int64),
                                                          ("channel", np.int64), ("origin", np.int64),
                                                          ("flagged", bool))}
    if len(blocks) > 1:
        # In id order, as SQLite reads them (the table's key): the same sums to the last bit as a fresh report.
        order = _id_order(joined("ids", "S32"))
        codes, day = codes[:, order], day[order]
        keys = {name: values[order] for name, values in keys.items()}
    return RatingArrays(codes=codes.T, **keys, channels=channels if rows else (), day=day, centres=centres,
                        services=services)


def _id_order(ids: np.ndarray) -> np.ndarray:
    """The permutation that sorts ``ids``: by their first eight bytes (one integer sort), all 32 on a tie."""
    keys = _id_keys(ids)
    order = np.argsort(keys[0], kind="stable")
    first = keys[0][order]
    if len(first) > 1 and (first[1:] == first[:-1]).any():  # two ids alike in 64 bits: about never
        order = np.lexsort(keys[::-1])
    return order


def _id_keys(ids: np.ndarray) -> list[np.ndarray]:
    """32-byte ids as four big-endian integers, most significant first: their order is the bytes' order."""
    words = np.frombuffer(np.ascontiguousarray(ids, dtype="S32").tobytes(), dtype=">u8").reshape(-1, 4)
    return [words[:, i] for i in range(4)]


async def invitation_versions(session: AsyncSession, survey: str) -> Versions:
    """{UTC day of creation: version} of ``survey``'s invitations."""
    return await day_versions(session, survey, InvitationDay)
