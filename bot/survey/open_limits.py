"""Limits on open surveys (started at a counter without an invitation), against ballot stuffing.

An open survey has no invitation to spend, so the web channel names its visitor: the browser (a random cookie) and
the client address. Per centre and local day, a browser completes at most one open survey and an address at most
``SIPAS_OPEN_PER_ADDRESS`` (1 unless raised, for a centre whose citizens share its Wi-Fi). The counts live in
`open_limits`, under keyed hashes that include the day, so two days' rows cannot be linked to one visitor, with no
time; rows go after the next day.

Bursts: an address that completes BURST_COUNT open surveys within BURST_SECONDS (at any centres) gets its responses
flagged (`responses.flagged`), so a report can leave them out. Those times are kept in memory only, per process,
like the limits on guessing codes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OpenLimit
from bot.storage.secret import keyed_hash

BURST_COUNT = 3
BURST_SECONDS = 600.0
MAX_ADDRESSES = 100_000  # addresses remembered for bursts; the oldest are forgotten first


@dataclass(frozen=True)
class Visitor:
    """Who starts an open survey, as the channel knows them: its browser's id and its client address."""

    browser: str
    address: str | None = None

    def keys(self, secret_key: bytes) -> str:
        """The keyed hashes kept on the session until it completes ("browser,address")."""
        parts = [keyed_hash(secret_key, "visitor", f"browser:{self.browser}")]
        if self.address:
            parts.append(keyed_hash(secret_key, "visitor", f"address:{self.address}"))
        return ",".join(parts)


def _day_hashes(secret_key: bytes, keys: str, day: dt.date) -> list[tuple[str, bool]]:
    """Each visitor key as stored for ``day``, and whether it is the address (the browser comes first)."""
    return [(keyed_hash(secret_key, "open-day", f"{day.isoformat()}:{key}"), position > 0)
            for position, key in enumerate(keys.split(","))]


async def reached(session: AsyncSession, secret_key: bytes, keys: str, centre_id: int, day: dt.date,
                  per_address: int) -> bool:
    """True when this browser or this address already completed as many open surveys here today as allowed."""
    for hashed, is_address in _day_hashes(secret_key, keys, day):
        done = (await session.execute(select(OpenLimit.completed).where(
            OpenLimit.centre_id == centre_id, OpenLimit.visitor_hash == hashed, OpenLimit.day == day))).scalar()
        if done is not None and done >= (per_address if is_address else 1):
            return True
    return False


async def count(session: AsyncSession, secret_key: bytes, keys: str, centre_id: int, day: dt.date) -> None:
    """Count one completed open survey for the browser and the address (in the response's transaction)."""
    for hashed, _ in _day_hashes(secret_key, keys, day):
        changed = await session.execute(update(OpenLimit).where(
            OpenLimit.centre_id == centre_id, OpenLimit.visitor_hash == hashed, OpenLimit.day == day)
            .values(completed=OpenLimit.completed + 1))
        if changed.rowcount == 0:
            session.add(OpenLimit(centre_id=centre_id, visitor_hash=hashed, day=day, completed=1))
    await session.flush()


async def forget_before(session: AsyncSession, day: dt.date) -> None:
    """Drop the counts of days before ``day`` (the sweep passes yesterday)."""
    await session.execute(delete(OpenLimit).where(OpenLimit.day < day))


@dataclass
class BurstWatch:
    """Recent completions of open surveys per address hash, in this process's memory."""

    clock: Callable[[], float] = time.monotonic
    seen: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    flagged_total: int = 0

    def completed(self, keys: str) -> bool:
        """Note one completion by these visitor keys; True when it is part of a burst from their address."""
        parts = keys.split(",")
        if len(parts) < 2:
            return False
        address, now = parts[1], self.clock()
        times = self.seen.pop(address, None) or deque()
        self.seen[address] = times  # most recently seen last
        while len(self.seen) > MAX_ADDRESSES:
            self.seen.popitem(last=False)
        times.append(now)
        while times and times[0] <= now - BURST_SECONDS:
            times.popleft()
        burst = len(times) >= BURST_COUNT
        self.flagged_total += burst
        return burst


PROCESS_BURSTS = BurstWatch()
