"""The Zalo Bot in webhook mode (SIPAS_PUBLIC_URL set), through the `serve` app: the fake registers the webhook
from setWebhook and POSTs updates with X-Bot-Api-Secret-Token, top-level or wrapped in {ok, result}."""

import pytest
from aiohttp import ClientSession
from fake_zalo_bot import FakeZaloBot
from sqlalchemy import func, select
from zalo_bot_world import SECRET, THANKS, bot_settings, complete_quick, exchange, seed, serving

from bot.services import open_services
from bot.storage.models import InboxEvent, Response


@pytest.fixture
async def fake():
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture
async def hooked(settings, fake):
    zb = bot_settings(settings, fake, webhook=True)
    issued = await seed(zb)
    async with serving(zb):
        yield zb, issued


async def counts(settings):
    async with open_services(settings) as services, services.db.reading() as session:
        return (await session.scalar(select(func.count()).select_from(InboxEvent)),
                await session.scalar(select(func.count()).select_from(Response)))


@pytest.mark.parametrize("envelope", ["top", "wrapped"])
async def test_a_citizen_completes_sipas_quick_through_the_webhook(fake, hooked, envelope):
    zb, issued = hooked
    assert fake.webhook == {"url": f"{zb.public_url}/webhooks/zalo-bot", "secret_token": SECRET}
    assert not [method for method, _ in fake.calls if method == "getUpdates"]
    chat = f"hook-{envelope}-0000000000"
    seen = await complete_quick(fake, chat, issued[0].display_code, envelope=envelope)
    assert seen[-1].startswith(THANKS)
    async with open_services(zb) as services, services.db.reading() as session:
        [stored] = (await session.scalars(select(Response))).all()
        kept = (await session.scalars(select(InboxEvent))).all()
    assert stored.channel == "zalo-bot"
    assert len(kept) == 7 and all(row.done and row.body is None and row.user_key is None for row in kept)
    assert all(row.event_key.startswith("message.text.received:") for row in kept)


async def test_a_wrong_or_missing_secret_gets_401_and_nothing_is_stored(fake, hooked):
    zb, issued = hooked
    update = fake.update("forged00000000000000", issued[1].display_code)
    for secret in ("not-the-secret-123", None, SECRET[:-1], SECRET + "x"):
        status, body = await fake.deliver(update, secret=secret)
        assert (status, body) == (401, {"error": "unauthorized", "status": 401})
    assert await counts(zb) == (0, 0)
    assert not fake.sent


async def test_a_malformed_body_gets_400_and_nothing_is_stored(fake, hooked):
    zb, _ = hooked
    bad = [b"not json", b"[1, 2]", b'{"event_name": "message.text.received"}',
           b'{"event_name": "message.text.received", "message": {"text": "5", "chat": {"id": "x"}}}',
           b'{"ok": true, "result": {"message": {"message_id": "m1", "chat": {"id": "x"}}}}']
    for raw in bad:
        status, body = await fake.deliver({}, raw=raw)
        assert status == 400 and body["status"] == 400 and body["error"], raw
    assert await counts(zb) == (0, 0)


async def test_the_same_message_twice_is_processed_once(fake, hooked):
    zb, issued = hooked
    chat = "twice000000000000000"
    await exchange(fake, chat, issued[2].display_code, "Câu 1/6")
    update = fake.update(chat, "5", message_id="same-message-id-0001")
    assert (await fake.deliver(update))[0] == 200
    await fake.wait_for_messages(chat, 4)  # the echo and the next question
    assert (await fake.deliver(update, envelope="wrapped"))[0] == 200  # the same message, redelivered
    await exchange(fake, chat, "4", "Câu 3/6")  # processed after the redelivery: it changed nothing
    texts = fake.messages(chat)
    assert sum("Câu 2/6" in text for text in texts) == 1
    assert texts.count("Ông/Bà chọn: 5 – Rất hài lòng") == 1
    assert (await counts(zb))[0] == 3


async def test_the_webhook_route_exists_only_in_webhook_mode(settings, fake, hooked):
    zb, _ = hooked
    async with serving(bot_settings(settings, fake)) as polling_app:
        assert "/webhooks/zalo-bot" not in [r.canonical for r in polling_app.router.resources()]
    async with ClientSession() as http, http.post(f"{zb.public_url}/webhooks/zalo-bot", data=b"{}") as response:
        assert response.status == 401  # no header: refused before the body is read
