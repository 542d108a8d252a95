"""Citizen text is cleaned once, at the service boundary: NUL bytes and lone surrogates go, NFC is applied."""

import datetime as dt

from sqlalchemy import select

from bot.storage.models import Response
from bot.survey import directory, invitations
from bot.survey.conversation import SurveyService
from surveys import events as ev
from surveys.cleaning import clean_text

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


def test_clean_text_removes_nul_and_lone_surrogates_and_composes():
    assert clean_text("a\x00b\ud800c\udfff") == "abc"
    assert clean_text("ha\u0300i lo\u0300ng") == "hài lòng"


async def test_a_comment_with_nul_and_a_lone_surrogate_completes_and_is_stored_clean(services):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        issued = await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                         survey="sipas-quick", count=1, now=NOW)
    service = SurveyService(services)
    await service.redeem("telegram", 7, issued[0].token + "\x00", now=NOW)
    outcome = None
    for text in ["5", "4\x00", "3", "4", "không áp dụng", "Tốt\x00 lắm\ud800 ho\u0300"]:
        outcome = await service.handle("telegram", 7, ev.Text(text), now=NOW)
    assert outcome.reply.status == "completed"
    async with services.db.reading() as session:
        stored = (await session.scalars(select(Response))).one()
    assert stored.comment == "Tốt lắm hò"
