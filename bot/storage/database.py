"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL, with the same code.

SQLite: WAL so readers never block the writer, a busy timeout so writers queue instead of failing, foreign keys
on, and write transactions opened with BEGIN IMMEDIATE: a deferred transaction that reads and then writes can fail
at once with SQLITE_BUSY when another writer got in between, and the busy timeout does not help then.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.errors import UserError
from bot.storage.inline_sqlite import inline_creator
from bot.storage.write_turn import WriteTurn

BUSY_TIMEOUT_MS = 30_000
# The PostgreSQL advisory lock that migrations hold (any constant of our own: "sipas" in ASCII).
MIGRATION_LOCK = 0x7369706173


def _sqlite_engine(url: str, begin: str, *, inline: bool = False) -> AsyncEngine:
    if inline:
        # No busy timeout: waiting for another process's lock is done asynchronously by the inline driver.
        busy_ms = 0
        engine = create_async_engine(url, async_creator=inline_creator(make_url(url).database))
    else:
        busy_ms = BUSY_TIMEOUT_MS
        engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the driver so that "begin" below decides how to begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(begin)

    return engine


def alembic_config():
    from alembic.config import Config  # imported when needed: it costs a third of a second at start-up

    config = Config()
    config.set_main_option("script_location", str(resources.files("bot.storage") / "migrations"))
    return config


class Database:
    """One database: `transaction()` for a unit of work that writes, `reading()` for reports."""

    # The SQLite write path: "inline" (bot/storage/inline_sqlite.py) or "aiosqlite"; bench/telegram.py compares them.
    sqlite_writes = "inline"

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = self.url.database or ""
            if database in ("", ":memory:"):
                raise UserError.say("admin.embedded_file")
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.read_engine = _sqlite_engine(url, "BEGIN")
            # Writes are short units of work: inline on the loop. Reads may be long (reports): in a thread.
            self.write_engine = _sqlite_engine(url, "BEGIN IMMEDIATE", inline=self.sqlite_writes == "inline")
        else:
            self.read_engine = self.write_engine = create_async_engine(url, pool_pre_ping=True)
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite has one writer at a time: our own writers queue here, first come first served, instead of
        # retrying BEGIN IMMEDIATE against each other (which let unlucky ones wait for seconds under load).
        self._write_turn = WriteTurn() if self.is_sqlite else (lambda urgent=False: contextlib.nullcontext())

    @asynccontextmanager
    async def transaction(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises. ``urgent``: a short write
        somebody waits for (a webhook's acknowledgement) goes ahead of the other writers waiting (SQLite)."""
        async with self._write_turn(urgent), self._writer.begin() as session:
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only session on a consistent snapshot."""
        async with self._reader() as session, session.begin():
            yield session

    async def revisions(self) -> tuple[str | None, str]:
        """(the database's current schema revision, the newest one this code knows)."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        async with self.write_engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
        return current, head or ""

    async def upgrade(self) -> None:
        """Bring the schema up to the newest revision (a fresh database gets every table)."""

        config = alembic_config()
        async with self.write_engine.begin() as connection:
            if not self.is_sqlite:
                # Processes starting together on an empty database queue here; each then finds the schema as the
                # one before left it. (SQLite: BEGIN IMMEDIATE already admits one writer at a time.)
                await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            await connection.run_sync(lambda sync: _run_upgrade(config, sync))

    async def ensure_schema(self, auto_migrate: bool) -> None:
        """Upgrade an old or empty database, or, with auto-migration off, say how to."""
        from bot.storage.revisions import head_revision, stored_revision

        known = head_revision()
        if known is not None and await stored_revision(self.write_engine) == known:
            return  # the common case, answered without importing Alembic
        current, head = await self.revisions()
        if current == head:
            return
        if not auto_migrate:
            raise UserError.say("admin.schema_behind", current=current or UserError.term("admin.schema_nothing"),
                                head=head)
        await self.upgrade()

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


def _run_upgrade(config, connection) -> None:
    from alembic import command

    config.attributes["connection"] = connection
    command.upgrade(config, "head")
