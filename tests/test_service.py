"""The service layer on a real SQLite file: invitations, sessions, completion, concurrency and redelivery."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, inspect, select

from bot.reports.dataset import load_ratings
from bot.services import open_services
from bot.storage.models import Invitation, Response, SurveySession
from bot.survey import directory, invitations
from bot.survey.conversation import SurveyService
from surveys import events as ev

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
async def world(services):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        await directory.add_centre(session, "xa-01", "UBND phường Đông Hà", open_surveys=True)
        service = await directory.add_service(session, "dd-01", "Đăng ký đất đai")
        issued = await invitations.issue(session, services.secret_key, centre=centre, service=service,
                                         survey="sipas-quick", count=3, now=NOW)
    return SurveyService(services), issued


async def invitation_status(services, invitation_id):
    async with services.db.reading() as session:
        return (await session.get(Invitation, invitation_id)).status


async def count(services, model):
    async with services.db.reading() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def answer_all(service, chat, answers, now=NOW):
    outcome = None
    for text in answers:
        outcome = await service.handle("telegram", chat, ev.Text(text), now=now)
    return outcome


async def test_redeem_by_token_welcomes_and_asks_the_first_question(services, world):
    service, issued = world
    outcome = await service.redeem("telegram", 111, issued[0].token, now=NOW)
    assert outcome.status == "survey" and outcome.language == "vi"
    assert outcome.texts[0].startswith("Trung tâm Phục vụ hành chính công tỉnh – dịch vụ: Đăng ký đất đai.")
    assert "ẩn danh" in outcome.texts[0]
    assert outcome.reply.question.code == "access_1" and outcome.reply.question.progress == "Câu 1/6"
    assert await invitation_status(services, issued[0].id) == "started"


async def test_typed_code_any_case_and_separators_starts_the_survey(services, world):
    service, issued = world
    code = issued[1].code
    typed = f" {code[:4].lower()} - {code[4:].lower()} "
    outcome = await service.handle("telegram", 222, ev.Text(typed), now=NOW)
    assert outcome.status == "survey" and outcome.reply.question.code == "access_1"


async def test_no_survey_gets_a_greeting_asking_for_the_code(services, world):
    service, _ = world
    outcome = await service.handle("telegram", 333, ev.Text("xin chào"), now=NOW)
    assert outcome.status == "no_survey" and "mã khảo sát" in outcome.texts[0]
    assert await count(services, SurveySession) == 0


@pytest.mark.parametrize("credential, problem, words", [
    ("ZZZZ-ZZZZ", "unknown", "Mã khảo sát này không dùng được"),
    ("A" * 32, "unknown", "Mã khảo sát này không dùng được"),
])
async def test_unknown_codes_are_refused_politely(services, world, credential, problem, words):
    service, _ = world
    outcome = await service.redeem("telegram", 444, credential, now=NOW)
    assert (outcome.status, outcome.problem) == ("invitation_problem", problem)
    assert words in outcome.texts[0]
    assert await count(services, SurveySession) == 0


async def test_expired_invitation_is_refused_and_nothing_recorded(services, world):
    service, issued = world
    later = NOW + dt.timedelta(days=31)
    outcome = await service.redeem("telegram", 555, issued[0].code, now=later)
    assert outcome.problem == "expired" and outcome.texts[0].startswith("Mã khảo sát này không dùng được")
    assert await invitation_status(services, issued[0].id) == "issued"
    assert await count(services, SurveySession) == 0


async def test_completion_stores_an_anonymous_response_and_closes_everything(services, world):
    service, issued = world
    await service.redeem("telegram", 666, issued[0].token, now=NOW)
    outcome = await answer_all(service, 666, ["5", "4", "2", "3", "không áp dụng", "Nhân viên gọi 0912 345 678"])
    assert outcome.reply.status == "completed" and outcome.reply.closing.startswith("Cảm ơn Ông/Bà")
    assert await invitation_status(services, issued[0].id) == "completed"
    assert await count(services, SurveySession) == 0  # the only link between chat and survey is gone
    async with services.db.reading() as session:
        stored = (await session.scalars(select(Response))).one()
        frame = await load_ratings(session, services.instrument("sipas-quick"))
    assert (stored.channel, stored.submitted_on) == ("telegram", dt.date(2026, 11, 20))
    assert stored.comment == "Nhân viên gọi [số điện thoại]"
    assert frame.iloc[0][["access_1", "procedure_1", "staff_1", "result_1", "feedback_1"]].tolist() == [
        5, 4, 2, 3, 0]
    assert list(frame[["centre", "service"]].iloc[0]) == ["HCC", "DD-01"]
    columns = {c.name for c in inspect(Response).columns}
    assert not columns & {"chat_hash", "chat_id", "token", "token_hash", "invitation_id", "phone", "dossier"}
    # The citizen comes back with the same code: thanked, not surveyed again.
    again = await service.redeem("telegram", 666, issued[0].code, now=NOW)
    assert again.problem == "used" and again.texts[0].startswith("Mã khảo sát này không dùng được")
    assert await count(services, Response) == 1


async def test_responses_are_dated_by_the_local_day(services, world):
    service, issued = world
    late_evening_utc = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)  # 03:00 on the 21st in Vietnam
    await service.redeem("telegram", 1, issued[0].token, now=late_evening_utc)
    await answer_all(service, 1, ["5", "5", "5", "5", "5", "bỏ qua"], now=late_evening_utc)
    async with services.db.reading() as session:
        assert (await session.scalars(select(Response.submitted_on))).one() == dt.date(2026, 11, 21)


async def test_same_chat_redeeming_again_resumes_at_the_current_question(services, world):
    service, issued = world
    await service.redeem("telegram", 777, issued[0].token, now=NOW)
    await answer_all(service, 777, ["4", "4"])
    outcome = await service.redeem("telegram", 777, issued[0].token, now=NOW)
    assert outcome.texts == ("Ông/Bà đang trả lời dở khảo sát; chúng ta tiếp tục từ câu hỏi hiện tại.",)
    assert outcome.reply.question.code == "staff_1"


async def test_simultaneous_redemptions_exactly_one_wins(settings, world):
    _, issued = world
    # Several workers, each with its own engine and connections on the same database file.
    async with open_services(settings) as a, open_services(settings) as b:
        services = [SurveyService(a), SurveyService(b)]
        outcomes = await asyncio.gather(*[
            services[i % 2].redeem("telegram", 1000 + i, issued[2].token, now=NOW) for i in range(12)])
        assert sorted(o.status for o in outcomes).count("survey") == 1
        assert {o.problem for o in outcomes if o.status != "survey"} == {"in_progress"}
        assert await count(a, SurveySession) == 1


async def test_concurrent_answers_of_one_chat_are_never_lost(settings, world):
    _, issued = world
    async with open_services(settings) as a, open_services(settings) as b:
        first, second = SurveyService(a), SurveyService(b)
        await first.redeem("telegram", 42, issued[0].token, now=NOW)
        await asyncio.gather(first.handle("telegram", 42, ev.Text("5"), now=NOW),
                             second.handle("telegram", 42, ev.Text("4"), now=NOW))
        async with a.db.reading() as session:
            row = (await session.scalars(select(SurveySession))).one()
        assert row.version == 3 and row.progress["history"] == ["access_1", "procedure_1", "staff_1"]
        assert sorted(row.progress["answers"].values()) == [4, 5]


async def test_a_redelivered_event_changes_nothing(services, world):
    service, issued = world
    await service.redeem("telegram", 88, issued[0].token, now=NOW, event_key="u1")
    first = await service.handle("telegram", 88, ev.Text("5"), event_key="u2", now=NOW)
    again = await service.handle("telegram", 88, ev.Text("5"), event_key="u2", now=NOW)
    assert first.reply.question.code == "procedure_1" and again.status == "duplicate"
    replay = await service.redeem("telegram", 88, issued[0].token, now=NOW, event_key="u1")
    assert replay.status == "duplicate"
    async with services.db.reading() as session:
        row = (await session.scalars(select(SurveySession))).one()
    assert row.progress["history"] == ["access_1", "procedure_1"]


async def test_cancel_frees_the_invitation_for_a_new_start(services, world):
    service, issued = world
    await service.redeem("telegram", 99, issued[0].token, now=NOW)
    await service.handle("telegram", 99, ev.Text("4"), now=NOW)
    await service.handle("telegram", 99, ev.Cancel(), now=NOW)  # "stop?" first: a bare "yes, stop" is stale
    outcome = await service.handle("telegram", 99, ev.Cancel(confirmed=True), now=NOW)
    assert outcome.reply.status == "cancelled"
    assert await count(services, SurveySession) == 0 and await invitation_status(services, issued[0].id) == "opened"
    restart = await service.redeem("telegram", 99, issued[0].token, now=NOW)
    assert restart.status == "survey" and restart.reply.question.code == "access_1"


async def test_abandoned_session_times_out_and_is_not_counted(services, world):
    service, issued = world
    await service.redeem("telegram", 5, issued[0].token, now=NOW)
    await service.handle("telegram", 5, ev.Text("4"), now=NOW)
    later = NOW + dt.timedelta(hours=49)
    outcome = await service.handle("telegram", 5, ev.Text("5"), now=later)
    assert outcome.status == "no_survey" and "quá thời gian trả lời" in outcome.texts[0]
    assert await count(services, SurveySession) == 0 and await count(services, Response) == 0
    assert await invitation_status(services, issued[0].id) == "opened"
    # The sweep does the same for chats that never come back.
    await service.redeem("telegram", 6, issued[1].token, now=NOW)
    assert await service.expire_abandoned(now=later) == 1
    assert await count(services, SurveySession) == 0 and await invitation_status(services, issued[1].id) == "opened"
    assert await service.expire_abandoned(now=NOW + dt.timedelta(days=40)) == 0
    assert await invitation_status(services, issued[1].id) == "expired"


async def test_open_surveys_only_where_the_centre_accepts_them(services, world):
    service, _ = world
    refused = await service.start_open("telegram", 7, "HCC", now=NOW)
    assert refused.status == "invitation_problem" and "mã in trên giấy hẹn" in refused.texts[0]
    accepted = await service.start_open("telegram", 7, "xa-01", survey="sipas-quick", language="en", now=NOW)
    assert accepted.status == "survey" and accepted.reply.question.progress == "Question 1/6"
    assert accepted.texts[0].startswith("UBND phường Đông Hà. Your answers are anonymous")
