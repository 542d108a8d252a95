"""Shared fixtures: settings on a temporary data dir, and the composed services on a real SQLite file."""

import contextlib
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# python-telegram-bot: RetryAfter.retry_after as a timedelta (the int form warns, and warnings are errors here).
os.environ.setdefault("PTB_TIMEDELTA", "true")

import pytest
import pytest_asyncio
from browser import PHONE, launched_chromium, offline_context, put_on_session_loop, require_session_loop

from bot.config import Settings
from bot.services import open_services

# Opt-in: SIPAS_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@localhost/postgres runs the database tests on a
# fresh PostgreSQL database per test instead of a SQLite file.
POSTGRES_ADMIN_URL = os.environ.get("SIPAS_TEST_POSTGRES_URL")
# For tests of the embedded SQLite database itself (its file, its locking, its fast read path).
sqlite_only = pytest.mark.skipif(bool(POSTGRES_ADMIN_URL), reason="SQLite only")


async def _admin_sql(*statements: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            for statement in statements:
                await connection.exec_driver_sql(statement)
    finally:
        await admin.dispose()


def _url_of(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def _fresh_postgres_database(name: str, template: str | None = None) -> str:
    copy = f' TEMPLATE "{template}"' if template else ""
    await _admin_sql(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"{copy}')
    return _url_of(name)


async def _drop_postgres_database(name: str) -> None:
    await _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Migrating an empty database costs a third of a second; each test copies one migrated database of its process
# instead (PostgreSQL: CREATE DATABASE ... TEMPLATE; SQLite: the file). Tests of migration itself ask for an empty one.
_TEMPLATE = "sipas_template_" + uuid.uuid4().hex[:12]
_templates: dict[str, str] = {}


async def _migrated(url: str) -> None:
    from bot.storage.database import Database

    database = Database(url)
    try:
        await database.ensure_schema(auto_migrate=True)
    finally:
        await database.dispose()


async def _postgres_template() -> str:
    if "postgres" not in _templates:
        await _migrated(await _fresh_postgres_database(_TEMPLATE))
        _templates["postgres"] = _TEMPLATE
    return _templates["postgres"]


async def _sqlite_template() -> Path:
    if "sqlite" not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="sipas-template-"))
        await _migrated(Settings(data_dir=folder, _env_file=None).resolved_database_url)
        _templates["sqlite"] = str(folder / "sipas.db")
    return Path(_templates["sqlite"])


def pytest_configure(config):
    config.addinivalue_line("markers", "empty_database: the test gets an unmigrated database")


def pytest_sessionfinish(session, exitstatus):
    if "postgres" in _templates:
        import asyncio

        asyncio.run(_drop_postgres_database(_TEMPLATE))
    if "sqlite" in _templates:
        shutil.rmtree(Path(_templates["sqlite"]).parent, ignore_errors=True)


@pytest.fixture
async def settings(tmp_path: Path, request: pytest.FixtureRequest):
    empty = request.node.get_closest_marker("empty_database") is not None
    if not POSTGRES_ADMIN_URL:
        if not empty:
            (tmp_path / "data").mkdir()
            shutil.copyfile(await _sqlite_template(), tmp_path / "data" / "sipas.db")
        yield Settings(data_dir=tmp_path / "data", _env_file=None)
        return
    name = "sipas_test_" + uuid.uuid4().hex[:12]
    url = await _fresh_postgres_database(name, None if empty else await _postgres_template())
    yield Settings(data_dir=tmp_path / "data", database_url=url, secret_key="k" * 40, _env_file=None)
    await _drop_postgres_database(name)


@pytest.fixture
async def services(settings: Settings):
    async with open_services(settings) as composed:
        yield composed


@pytest.fixture
async def client(settings: Settings):
    """The service's whole aiohttp app (API, dashboard, channels) on a loopback port, on ``settings``' database."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.http.app import create_app

    async with TestClient(TestServer(create_app(settings))) as running:
        yield running


def database_env(settings: Settings) -> dict[str, str]:
    """The variables that point a `sipas-bot` process at the same database as ``settings`` (PostgreSQL runs)."""
    if not settings.database_url:
        return {}
    return {"SIPAS_DATABASE_URL": settings.database_url, "SIPAS_SECRET_KEY": settings.secret_key.get_secret_value()}


# The admin CLI speaks Vietnamese by default; the tests written against its English texts ask for English, and
# the tests of the Vietnamese texts say so with SIPAS_ADMIN_LANGUAGE=vi.
CLI_LANGUAGE = {"SIPAS_ADMIN_LANGUAGE": "en"}
_IN_PROCESS = threading.Lock()  # one in-process run at a time: it swaps the process's streams, env and cwd


def run_in_process(args: tuple[str, ...], stdin: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """`bot.cli.run(args)` (the same boundary as the `sipas-bot` script) with its own streams, environment and
    working directory; returns (exit code, stdout, stderr). It runs in a worker thread, so that an async test
    (whose loop is running) can call it and the command can start its own event loop."""
    from click.testing import CliRunner

    from bot.cli import run

    def call() -> tuple[int, str, str]:
        with _IN_PROCESS, contextlib.chdir(cwd), CliRunner().isolation(input=stdin.encode("utf-8"),
                                                                      env=env) as streams:
            code = run(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
            return code, streams[0].getvalue().decode("utf-8"), streams[1].getvalue().decode("utf-8")

    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(call).result()


@pytest.fixture
def cli(tmp_path: Path, settings: Settings):
    """Run `sipas-bot ARGS` in this process on the test's own data dir (and database, the same as the
    ``settings`` fixture's); returns (exit code, stdout, stderr). `cli_process` runs a real process."""
    database = database_env(settings)

    def run(*args: str, stdin: str = "", env: dict | None = None, cwd: Path | None = None):
        return run_in_process(args, stdin, {"SIPAS_DATA_DIR": str(tmp_path / "data"), **CLI_LANGUAGE, **database,
                                            **(env or {})}, cwd or tmp_path)

    return run


@pytest.fixture
def cli_process(tmp_path: Path, settings: Settings):
    """Run `sipas-bot ARGS` as a real process on the test's own data dir (and database, the same as the
    ``settings`` fixture's); returns (exit code, stdout, stderr)."""
    database = database_env(settings)

    def run(*args: str, stdin: str = "", env: dict | None = None, cwd: Path | None = None):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], input=stdin.encode("utf-8"), capture_output=True, timeout=120,
            env={**os.environ, "SIPAS_DATA_DIR": str(tmp_path / "data"), **CLI_LANGUAGE, **database,
                 **(env or {})},
            cwd=cwd or tmp_path,
        )
        return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")

    return run



# Real-browser tests (tests/browser.py): one Chromium per xdist worker, on the worker's session loop (Playwright
# belongs to the loop that starts it), so a test that takes one of these fixtures runs on that loop too, and so
# must its async fixtures (README, "Browser tests").
# The PostgreSQL run repeats what reaches the database's SQL: the tests on a database of the `settings` fixture
# (storage, reports, cases, the API, the CLI, the engine) and the comparison of the two backends. Chat transports,
# browsers, benchmarks and linters speak to the database only through that code, and ran on SQLite.
_SQLITE_RUN_ONLY = ("*browser*", "test_bench_*", "test_lint.py", "test_architecture.py", "test_fake_telegram.py",
                    "test_poster.py", "test_telegram.py", "test_telegram_[fstw]*", "test_zalo_authorize.py",
                    "test_zalo_bot*", "test_zalo_end_to_end.py", "test_zalo_oa*")


def pytest_collection_modifyitems(config, items):
    if POSTGRES_ADMIN_URL:
        kept = [item for item in items if ("settings" in getattr(item, "fixturenames", ()) or
                                           item.path.name == "test_backends.py")
                and not any(fnmatch.fnmatch(item.path.name, p) for p in _SQLITE_RUN_ONLY)]
        if len(kept) < len(items):
            chosen = set(kept)
            config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
            items[:] = kept
    put_on_session_loop(items)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _chromium():
    async with launched_chromium() as launched:
        yield launched


@pytest.fixture
def browser(_chromium, request):
    """The worker's Chromium (checked: the test and its async fixtures are on the session loop)."""
    require_session_loop(request)
    return _chromium


@pytest_asyncio.fixture(loop_scope="session")
async def phone(browser):
    """A phone (360×740, scale 2, touch, vi-VN) that may only reach 127.0.0.1/localhost."""
    async with offline_context(browser, **PHONE) as context:
        yield context


@pytest_asyncio.fixture(loop_scope="session")
async def phone_no_js(browser):
    """The same phone with JavaScript off."""
    async with offline_context(browser, **PHONE, java_script_enabled=False) as context:
        yield context
