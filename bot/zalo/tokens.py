"""The Zalo OA's token pair in the database (`zalo_tokens`, row "oa"), refreshed before it expires and when Zalo
refuses it.

The refresh token is single-use: each refresh returns a new pair, and spending the same refresh token twice (two
workers refreshing at once) loses the OA's authorization. So one refresh at a time across every worker and
process: the refresh runs inside a write transaction that holds the row (PostgreSQL: SELECT ... FOR UPDATE;
SQLite: the transaction begins IMMEDIATE, a write lock on the whole file), re-reads the row there, refreshes only
if that is still needed, and saves both new tokens (and the count) in that same transaction. An asyncio.Lock in
front keeps one process's own callers from queueing on the database one after the other.

The lock is held while Zalo answers (at most the call's timeout): that is the price of never spending a refresh
token twice, paid about once a day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable

import aiohttp
from sqlalchemy import select

from bot.errors import UserError
from bot.services import Services
from bot.storage.models import ZaloToken, utcnow
from bot.zalo import oauth

log = logging.getLogger(__name__)
ROW = oauth.ROW
MARGIN = dt.timedelta(hours=1)  # refresh when the access token expires within this
KEEP = 60.0  # seconds a token read from the database is used without reading it again (a send is not a read)
# Seconds without another refresh attempt after Zalo could not be reached: each attempt holds the lock (on SQLite
# every writer's) for up to the refresh timeout.
QUIET = 60.0


class NotAuthorized(UserError):
    """No usable token pair: the OA must be authorized (again) with `sipas-bot zalo authorize`."""

    status = 503


class OATokens:
    """The `TokenSource` of adapters/zalo_oa/api.py, backed by the database."""

    def __init__(self, services: Services, http: aiohttp.ClientSession, *, margin: dt.timedelta = MARGIN) -> None:
        self.services, self.http, self.margin = services, http, margin
        self._lock = asyncio.Lock()
        self._refused: str | None = None  # the refresh token Zalo refused (said once, not spent again)
        self._refused_reason = ""
        self._quiet_until = 0.0  # monotonic time before which an unreachable Zalo is not asked again
        self._unreachable: oauth.OAuthUnreachable | None = None
        self._kept: tuple[str, dt.datetime, float] | None = None  # (token, expires at, monotonic time read)

    async def access_token(self) -> str:
        """The current access token, refreshed first when it expires within the margin."""
        kept = self._kept
        if kept and time.monotonic() - kept[2] < KEEP and kept[1] - utcnow() > self.margin:
            return kept[0]  # (if another process refreshed meanwhile, Zalo's -216 leads to refreshed_after)
        async with self.services.db.reading() as session:
            row = await session.get(ZaloToken, ROW)
        if row is None:
            raise NotAuthorized.say("admin.zalo_not_authorized")
        if not self._expiring(row):
            self._kept = (row.access_token, oauth.aware(row.expires_at), time.monotonic())
            return row.access_token
        return await self._refresh(self._expiring, keep_valid=True)

    async def refreshed_after(self, stale: str) -> str:
        """A new access token after Zalo refused ``stale``: refreshed here, unless the stored token is already
        another one (another worker or process refreshed it meanwhile)."""
        return await self._refresh(lambda row: row.access_token == stale)

    def _expiring(self, row: ZaloToken) -> bool:
        return oauth.aware(row.expires_at) - utcnow() <= self.margin

    async def _refresh(self, needed: Callable[[ZaloToken], bool], *, keep_valid: bool = False) -> str:
        """Refresh under the lock if ``needed(row)`` still holds there. ``keep_valid``: when the refresh fails
        (Zalo unreachable, or the refresh token refused), a token that has not expired yet is still used."""
        async with self._lock, self.services.db.transaction() as session:
            row = (await session.execute(select(ZaloToken).where(ZaloToken.name == ROW).with_for_update())
                   ).scalar_one_or_none()
            if row is None:
                raise NotAuthorized.say("admin.zalo_not_authorized")
            if not needed(row):  # someone refreshed while we waited for the lock
                self._kept = (row.access_token, oauth.aware(row.expires_at), time.monotonic())
                return row.access_token
            usable = keep_valid and oauth.aware(row.expires_at) > utcnow()  # still works until it expires
            if time.monotonic() < self._quiet_until:  # Zalo was unreachable a moment ago: no lock held waiting
                if usable:
                    return row.access_token
                raise self._unreachable
            if row.refresh_token == self._refused:  # refused before: not sent again, not logged again
                if usable:
                    return row.access_token
                raise NotAuthorized.say("admin.zalo_refresh_refused", reason=self._refused_reason)
            try:
                pair = await oauth.refresh(self.services.settings, self.http, row.refresh_token,
                                           timeout=oauth.REFRESH_TIMEOUT)
            except oauth.OAuthUnreachable as error:
                self._quiet_until, self._unreachable = time.monotonic() + QUIET, error
                if usable:
                    log.warning("zalo: could not refresh the OA's access token (%s); using it until it expires at "
                                "%s", error, row.expires_at.isoformat())
                    return row.access_token
                raise
            except oauth.OAuthRefused as error:
                # Nothing is written: the stored pair stays as it was, for the admin to see (`zalo status`).
                self._refused, self._refused_reason = row.refresh_token, error.reason
                log.error("zalo: Zalo refused to refresh the OA's access token (%s); the OA must be authorized "
                          "again: sipas-bot zalo authorize", error.reason)
                if usable:
                    return row.access_token
                raise NotAuthorized.say("admin.zalo_refresh_refused", reason=error.reason) from None
            row.access_token, row.refresh_token, row.expires_at = pair.access_token, pair.refresh_token, \
                pair.expires_at
            row.refreshed_at, row.refreshes = utcnow(), row.refreshes + 1
        self._kept = (pair.access_token, pair.expires_at, time.monotonic())
        log.info("zalo: the OA's access token was refreshed; valid until %s", pair.expires_at.isoformat())
        return pair.access_token


async def status(services: Services) -> ZaloToken | None:
    """The stored pair's row (for `sipas-bot zalo status`: the times, never shown tokens)."""
    async with services.db.reading() as session:
        return await session.get(ZaloToken, ROW)
