"""Helpers of the follow-up case tests: a centre, and a sipas-2023 survey completed through the service layer."""

import datetime as dt

from sqlalchemy import select

from bot.storage.models import FollowUpCase
from bot.survey import directory, invitations
from bot.survey.conversation import SurveyService
from surveys import events as ev

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)  # Friday 20/11/2026, 10:00 in Hà Nội
ALL_FIVE = ["5"] * 16  # access 1-3, procedure 1-4, staff 1-3, result 1-3, feedback 1-3


def ratings(**low: int) -> list[str]:
    """16 ratings, all 5 but the criteria named (staff_1=1)."""
    order = [f"access_{i}" for i in (1, 2, 3)] + [f"procedure_{i}" for i in (1, 2, 3, 4)] + \
        [f"{e}_{i}" for e in ("staff", "result", "feedback") for i in (1, 2, 3)]
    return [str(low.get(code, 5)) for code in order]


async def add_centre(services, code="dh", name="Trung tâm Một cửa phường Đông Hà", alert_chat="-100555"):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, code, name)
        centre.alert_chat = alert_chat
        return centre.code


async def complete(services, centre_code, answers, *, harassment="1", payment="1", comment="bỏ qua", chat=1,
                   now=NOW, service_code=None):
    """Redeem an invitation in a Telegram chat and answer sipas-2023: mode 1, ``answers`` (16 ratings), Câu 5,
    Câu 6 and the comment; returns (the invitation issued, the service)."""
    async with services.db.transaction() as session:
        centre = await directory.find_centre(session, centre_code)
        service = await directory.find_service(session, service_code) if service_code else None
        [issued] = await invitations.issue(session, services.secret_key, centre=centre, service=service,
                                           survey="sipas-2023", now=now - dt.timedelta(minutes=10))
    service_layer = SurveyService(services)
    await service_layer.redeem("telegram", chat, issued.token, now=now)
    for typed in ["1", *answers, harassment, payment, comment]:
        outcome = await service_layer.handle("telegram", chat, ev.Text(typed), now=now)
    assert outcome.reply.status == "completed"
    return issued, service_layer


async def sweep(services, now):
    await SurveyService(services).expire_abandoned(now=now)


async def case_rows(services):
    async with services.db.reading() as session:
        return (await session.scalars(select(FollowUpCase))).all()
