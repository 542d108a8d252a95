"""`GET /healthz` (200 when the database answers, else 503 with the reason) and the instrument catalogue
`GET /api/instruments[/{id}]`."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from aiohttp import web
from sqlalchemy import text

from bot.http.keys import INSTRUMENTS, SERVICES
from bot.storage.database import Database
from bot.survey.redemptions import PROCESS_GUARD
from surveys.instrument import Instrument

PING_SECONDS = 2.0  # a load balancer's probe waits a few seconds at most; a database slower than this is down


async def database_problem(db: Database, timeout: float = PING_SECONDS) -> str | None:
    """None when the database answers a SELECT within ``timeout`` seconds, else a short reason (no URL, no
    password)."""
    try:
        if db.is_sqlite:
            # A connection of its own: the pool's open connections keep reading a file that was removed or
            # replaced, the next one would not. Read-only; our schema's table, so that an empty file made in
            # place of a removed one is no database of ours.
            await asyncio.wait_for(asyncio.to_thread(_ping_sqlite, db.url.database, timeout), timeout)
        else:
            async def ping() -> None:
                async with db.read_engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

            await asyncio.wait_for(ping(), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as error:
        return _short(error, db)
    return None


def _ping_sqlite(path: str, timeout: float) -> None:
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    try:
        connection.execute("SELECT 1 FROM alembic_version").fetchall()
    finally:
        connection.close()


def _short(error: BaseException, db: Database) -> str:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = f"{type(error).__name__}: {reason[0]}" if reason else type(error).__name__
    if db.url.password:
        reason = reason.replace(str(db.url.password), "***")
    return reason[:200]


async def health(request: web.Request) -> web.Response:
    problem = await database_problem(request.app[SERVICES].db)
    # The code-guessing counters of this process (bot/survey/redemptions.py): a rising failed_total is an attack.
    return web.json_response({"status": "error" if problem else "ok", "database": problem or "ok",
                              "instruments": len(request.app[INSTRUMENTS]), "redemptions": PROCESS_GUARD.metrics()},
                             status=503 if problem else 200)


def _describe(instrument: Instrument) -> dict:
    return {
        "id": instrument.id,
        "version": instrument.version,
        "title": dict(instrument.title.by_language),
        "languages": list(instrument.languages),
        "criteria": instrument.criteria(),
        "optional_sections": list(instrument.optional_sections()),
    }


async def list_instruments(request: web.Request) -> web.Response:
    return web.json_response([_describe(i) for i in request.app[INSTRUMENTS].values()])


async def get_instrument(request: web.Request) -> web.Response:
    instrument = request.app[INSTRUMENTS].get(request.match_info["instrument_id"])
    if instrument is None:
        raise web.HTTPNotFound(reason="unknown instrument")
    return web.json_response(_describe(instrument))


ROUTES = [web.get("/healthz", health), web.get("/api/instruments", list_instruments),
          web.get("/api/instruments/{instrument_id}", get_instrument)]
