"""Starting the Telegram channel: a rejected token is one clear line without the token (`serve` exits 1); an
unreachable Bot API is retried in the background while the HTTP service stays up."""

import asyncio
import os
import subprocess
import sys

import pytest
from aiohttp import ClientSession
from fake_telegram import FakeTelegram
from test_telegram_serve import database_env, free_port

WRONG = "999999:WRONG-token_secret"


async def test_serve_with_a_rejected_token_says_so_in_one_line_without_the_token(tmp_path, settings):
    async with FakeTelegram() as fake:
        env = {**os.environ, **database_env(settings), "SIPAS_TELEGRAM_TOKEN": WRONG,
               "SIPAS_TELEGRAM_API_URL": fake.base_url.removesuffix("/bot"), "SIPAS_ADMIN_LANGUAGE": "vi",
               "SIPAS_DATA_DIR": str(tmp_path / "data"), "SIPAS_PORT": str(free_port())}
        serve = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot", "serve"], cwd=tmp_path,
                                        capture_output=True, text=True, env=env, timeout=60)
    assert serve.returncode == 1
    assert "Telegram từ chối bot token (SIPAS_TELEGRAM_TOKEN)" in serve.stderr
    assert "WRONG" not in serve.stdout + serve.stderr and "Traceback" not in serve.stderr


async def test_an_unreachable_bot_api_at_start_is_retried_while_the_service_stays_up(tmp_path, settings):
    api_port, port = free_port(), free_port()
    env = {**os.environ, **database_env(settings), "SIPAS_TELEGRAM_TOKEN": "123456:TEST",
           "SIPAS_TELEGRAM_API_URL": f"http://127.0.0.1:{api_port}", "SIPAS_TELEGRAM_POLL_TIMEOUT": "1",
           "SIPAS_DATA_DIR": str(tmp_path / "data"), "SIPAS_PORT": str(port)}
    serve = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
    try:
        async with ClientSession() as http:
            for _ in range(100):  # the HTTP service answers although Telegram is out of reach
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except OSError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the HTTP service never came up")
        async with FakeTelegram(port=api_port) as fake:  # the Bot API comes back: the bot connects and polls
            await fake.wait_for_call("getUpdates", timeout=20)
    finally:
        serve.terminate()
        await asyncio.to_thread(serve.communicate, timeout=30)
