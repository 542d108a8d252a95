"""SQLite for the write engine, run on the event loop itself instead of through aiosqlite's worker thread.

Why: a survey step is about five short statements, tens of microseconds each inside SQLite, but through aiosqlite
every statement costs three or four hops to its thread and back (cursor, execute, fetch, close), and those hops were
most of a step's database time. Here the same statements run inline. The only wait that can be long, another
process holding the write lock (a CLI import while `serve` runs), is made asynchronous: the connection has no busy
timeout, and a statement that finds the database locked outside a transaction (BEGIN IMMEDIATE, in practice) is
retried after an `asyncio.sleep`, so the loop never blocks on a lock. Long reads (reports) keep aiosqlite.

The objects mimic the small part of aiosqlite's API that SQLAlchemy's aiosqlite dialect calls, and are handed to it
through `create_async_engine(async_creator=...)`, a documented SQLAlchemy hook.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

LOCKED_WAIT_SECONDS = 30.0  # as long as the threaded engine's busy timeout
_FIRST_PAUSE, _LONGEST_PAUSE = 0.001, 0.05


def _locked(error: sqlite3.OperationalError) -> bool:
    message = str(error).lower()
    return "locked" in message or "busy" in message


class InlineCursor:
    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    @property
    def description(self):
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        await self._connection._patiently(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Any) -> InlineCursor:
        await self._connection._patiently(lambda: self._cursor.executemany(sql, parameters))
        return self

    async def fetchone(self):
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None):
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self):
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _ImmediateQueue:
    """Stands in for aiosqlite's request queue, which SQLAlchemy uses to set `isolation_level`: runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed back to the awaiting caller
            future.set_exception(error)


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection = conn  # SQLAlchemy checks this to know the connection is open
        self._tx = _ImmediateQueue()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate)."""
        self._conn.close()
        self._connection = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def _patiently(self, statement: Callable[[], Any]) -> Any:
        """Run a statement; if another process holds the lock and no transaction of ours is open (so nothing of ours
        is half done), wait without blocking the loop and try again, for up to LOCKED_WAIT_SECONDS."""
        pause, deadline = _FIRST_PAUSE, time.monotonic() + LOCKED_WAIT_SECONDS
        while True:
            outside = not self._conn.in_transaction
            try:
                return statement()
            except sqlite3.OperationalError as error:
                if not (outside and _locked(error)) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)


def inline_creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: inline connections to the SQLite file at ``path``."""

    async def connect() -> InlineConnection:
        # check_same_thread off: SQLAlchemy may close a pooled connection from a finaliser on another thread.
        return InlineConnection(sqlite3.connect(path, isolation_level=None, check_same_thread=False))

    return connect
