"""The two backends agree: migrations that any number of processes may start at once, and the same report numbers
from SQLite and PostgreSQL for the same data.

The cross-backend test needs a PostgreSQL server (SIPAS_TEST_POSTGRES_URL); `.ci/run` starts one."""

import asyncio
import datetime as dt
import os
import random
import subprocess
import sys
import uuid

import pytest
from conftest import POSTGRES_ADMIN_URL, _drop_postgres_database, _fresh_postgres_database, database_env
from sqlalchemy import text
from test_report import QUICK, invite

from bot.config import Settings
from bot.reports.build import build_report
from bot.reports.render import render_json
from bot.reports.request import parse_request
from bot.services import open_services
from bot.storage.database import Database
from bot.storage.responses import build_response
from bot.storage.revisions import head_revision
from bot.survey import directory

needs_postgres = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="needs PostgreSQL: set SIPAS_TEST_POSTGRES_URL (.ci/start-postgres starts one)")


def _url(settings: Settings) -> str:
    return settings.database_url or f"sqlite+aiosqlite:///{settings.data_dir / 'sipas.db'}"


async def _tables(url: str) -> tuple[str | None, int]:
    database = Database(url)
    try:
        async with database.reading() as session:
            revision = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            centres = (await session.execute(text("SELECT count(*) FROM centres"))).scalar_one()
        [only] = revision  # exactly one row: no process wrote its own
        return only, centres
    finally:
        await database.dispose()


@pytest.mark.empty_database
async def test_many_migrations_started_at_once_on_an_empty_database_all_succeed(settings):
    url = _url(settings)
    databases = [Database(url) for _ in range(6)]
    try:
        # Without a lock they deadlock or collide on alembic_version; a minute is far more than six need.
        results = await asyncio.wait_for(asyncio.gather(
            *(database.ensure_schema(auto_migrate=True) for database in databases), return_exceptions=True), 60)
    finally:
        for database in databases:
            await database.dispose()
    assert [r for r in results if isinstance(r, BaseException)] == []
    revision, centres = await _tables(url)
    assert revision == head_revision() and centres == 0


def test_processes_started_together_on_an_empty_database_all_start(tmp_path, settings):
    env = {**os.environ, "SIPAS_DATA_DIR": str(tmp_path / "data"), "SIPAS_ADMIN_LANGUAGE": "en",
           **database_env(settings)}
    processes = [subprocess.Popen([sys.executable, "-m", "bot", "centre", "list"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outcomes = [(p.wait(timeout=120), p.stderr.read().decode()) for p in processes]
    for process in processes:
        process.stdout.close()
        process.stderr.close()
    assert outcomes == [(0, "")] * 3


CENTRES = [("HL", "Trung tâm Phục vụ hành chính công Hải Lăng"), ("DH", "Trung tâm Phục vụ hành chính công Đông Hà"),
           ("CL", "Trung tâm Phục vụ hành chính công Cam Lộ")]
SERVICES = [("KS", "Đăng ký khai sinh"), ("KH", "Đăng ký kết hôn"), ("DD", "Cấp giấy chứng nhận quyền sử dụng đất")]


async def _seed_the_same(services, seed: int = 7) -> None:
    """A few hundred responses and invitations spread over centres, services, channels and months, the same for
    every call with the same seed (answers include NA and skipped questions)."""
    chance = random.Random(seed)
    instrument = services.instrument(QUICK)
    criteria = list(instrument.criteria())
    async with services.db.transaction() as session:
        centres = [await directory.add_centre(session, code, name) for code, name in CENTRES]
        kinds = [await directory.add_service(session, code, name) for code, name in SERVICES]
        rows = []
        for _ in range(400):
            answers = {}
            for criterion in criteria:
                pick = chance.random()
                if pick < 0.85:
                    answers[criterion] = chance.choice([1, 2, 3, 4, 5, 4, 5, 5])
                elif pick < 0.93:
                    answers[criterion] = "NA"
            rows.append(build_response(
                instrument, answers, centre_id=chance.choice(centres).id,
                service_id=chance.choice([*[k.id for k in kinds], None]),
                channel=chance.choice(["telegram", "zalo", "web", "paper"]),
                submitted_on=dt.date(2025, 1, 1) + dt.timedelta(days=chance.randrange(200))))
        session.add_all(rows)
    for _ in range(60):
        created = dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC) + dt.timedelta(days=chance.randrange(200))
        await invite(services, chance.choice(centres), chance.choice([*kinds, None]), created,
                     chance.choice(["", "o", "os", "osc"]))


REQUESTS = [dict(by="centre"), dict(by="centre,service", period="month"), dict(by="channel", period="quarter"),
            dict(by="service", date_from="2025-03-01", date_to="2025-05-31", min_n=30),
            dict(by="centre", period="year", min_n=1), dict(by="centre,service,channel", period="month", min_n=1),
            # issue 12: change, ranks, weeks, windows, the province total and weighting, on either backend alike
            dict(by="centre", period="month", compare="previous", total=True, weight="volume"),
            dict(by="centre,service", period="week", window=30, min_n=3)]


@needs_postgres
@pytest.mark.parametrize("options", REQUESTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "all")
async def test_reports_are_identical_on_sqlite_and_postgresql(tmp_path, options):
    reports = await reports_on_both_backends(tmp_path, _seed_the_same, options)
    assert '"n":' in reports[0] and reports[0] == reports[1]


async def reports_on_both_backends(tmp_path, seed, options: dict) -> list[str]:
    """The report JSON for ``options`` on SQLite and then on PostgreSQL, each seeded by ``seed(services)``."""
    name = "sipas_test_" + uuid.uuid4().hex[:12]
    on_postgres = Settings(data_dir=tmp_path / "pg", database_url=await _fresh_postgres_database(name),
                           secret_key="k" * 40, _env_file=None)
    on_sqlite = Settings(data_dir=tmp_path / "sqlite", secret_key="k" * 40, _env_file=None)
    reports = []
    try:
        for settings in (on_sqlite, on_postgres):
            async with open_services(settings) as services:
                await seed(services)
                request = parse_request(**{"survey": QUICK, "min_n": 5, **options})
                reports.append(render_json(await build_report(services, request)))
    finally:
        await _drop_postgres_database(name)
    return reports
