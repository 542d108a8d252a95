"""The Zalo OA channel when things go wrong, end to end (tests/zalo_oa_served.py): forged, changed, oversized,
stale and replayed webhook calls; the interaction window closing mid-survey (-230); a rate limit (-32); the
process stopping with events acknowledged but not yet processed; staff alerts through the OA."""

import json

import pytest
from aiohttp import ClientSession
from sqlalchemy import select, update
from zalo_oa_served import serving
from zalo_signing import event, now_ms, post, signature_header

from adapters.zalo_oa.api import WindowClosed
from bot.services import open_services
from bot.storage.models import Centre, InboxEvent, OutboxMessage, SurveySession
from bot.survey import waiting
from bot.survey.conversation import SurveyService


@pytest.fixture
async def served(settings):
    async with serving(settings) as running:
        yield running


async def rows(settings, model):
    async with open_services(settings) as services, services.db.reading() as session:
        return (await session.scalars(select(model))).all()


async def is_waiting(settings, user: str) -> bool:
    async with open_services(settings) as services:
        return await waiting.is_waiting(SurveyService(services), "zalo-oa", user)


async def test_forged_changed_and_unsigned_calls_get_401_and_store_nothing(served):
    code = served.issued["sipas-quick"][0].display_code
    raw = event("user_send_text", "7001", text=code)
    changed = raw.replace(code.encode(), code[:-1].encode() + (b"A" if code[-1] != "A" else b"B"))
    assert len(changed) == len(raw) and sum(a != b for a, b in zip(raw, changed, strict=True)) == 1
    for body, signature in ((raw, "mac=" + "0" * 64), (raw, None), (changed, signature_header(raw)),
                            (raw, signature_header(raw, oa_secret="guessed"))):
        status, answer = await post(served.url, body, signature)
        assert (status, answer["status"]) == (401, 401), answer
    await served.drain()
    assert await rows(served.settings, InboxEvent) == [] and served.oa.attempts == []
    assert await rows(served.settings, SurveySession) == []
    status, _ = await post(served.url, raw)  # the same event, correctly signed, is taken
    assert status == 200
    await served.drain()
    assert len(served.oa.messages("7001")) == 2


async def test_oversized_malformed_stale_and_ignored_calls(served):
    big = event("user_send_text", "7002", text="x" * 70_000)
    assert (await post(served.url, big))[0] == 413
    malformed = json.dumps({"event_name": "user_send_text", "timestamp": str(now_ms()), "message": "hi"}).encode()
    assert (await post(served.url, malformed))[0] == 400
    stale = event("user_send_text", "7002", text="hi", timestamp=now_ms() - 10 * 60 * 1000)
    status, answer = await post(served.url, stale)
    assert status == 400 and "stale" in answer["error"]
    for kind in ("user_received_message", "oa_send_text"):
        status, answer = await post(served.url, event(kind, "7002", text="Câu 1/6."))
        assert (status, answer.get("ignored")) == (200, True)
    await served.drain()
    assert await rows(served.settings, InboxEvent) == [] and served.oa.attempts == []


async def test_a_replayed_event_is_processed_once(served):
    citizen = served.citizen("7003")
    await citizen.says(served.issued["sipas-quick"][1].display_code)
    answer = event("user_send_text", citizen.user, text="5", msg_id="replayed-msg-1")
    for _ in range(3):
        status, _ = await post(served.url, answer)
        assert status == 200
    await served.drain()
    assert len(citizen.received) == 3  # welcome, question 1, and one reply to the answer
    assert citizen.received[-1].text.startswith("Ông/Bà chọn: 5 – Rất hài lòng\n\nCâu 2/6.")
    [kept] = [r for r in await rows(served.settings, InboxEvent) if r.event_key == "replayed-msg-1"]
    assert kept.done and kept.body is None and kept.user_key is None


async def test_the_window_closing_mid_survey_stops_sending_and_the_next_message_resumes(served):
    citizen = served.citizen("7004")
    served.oa.fail_user(citizen.user, -230)
    await citizen.says(served.issued["sipas-quick"][2].display_code)
    # The welcome was refused: the question after it was not even tried, and the survey waits for the citizen.
    assert [a.error for a in served.oa.attempts] == [-230] and citizen.received == []
    assert await is_waiting(served.settings, citizen.user)
    served.oa.clear_user(citizen.user)
    resumed, question = await citizen.says("5")  # not applied to a question they never saw
    assert resumed.text.startswith("Ông/Bà đang trả lời dở khảo sát")
    assert question.text.startswith("Câu 1/6.") and not await is_waiting(served.settings, citizen.user)
    await citizen.says("5")
    served.oa.fail_user(citizen.user, -230)
    tried = len(served.oa.attempts)
    await citizen.says("4")  # applied (question 2), its reply refused
    assert len(served.oa.attempts) == tried + 1 and await is_waiting(served.settings, citizen.user)
    served.oa.clear_user(citizen.user)
    resumed, question = await citizen.says("xin chào")
    assert question.text.startswith("Câu 3/6.")  # question 2 was answered before the window closed
    for answer in ("3", "3", "0", "bỏ qua"):
        await citizen.says(answer)
    assert citizen.received[-1].text.startswith("Ông/Bà đã bỏ qua câu này.\n\nCảm ơn Ông/Bà đã hoàn thành")


async def test_a_rate_limit_is_retried_later_by_the_inbox(served):
    citizen = served.citizen("7005")
    served.oa.fail_user(citizen.user, -32, times=1)
    await citizen.says(served.issued["sipas-2023"][0].display_code)
    # The first attempt was refused; the retry (after the inbox's backoff) shows where the survey stands.
    assert served.oa.attempts[0].error == -32
    assert citizen.received[-1].text.startswith("Câu 1/20.")
    [kept] = await rows(served.settings, InboxEvent)
    assert kept.done and kept.attempts == 2


async def test_events_acknowledged_before_a_stop_are_processed_after_the_restart(served):
    citizen = served.citizen("7006")
    await citizen.says(served.issued["sipas-2023"][1].display_code)
    await served.channel.worker.stop()  # the process dies right after acknowledging what comes next
    for text, msg_id in (("1", "before-stop-1"), ("4", "before-stop-2")):
        status, _ = await post(served.url, event("user_send_text", citizen.user, text=text, msg_id=msg_id))
        assert status == 200
    assert len(citizen.received) == 2
    assert [r.done for r in await rows(served.settings, InboxEvent)] == [True, False, False]
    await served.stop()
    await served.start()
    await served.drain()
    replies = citizen.received[2:]
    assert [r.text.split("\n\n")[0] for r in replies] == ["Ông/Bà chọn: 1 – Trực tiếp tại cơ quan nhà nước",
                                                          "Ông/Bà chọn: 4 – Hài lòng"]
    assert "Câu 3/20." in replies[-1].text


async def test_staff_alerts_go_through_the_oa_and_wait_while_the_window_is_closed(served):
    await served.channel.send_text("staff-1", "Cảnh báo thử")
    assert [m.text for m in served.oa.messages("staff-1")] == ["Cảnh báo thử"]
    served.oa.fail_user("staff-1", -230)
    with pytest.raises(WindowClosed):
        await served.channel.send_text("staff-1", "Cảnh báo thứ hai")
    async with open_services(served.settings) as services, services.db.transaction() as session:
        await session.execute(update(Centre).values(alert_chat="zalo:staff-1"))
    citizen = served.citizen("7007")
    await citizen.says(served.issued["sipas-quick"][0].display_code)
    for answer in ("1", "1", "1", "1", "0", "Chờ lâu quá"):
        await citizen.says(answer)
    assert citizen.received[-1].text.startswith("Đã ghi nhận ý kiến")
    await served.oa.wait_for(lambda: any(a.user_id == "staff-1" and "Chờ lâu quá" in a.text
                                         for a in served.oa.attempts), "the alert tried")
    [kept] = await rows(served.settings, OutboxMessage)
    assert kept.platform == "zalo" and kept.last_error.startswith("WindowClosed: Zalo error -230")


async def test_a_rating_reaches_the_on_feedback_hook_once(served):
    got = []

    async def record(feedback):
        got.append(feedback)

    served.channel.on_feedback = record  # what the integrator wires to bot.zalo.ratings.record_rating
    rating = event("user_feedback", msg_id="zns-msg-1", tracking_id="42")
    for _ in range(2):
        assert (await post(served.url, rating))[0] == 200
    await served.drain()
    assert [(f.msg_id, f.tracking_id, f.rate) for f in got] == [("zns-msg-1", "42", 4)]
    assert served.oa.attempts == []


async def test_the_fake_refuses_a_wrong_token_and_a_message_zalo_would_refuse(served):
    url = f"{served.oa.base_url}/v3.0/oa/message/cs"
    six = {"buttons": [{"title": str(i), "type": "oa.query.hide", "payload": f"#{i}"} for i in range(6)]}
    async with ClientSession() as http:
        for token, message, code in (("stolen", {"text": "hi"}, -216), ("access-1", {"text": "x" * 2001}, -201),
                                     ("access-1", {"text": "hi", "attachment": {"type": "template",
                                                                               "payload": six}}, -201),
                                     ("access-1", {"text": "hi"}, 0)):
            async with http.post(url, json={"recipient": {"user_id": "7008"}, "message": message},
                                 headers={"access_token": token}) as response:
                assert (response.status, (await response.json())["error"]) == (200, code)
    assert [m.text for m in served.oa.messages("7008")] == ["hi"]


async def test_a_flooding_user_gets_one_notice_and_their_next_events_are_not_kept(served):
    flooder, other = served.citizen("7010"), served.citizen("7011")
    limit = served.settings.telegram_flood_per_minute
    for n in range(limit + 5):
        assert (await post(served.url, event("user_send_text", flooder.user, text=f"tin {n}")))[0] == 200
    await served.drain()
    notices = [m.text for m in flooder.received if m.text.startswith("Ông/Bà gửi quá nhiều tin nhắn")]
    assert len(notices) == 1 and len(flooder.received) == limit + 1  # a greeting each, then the one notice
    kept = [r for r in await rows(served.settings, InboxEvent) if not r.event_key.startswith("flooding:")]
    assert len(kept) == limit
    _, first = await other.says(served.issued["sipas-quick"][2].display_code)  # others are served as usual
    assert first.text.startswith("Câu 1/6.")
