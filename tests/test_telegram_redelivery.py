"""A reply is never lost: the `sipas-bot serve` process (webhook mode) is killed after an answer was committed and
before its reply reached Telegram; Telegram got no 200, so it delivers the update again to the next process, which
shows the current question (the citizen must never answer a question that was not shown to them)."""

import asyncio
import json
import os
import signal
import subprocess
import sys

from conftest import database_env
from fake_telegram import FakeTelegram
from sqlalchemy import select
from test_telegram_serve import free_port

from bot.services import open_services
from bot.storage.models import SurveySession


def start_serve(fake, tmp_path, settings, env):
    port = free_port()
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **env, **database_env(settings), "SIPAS_DATA_DIR": str(tmp_path / "data"),
             "SIPAS_PORT": str(port), "SIPAS_PUBLIC_URL": f"http://127.0.0.1:{port}"})


async def answers_stored(settings) -> dict:
    async with open_services(settings) as services, services.db.reading() as session:
        row = (await session.scalars(select(SurveySession).where(SurveySession.status == "active"))).first()
    return row.progress["answers"] if row is not None else {}


async def test_killed_between_commit_and_reply_the_citizen_sees_the_current_question(cli, tmp_path, settings):
    # Like Telegram, the fake retries a webhook POST that got no 200 (the listener may not be up yet, or it died).
    async with FakeTelegram(bot_username="hcc_khaosat_bot", webhook_auto_retry=True, webhook_retry_delay=0.5) as fake:
        env = {"SIPAS_TELEGRAM_TOKEN": fake.token, "SIPAS_TELEGRAM_API_URL": fake.base_url.removesuffix("/bot"),
               "SIPAS_TELEGRAM_WEBHOOK_SECRET": "test_Secret-1"}
        code, _, err = await asyncio.to_thread(cli, "centre", "add", "HCC", "Trung tâm Phục vụ hành chính công")
        assert code == 0, err
        code, out, err = await asyncio.to_thread(cli, "invite", "--centre", "hcc", "--survey", "sipas-quick",
                                                 "--format", "json", env=env)
        assert code == 0, err
        [invitation] = json.loads(out)
        chat = 8301
        first = start_serve(fake, tmp_path, settings, env)
        try:
            await fake.wait_for_call("setWebhook", timeout=30)
            fake.user_sends(chat, f"/start {invitation['token']}")
            await fake.wait_for_bot_messages(chat, 2, timeout=15)
            fake.hold("sendMessage")  # from now on the bot's replies never arrive
            fake.user_sends(chat, "5")
            await fake.wait_for(lambda: any(c.held for c in fake.calls_to("sendMessage")), timeout=15,
                                what="the reply to '5' on its way")
            assert await answers_stored(settings) == {"access_1": 5}  # committed before the reply was sent
        finally:
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.communicate, timeout=30)
        fake.release()
        shown = len(fake.bot_messages(chat))
        second = start_serve(fake, tmp_path, settings, env)
        try:
            # Telegram got no 200 for the update of '5': it delivers it again once the new process set its webhook.
            messages = await fake.wait_for_bot_messages(chat, shown + 1, timeout=30)
            assert messages[shown].text.startswith("Câu 2/6."), fake.describe(chat)
            assert await answers_stored(settings) == {"access_1": 5}  # and it was not applied twice
            fake.user_sends(chat, "4")
            answered = await fake.wait_for_bot_messages(chat, shown + 2, timeout=15)
            assert answered[shown + 1].text.startswith("Câu 3/6.")
        finally:
            second.send_signal(signal.SIGINT)
            await asyncio.to_thread(second.communicate, timeout=30)
