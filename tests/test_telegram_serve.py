"""The issue's acceptance path, with real processes: `sipas-bot serve` with a bot token (long polling against the
fake Bot API), `sipas-bot invite` printing the t.me link the bot learned, a citizen answering in Telegram, and
`sipas-bot report` showing the response."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys

from conftest import database_env
from fake_telegram import FakeTelegram


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_make_run_with_a_token_then_invite_answer_and_report(cli, tmp_path, settings):
    async with FakeTelegram(bot_username="hcc_khaosat_bot") as fake:
        env = {"SIPAS_TELEGRAM_TOKEN": fake.token, "SIPAS_TELEGRAM_API_URL": fake.base_url.removesuffix("/bot"),
               "SIPAS_TELEGRAM_POLL_TIMEOUT": "1"}

        async def run(*args):  # in a thread: the fake answers the running bot from this event loop
            return await asyncio.to_thread(cli, *args, env=env)

        code, _, err = await run("centre", "add", "HCC", "Trung tâm Phục vụ hành chính công tỉnh")
        assert code == 0, err
        serve = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **env, **database_env(settings), "SIPAS_DATA_DIR": str(tmp_path / "data"),
                 "SIPAS_PORT": str(free_port())})
        try:
            await fake.wait_for_call("getUpdates", timeout=30)  # started, and polling
            code, out, err = await run("invite", "--centre", "hcc", "--survey", "sipas-quick", "--format", "json")
            assert code == 0, err
            [invitation] = json.loads(out)
            assert invitation["links"]["telegram"] == f"https://t.me/hcc_khaosat_bot?start={invitation['token']}"

            chat = 8101
            fake.user_sends(chat, f"/start {invitation['token']}")
            count = 2
            await fake.wait_for_bot_messages(chat, count, timeout=15)
            for typed in ("5", "hài lòng", "4", "rất hài lòng", "không áp dụng", "bỏ qua"):
                fake.user_sends(chat, typed)
                count += 1
                await fake.wait_for_bot_messages(chat, count, timeout=15)
            assert fake.last_message(chat).text.startswith("Cảm ơn Ông/Bà đã hoàn thành khảo sát!")
        finally:
            serve.send_signal(signal.SIGINT)
            out, err = await asyncio.to_thread(serve.communicate, timeout=30)
        assert "Telegram on (long polling)" in out.decode(), err.decode()
        assert serve.returncode == 0, err.decode()

        reports = [await run("report", "--survey", "sipas-quick", "--min-n", "1", "--by", by, "--format", "json")
                   for by in ("centre,channel", "centre")]
    assert [code for code, _, _ in reports] == [0, 0], reports
    [by_channel], [by_centre] = (json.loads(out)["rows"] for _, out, _ in reports)
    assert (by_channel["centre"], by_channel["channel"], by_channel["n"]) == ("HCC", "telegram", 1)
    assert by_channel["criteria"]["access_1"]["satisfied_pct"] == 100.0
    assert by_centre["participation"] == {"issued": 1, "opened": 1, "started": 1, "completed": 1,
                                          "response_rate": 100.0}
