"""Guessing short codes: a chat is locked out after a few failures (longer each time), every failure slows down
under a global attack (correct codes never wait), and every kind of invalid code gets the same reply."""

import datetime as dt
import random

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.http.app import create_app
from bot.storage.models import SurveySession
from bot.survey import directory, invitations
from bot.survey.conversation import SurveyService
from bot.survey.invitations import CODE_ALPHABET
from bot.survey.redemptions import FREE_FAILURES, RedemptionGuard
from surveys import events as ev

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


class Clock:
    """An injected clock: `sleep` only moves it forward, so a test never waits."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def issue(services, count=2):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        return await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                       survey="sipas-quick", count=count, now=NOW)


async def test_every_kind_of_invalid_code_gets_the_same_reply(services):
    issued = await issue(services, 3)
    service = SurveyService(services, RedemptionGuard())
    await service.redeem("telegram", 1, issued[0].code, now=NOW)  # in use by chat 1
    replies = {
        "unknown": await service.redeem("telegram", 2, "ZZZZ-ZZZZ", now=NOW),
        "in_progress": await service.redeem("telegram", 3, issued[0].code, now=NOW),
        "expired": await service.redeem("telegram", 4, issued[1].code, now=NOW + dt.timedelta(days=40)),
    }
    assert {name: outcome.problem for name, outcome in replies.items()} == {n: n for n in replies}
    assert len({outcome.texts for outcome in replies.values()}) == 1
    english = await service.redeem("telegram", 5, "ZZZZ-ZZZZ", language="en", now=NOW)
    assert english.texts[0].startswith("This survey code cannot be used") and "ask the staff" in english.texts[0]


async def test_a_chat_is_locked_out_after_a_few_failures_longer_each_time(services):
    issued = await issue(services)
    clock = Clock()
    service = SurveyService(services, RedemptionGuard(clock=clock, sleep=clock.sleep))
    for _ in range(FREE_FAILURES):
        outcome = await service.handle("telegram", 9, ev.Text("ZZZZ-ZZZZ"), now=NOW)
        assert outcome.problem == "unknown"
    locked = await service.redeem("telegram", 9, issued[0].code, now=NOW)  # even the right code waits
    assert locked.problem == "locked" and "thử lại sau khoảng 1 phút" in locked.texts[0]
    clock.now += 61
    assert (await service.redeem("telegram", 9, "ZZZZ-ZZZZ", now=NOW)).problem == "unknown"
    again = await service.redeem("telegram", 9, issued[0].code, now=NOW)
    assert again.problem == "locked" and "khoảng 2 phút" in again.texts[0]  # twice as long
    clock.now += 121
    assert (await service.redeem("telegram", 9, issued[0].code, now=NOW)).status == "survey"


async def test_ten_thousand_guesses_find_nothing_and_a_correct_code_still_works(services):
    issued = await issue(services)
    clock = Clock()
    guard = RedemptionGuard(clock=clock, sleep=clock.sleep)
    service = SurveyService(services, guard)
    rng = random.Random(9)
    statuses = set()
    for guess in range(10_000):
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(8))
        outcome = await service.redeem("telegram", 10_000 + guess % 600, code, now=NOW)
        statuses.add(outcome.status)
        clock.now += 0.002  # 600 chats, 500 guesses a second
        if guess == 5_000:  # in the middle of the attack, a citizen at the counter types the right code
            slept = len(clock.slept)
            honest = await service.redeem("telegram", 1, issued[0].code, now=NOW)
            assert honest.status == "survey" and honest.reply.question.code == "access_1"
            assert len(clock.slept) == slept  # a correct code never waits
    assert statuses == {"invitation_problem"}
    metrics = guard.metrics()
    assert metrics["failed_total"] <= 600 * (FREE_FAILURES + 1)  # the rest never reached the database
    assert metrics["refused_locked_total"] >= 10_000 - 600 * (FREE_FAILURES + 1)
    assert metrics["slowed_total"] > 0 and max(clock.slept) <= 5
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(SurveySession)) == 1  # the honest one


async def test_healthz_shows_the_redemption_counters(settings):
    async with TestClient(TestServer(create_app(settings))) as client:
        body = await (await client.get("/healthz")).json()
    assert set(body["redemptions"]) == {"failed_total", "refused_locked_total", "slowed_total", "locked_chats",
                                        "failed_last_minute"}
