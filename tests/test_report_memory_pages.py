"""What a server keeps beyond the period reports (bot.reports.memory): the dashboard's usual pages computed at the
start of `sipas-bot serve`, the same Report object while nothing it reads changed, and a centre page's answers and
comments kept until a response of their days changes. On PostgreSQL too (SIPAS_TEST_POSTGRES_URL)."""

import asyncio
import datetime as dt

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from test_backends import _seed_the_same
from test_report import QUICK

from bot.config import Settings
from bot.http.app import create_app
from bot.http.dashboard.reports import refresh_usual_pages, usual_requests
from bot.http.keys import SERVICES
from bot.reports.build import build_report, compute_report
from bot.reports.memory import ReportMemory
from bot.reports.render import render_json
from bot.storage.models import Centre
from bot.storage.responses import build_response


async def _add_response(services, day: dt.date) -> None:
    async with services.db.transaction() as session:
        centre = (await session.scalars(select(Centre).where(Centre.code == "HL"))).one()
        session.add(build_response(services.instrument(QUICK), {"access_1": 1, "staff_1": 2}, centre_id=centre.id,
                                   service_id=None, channel="web", submitted_on=day))


async def test_serve_computes_the_usual_pages_at_start_and_hands_them_out_unchanged(settings, services):
    await _seed_the_same(services)
    quick = Settings(**{**settings.model_dump(), "default_survey": QUICK, "_env_file": None})
    async with TestClient(TestServer(create_app(quick, warm_pages=True))) as client:
        served = client.server.app[SERVICES]
        for _ in range(600):  # the responses read and the usual pages computed, in the background
            if served.reports.warmed:
                break
            await asyncio.sleep(0.05)
        assert served.reports.warmed
        computed = served.reports.computed
        usual = await usual_requests(served)
        assert [(r.period, r.compare, r.total) for r in usual] == [
            ("month", "previous", True), ("month", "previous", False), ("quarter", "previous", True),
            ("year", "previous", True)]
        assert computed >= len(usual)
        for request in usual:
            kept = await build_report(served, request)
            assert await build_report(served, request) is kept  # nothing changed: the very same report
            assert render_json(kept) == render_json(await compute_report(served, request))
        assert served.reports.computed == computed  # the first visitor waits for nothing
        before = await build_report(served, usual[0])
        await _add_response(served, usual[0].date_to)  # in the latest month
        after = await build_report(served, usual[0])
        assert after is not before and render_json(after) != render_json(before)
        assert render_json(after) == render_json(await compute_report(served, usual[0]))

        # serve's refresh: a page a new response changed is computed again in the background, not by its visitor
        await _add_response(served, usual[0].date_to)
        computed = served.reports.computed
        refresher = asyncio.create_task(refresh_usual_pages(served, every=0.05))
        try:
            for _ in range(600):
                if served.reports.computed > computed:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the other usual pages of that month too
        finally:
            refresher.cancel()
        computed = served.reports.computed
        refreshed = await build_report(served, usual[0])
        assert served.reports.computed == computed and refreshed is not after
        assert render_json(refreshed) == render_json(await compute_report(served, usual[0]))


async def test_a_centre_pages_answers_are_kept_until_a_response_of_their_days_changes(services):
    await _seed_the_same(services)
    memory, calls = ReportMemory(), []

    async def compute():
        calls.append(None)
        return len(calls)

    async def ask():
        async with services.db.reading() as session:
            return await memory.remembered(session, QUICK, dt.date(2025, 3, 1), dt.date(2025, 3, 31),
                                           ("voices", "HL"), compute)
    assert (await ask(), await ask()) == (1, 1)
    await _add_response(services, dt.date(2025, 4, 2))  # another month: still kept
    assert await ask() == 1
    await _add_response(services, dt.date(2025, 3, 31))  # one of its days: read again
    assert (await ask(), await ask()) == (2, 2)
