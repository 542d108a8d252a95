"""The per-day versions a server's report memory reads (migration 0012, bot/reports/memory.py): the sweep's
rewrite of the last days' rows on PostgreSQL (`settle`, for anonymity) changes no version, a real change does. On
PostgreSQL too (SIPAS_TEST_POSTGRES_URL)."""

from sqlalchemy import select, update
from test_report import QUICK

from bot.reports.day_arrays import day_versions, invitation_versions
from bot.storage.base import utcnow
from bot.storage.models import Centre, Response
from bot.storage.responses import build_response
from bot.survey import directory, invitations


async def _versions(services):
    async with services.db.reading() as session:
        return await day_versions(session, QUICK), await invitation_versions(session, QUICK)


async def test_the_sweeps_rewrite_changes_no_day_and_a_real_change_does(services):
    today = services.local_date(utcnow())
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, "HL", "Trung tâm Hải Lăng")
        session.add_all([build_response(services.instrument(QUICK), {"access_1": 5}, centre_id=centre.id,
                                        service_id=None, channel="web", submitted_on=today) for _ in range(3)])
    before = await _versions(services)
    async with services.db.transaction() as session:
        rewritten = await invitations.settle(session, (today,))
    postgres = not services.db.is_sqlite
    assert rewritten == (3 if postgres else 0)  # SQLite updates in place: nothing to rewrite
    assert await _versions(services) == before

    async with services.db.transaction() as session:
        hl = (await session.scalars(select(Centre.id).where(Centre.code == "HL"))).one()
        first = (await session.scalars(select(Response.id).where(Response.centre_id == hl).limit(1))).one()
        await session.execute(update(Response).where(Response.id == first).values(channel="paper"))
    responses, invited = await _versions(services)
    assert responses[today] > before[0][today] and invited == before[1]
