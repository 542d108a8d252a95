"""The composed service for one process: settings, instruments, the database and the secret key."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.errors import NotFound
from bot.instruments import load_instruments
from bot.storage.database import Database
from bot.storage.secret import load_secret_key
from surveys.instrument import Instrument


@dataclass
class Services:
    settings: Settings
    instruments: dict[str, Instrument]
    db: Database
    secret_key: bytes
    # A long-running server's reports kept in memory (a bot.reports.memory.ReportMemory); None: read afresh.
    reports: Any = None

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The calendar date of ``moment`` where the centres are (responses are dated by local day)."""
        return moment.astimezone(ZoneInfo(self.settings.timezone)).date()

    def instrument(self, instrument_id: str | None) -> Instrument:
        instrument_id = instrument_id or self.settings.default_survey
        if instrument_id not in self.instruments:
            raise NotFound.say("admin.unknown_survey", survey=instrument_id, known=", ".join(sorted(self.instruments)))
        return self.instruments[instrument_id]


@asynccontextmanager
async def open_services(settings: Settings, *, migrate: bool = True,
                        instruments: bool = True) -> AsyncIterator[Services]:
    """Load instruments (unless told not to: the reference-data commands need none), open the database (bringing
    its schema up to date unless told not to) and the key."""
    loaded = load_instruments(settings.instruments_dir) if instruments else {}
    db = Database(settings.resolved_database_url)
    try:
        if migrate:
            await db.ensure_schema(settings.auto_migrate)
        key = load_secret_key(settings, embedded=db.is_sqlite)
        yield Services(settings, loaded, db, key)
    finally:
        await db.dispose()
