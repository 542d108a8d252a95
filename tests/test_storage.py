"""The embedded database: created and migrated on first use, WAL, an owner-only secret key, and the switch that
turns automatic migration off."""

import asyncio
import sqlite3
import stat
import time

import pytest
from alembic import command
from conftest import sqlite_only
from sqlalchemy import text

from bot.config import Settings
from bot.errors import UserError
from bot.services import open_services
from bot.storage.database import Database, alembic_config
from bot.storage.secret import keyed_hash, load_secret_key


@sqlite_only
def test_first_command_creates_and_migrates_the_database_with_wal_and_a_private_key(cli, tmp_path):
    code, out, err = cli("centre", "list")
    assert code == 0, err
    assert "no centres yet" in out
    db_path = tmp_path / "data" / "sipas.db"
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
        assert db.execute("select version_num from alembic_version").fetchone()[0] == "0016"
    assert {"centres", "services", "staff", "invitations", "survey_sessions", "responses", "import_batches",
            "processed_events", "app_state"} <= tables
    key = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_text().strip()) >= 32


@pytest.mark.empty_database
def test_auto_migrate_off_says_what_to_do_then_db_upgrade_fixes_it(cli, tmp_path):
    code, _, err = cli("centre", "list", env={"SIPAS_AUTO_MIGRATE": "false"})
    assert code == 1
    assert "Run `sipas-bot db upgrade` (SIPAS_AUTO_MIGRATE is false)" in err
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and out.strip() == "database schema: empty -> 0016"
    code, out, _ = cli("centre", "list", env={"SIPAS_AUTO_MIGRATE": "false"})
    assert code == 0
    assert cli("db", "upgrade")[1].strip() == "already at 0016"


async def test_an_older_database_is_brought_up_to_date(settings):
    async with open_services(settings) as services:
        config = alembic_config()

        def downgrade(connection):
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with services.db.write_engine.begin() as connection:
            await connection.run_sync(downgrade)
        assert (await services.db.revisions())[0] is None
    async with open_services(settings) as services:  # opening it again migrates it
        current, head = await services.db.revisions()
        assert current == head == "0016"
        async with services.db.reading() as session:
            assert (await session.execute(text("select count(*) from app_state"))).scalar() == 0


def test_secret_key_is_stable_and_configurable(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", _env_file=None)
    first = load_secret_key(settings, embedded=True)
    assert load_secret_key(settings, embedded=True) == first
    assert keyed_hash(first, "code", "ABCD") != keyed_hash(first, "token", "ABCD")
    configured = Settings(data_dir=tmp_path / "d", secret_key="x" * 40, _env_file=None)
    assert load_secret_key(configured, embedded=False) == b"x" * 40
    with pytest.raises(UserError, match="at least 32 characters"):
        load_secret_key(Settings(secret_key="short", _env_file=None), embedded=True)
    with pytest.raises(UserError, match="Set SIPAS_SECRET_KEY"):
        load_secret_key(Settings(data_dir=tmp_path / "e", _env_file=None), embedded=False)


def test_memory_databases_are_refused():
    with pytest.raises(UserError, match="must be a file"):
        Database("sqlite+aiosqlite:///:memory:")


@sqlite_only  # PostgreSQL's read-committed writers do not queue
async def test_concurrent_writers_on_one_file_queue_instead_of_failing(settings):
    async with open_services(settings) as a, open_services(settings) as b:

        async def add(services, i):
            async with services.db.transaction() as session:
                await session.execute(text("insert into app_state(key, value) values (:k, 'v')"), {"k": f"k{i}"})
                current = (await session.execute(text("select count(*) from app_state"))).scalar()
                await asyncio.sleep(0.001)
                await session.execute(text("update app_state set value = :v where key = :k"),
                                      {"v": str(current), "k": f"k{i}"})

        await asyncio.gather(*[add(a if i % 2 else b, i) for i in range(30)])
        async with a.db.reading() as session:
            values = sorted(int(v) for v in (await session.execute(text("select value from app_state"))).scalars())
    # Each writer saw every earlier commit: the counts are exactly 1..30, no write was lost or refused.
    assert values == list(range(1, 31))


@sqlite_only
async def test_a_write_waits_for_another_process_lock_without_blocking_the_loop(settings):
    """Writes run on the event loop (bot/db/inline_sqlite.py); a lock held elsewhere must be waited out
    asynchronously, so other chats and HTTP requests are still served meanwhile."""
    async with open_services(settings) as services:
        other = sqlite3.connect(settings.data_dir / "sipas.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("insert into app_state(key, value) values ('other', 'first')")

        async def write():
            async with services.db.transaction() as session:
                await session.execute(text("insert into app_state(key, value) values ('ours', 'second')"))

        writer = asyncio.create_task(write())
        started = time.monotonic()
        for _ in range(20):  # 0.2 s of other work on the loop: a writer blocking the loop would stall it
            await asyncio.sleep(0.01)
        assert time.monotonic() - started < 5  # a blocking wait would take the whole 30 s busy timeout
        assert not writer.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(writer, timeout=5)
        async with services.db.reading() as session:
            rows = dict((await session.execute(text("select key, value from app_state"))).all())
    assert rows == {"other": "first", "ours": "second"}
