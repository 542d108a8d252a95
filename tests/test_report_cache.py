"""Reports kept in memory (bot.reports.memory, what `sipas-bot serve` uses): the same JSON as a fresh report,
byte for byte, and every write to the responses, invitations or directory shows in the next one, whoever wrote it
(a survey completed through the service, a paper import by another process, `import undo`, a flag, a target).
On PostgreSQL too (SIPAS_TEST_POSTGRES_URL)."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from test_backends import REQUESTS, _seed_the_same
from test_import import csv_bytes, database_env
from test_report import QUICK, invite

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.reports.build import build_report
from bot.reports.memory import ReportMemory, period_days
from bot.reports.render import render_json
from bot.reports.request import parse_request
from bot.storage.models import Centre, Response
from bot.storage.responses import build_response
from bot.survey import invitations
from bot.survey.conversation import SurveyService
from surveys import events as ev

# Ranges of several periods (cut into one report per period in memory), with every option that reaches across.
SPANS = [dict(by="centre", period="month", date_from="2025-01-01", date_to="2025-07-19"),
         dict(by="centre", period="month", date_from="2025-02-10", date_to="2025-06-30", total=True,
              compare="previous"),
         dict(by="centre,service", period="quarter", date_from="2025-01-01", date_to="2025-07-19",
              compare="same-last-year"),
         dict(by="channel", period="week", date_from="2025-03-01", date_to="2025-05-31", window=30),
         dict(by="centre", period="month", date_from="2025-01-01", date_to="2025-07-19", origin="invited,paper",
              exclude_flagged=True),
         dict(by="parent,service", period="year", date_from="2025-01-01", date_to="2025-12-31", weight="volume")]
# What the write tests watch: a trend cut into months, one period alone, and a report without dates.
WATCHED = [SPANS[0], dict(by="centre", period="month", date_from="2025-03-01", date_to="2025-03-31", total=True,
                          compare="previous"), dict(by="centre,channel", period="all")]


def _request(options: dict):
    return parse_request(**{"survey": QUICK, "min_n": 5, **options})


async def _fresh_and_kept(services, memory: ReportMemory, options: dict) -> tuple[str, str]:
    fresh = render_json(await build_report(services, _request(options)))
    return fresh, render_json(await build_report(services, _request(options), memory))


@pytest.mark.parametrize("options", [*REQUESTS, *SPANS], ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
async def test_a_report_from_memory_is_the_fresh_report_byte_for_byte(services, options):
    await _seed_the_same(services)
    memory = ReportMemory()
    fresh, kept = await _fresh_and_kept(services, memory, options)
    assert '"n":' in fresh and kept == fresh
    computed = memory.computed
    assert render_json(await build_report(services, _request(options), memory)) == fresh
    assert memory.computed == computed  # the second time nothing was computed


async def _sees(services, change) -> None:
    """Fill a memory with WATCHED, ``change`` the database, and check every report again against a fresh one."""
    memory = ReportMemory()
    before = [await _fresh_and_kept(services, memory, options) for options in WATCHED]
    assert all(fresh == kept for fresh, kept in before)
    await change()
    after = [await _fresh_and_kept(services, memory, options) for options in WATCHED]
    for options, (fresh, kept) in zip(WATCHED, after, strict=True):
        assert kept == fresh, options
    assert any(old != fresh for (old, _), (fresh, _) in zip(before, after, strict=True))  # the change shows


async def _centre(services, code: str) -> Centre:
    async with services.db.reading() as session:
        return (await session.scalars(select(Centre).where(Centre.code == code))).one()


async def test_a_new_response_shows_in_the_next_report(services):
    await _seed_the_same(services)
    centre = await _centre(services, "HL")

    async def add():
        async with services.db.transaction() as session:
            session.add(build_response(services.instrument(QUICK), {"access_1": 1, "staff_1": 2},
                                       centre_id=centre.id, service_id=None, channel="web",
                                       submitted_on=dt.date(2025, 3, 15)))
    await _sees(services, add)


async def test_a_survey_completed_through_the_service_shows_in_the_next_report(services):
    await _seed_the_same(services)
    centre = await _centre(services, "DH")
    now = dt.datetime(2025, 3, 20, 3, tzinfo=dt.UTC)
    async with services.db.transaction() as session:
        [issued] = await invitations.issue(session, services.secret_key, centre=centre, service=None, survey=QUICK,
                                           now=now - dt.timedelta(hours=1))

    async def complete():
        service = SurveyService(services)
        await service.redeem("telegram", 4242, issued.token, now=now, event_key="r")
        for step, typed in enumerate(["1", "1", "2", "1", "2", "Chờ lâu quá"], start=1):
            await service.handle("telegram", 4242, ev.Text(typed), now=now + dt.timedelta(seconds=step),
                                 event_key=f"s{step}")
    await _sees(services, complete)


async def test_a_paper_import_by_another_process_and_its_undo_show_in_the_next_report(services, cli_process, cli,
                                                                                      settings, tmp_path):
    await _seed_the_same(services)
    path = tmp_path / "thang-3.csv"
    path.write_bytes(csv_bytes(["centre,submitted_on,access_1,procedure_1,staff_1,result_1,feedback_1",
                                *(f"CL,2025-03-{day:02d},1,2,1,2,NA" for day in range(1, 29))]))

    async def paper():  # a real second process writing the same database
        code, _, err = cli_process("import", str(path), "--survey", QUICK, env=database_env(settings))
        assert code == 0, err
    await _sees(services, paper)

    async def undo():
        code, _, err = cli("import", "undo", "1", env=database_env(settings))
        assert code == 0, err
    await _sees(services, undo)


async def test_a_flag_and_an_invitation_show_in_the_next_report(services):
    await _seed_the_same(services)

    async def flag():
        async with services.db.transaction() as session:
            first = (await session.scalars(select(Response.id).where(Response.submitted_on == dt.date(2025, 3, 3))
                                           .order_by(Response.id).limit(3))).all()
            await session.execute(update(Response).where(Response.id.in_(first)).values(flagged=True))
    await _sees(services, flag)
    centre = await _centre(services, "CL")
    await _sees(services, lambda: invite(services, centre, None, dt.datetime(2025, 3, 9, 1, tzinfo=dt.UTC), "osc"))


async def test_a_target_set_by_the_cli_shows_in_the_next_report(services, cli, settings):
    await _seed_the_same(services)

    async def target():
        code, _, err = cli("target", "set", "--centre", "HL", "--year", "2025", "--sipas", "99",
                           env=database_env(settings))
        assert code == 0, err
    await _sees(services, target)


def test_period_days():
    assert period_days(2024 * 4 + 2, "quarter") == (dt.date(2024, 7, 1), dt.date(2024, 9, 30))
    assert period_days((2024 - 1970) * 12 + 1, "month") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert period_days(2025, "year") == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    monday, sunday = period_days(((dt.date(2025, 3, 12) - dt.date(1970, 1, 1)).days + 3) // 7, "week")
    assert (monday, sunday) == (dt.date(2025, 3, 10), dt.date(2025, 3, 16))


async def test_the_server_keeps_its_reports_in_memory(settings, services):
    await _seed_the_same(services)
    options = SPANS[1]
    fresh = render_json(await build_report(services, _request(options)))
    async with TestClient(TestServer(create_app(settings))) as client:
        served = client.server.app[SERVICES]
        assert isinstance(served.reports, ReportMemory)
        assert render_json(await build_report(served, _request(options))) == fresh
        assert served.reports.computed > 0


def test_the_dashboard_benchmark_runs_and_finds_memory_equal_to_fresh():
    done = subprocess.run([sys.executable, "bench/dashboard_reports.py", "--n", "3000", "--repeat", "1"],
                          capture_output=True, timeout=600, cwd=Path(__file__).resolve().parent.parent, check=False)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "| overview |" in out and "every report from memory equal to the fresh one (JSON): True" in out
