"""Shared fixtures: settings on a temporary data dir, and the composed services on a real SQLite file."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

# python-telegram-bot: RetryAfter.retry_after as a timedelta (the int form warns, and warnings are errors here).
os.environ.setdefault("PTB_TIMEDELTA", "true")

import pytest

from bot.config import Settings
from bot.services import open_services

# Opt-in: SIPAS_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@localhost/postgres runs the database tests on a
# fresh PostgreSQL database per test instead of a SQLite file.
POSTGRES_ADMIN_URL = os.environ.get("SIPAS_TEST_POSTGRES_URL")
# For tests of the embedded SQLite database itself (its file, its locking, its fast read path).
sqlite_only = pytest.mark.skipif(bool(POSTGRES_ADMIN_URL), reason="SQLite only")


async def _fresh_postgres_database(name: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    await admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(name: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.dispose()


@pytest.fixture
async def settings(tmp_path: Path):
    if not POSTGRES_ADMIN_URL:
        yield Settings(data_dir=tmp_path / "data", _env_file=None)
        return
    name = "sipas_test_" + uuid.uuid4().hex[:12]
    url = await _fresh_postgres_database(name)
    yield Settings(data_dir=tmp_path / "data", database_url=url, secret_key="k" * 40, _env_file=None)
    await _drop_postgres_database(name)


@pytest.fixture
async def services(settings: Settings):
    async with open_services(settings) as composed:
        yield composed


def database_env(settings: Settings) -> dict[str, str]:
    """The variables that point a `sipas-bot` process at the same database as ``settings`` (PostgreSQL runs)."""
    if not settings.database_url:
        return {}
    return {"SIPAS_DATABASE_URL": settings.database_url, "SIPAS_SECRET_KEY": settings.secret_key.get_secret_value()}


@pytest.fixture
def cli(tmp_path: Path, settings: Settings):
    """Run `sipas-bot ARGS` as a real process on the test's own data dir (and database, the same as the
    ``settings`` fixture's); returns (exit code, stdout, stderr)."""
    database = database_env(settings)

    def run(*args: str, stdin: str = "", env: dict | None = None, cwd: Path | None = None):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], input=stdin.encode("utf-8"), capture_output=True, timeout=120,
            env={**os.environ, "SIPAS_DATA_DIR": str(tmp_path / "data"), **database, **(env or {})},
            cwd=cwd or tmp_path,
        )
        return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")

    return run
