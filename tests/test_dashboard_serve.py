"""`make run` (`sipas-bot serve --demo`) as a real process on the embedded default: the first run prints a one-time
login link for a generated admin key, and the link logs a browser into the dashboard; the next run makes no second
key."""

import asyncio
import os
import re
import signal
import subprocess
import sys

import aiohttp
from conftest import database_env
from dashboard_world import csrf_of
from test_telegram_serve import free_port


async def served_lines(settings, tmp_path, port: int) -> tuple[subprocess.Popen, list[str]]:
    """Start `serve --demo` and read what it prints until it says it serves."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--demo"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **database_env(settings), "SIPAS_DATA_DIR": str(tmp_path / "data"),
             "SIPAS_PORT": str(port), "SIPAS_ADMIN_LANGUAGE": "vi"})
    lines: list[str] = []
    while not any("serving on" in line for line in lines):
        line = (await asyncio.to_thread(serve.stdout.readline)).decode()
        assert line, serve.stderr.read().decode()
        lines.append(line)
    return serve, lines


async def listening(port: int) -> None:
    """Wait until the server answers (it listens a moment after it says so; stopped before, it exits with 1)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz"):
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)


async def stop(serve: subprocess.Popen) -> None:
    serve.send_signal(signal.SIGINT)
    _, err = await asyncio.to_thread(serve.communicate, timeout=30)  # reads and closes its pipes
    assert serve.returncode == 0, err.decode()


async def test_make_run_prints_a_login_link_that_gets_a_new_user_into_the_dashboard(settings, tmp_path, cli):
    port = free_port()
    serve, lines = await served_lines(settings, tmp_path, port)
    try:
        printed = "".join(lines)
        assert "Đã tạo khóa quản trị số 1 cho bảng điều khiển" in printed
        link = re.search(rf"(http://127\.0\.0\.1:{port}/dashboard/login/[A-Za-z0-9_-]{{43}})", printed).group(1)
        await listening(port)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(link) as page:
                html = await page.text()
            async with session.post(link, data={"csrf": csrf_of(html)}) as answer:
                assert answer.status == 200 and answer.url.path == "/dashboard"
                assert "Xếp hạng trung tâm" in await answer.text()
    finally:
        await stop(serve)
    port = free_port()
    serve, lines = await served_lines(settings, tmp_path, port)  # the second run: the key exists now
    await listening(port)
    await stop(serve)
    assert "/dashboard/login/" not in "".join(lines) and "admin login-link --role admin" in "".join(lines)
    code, out, _ = cli("apikey", "list")
    assert code == 0 and len([line for line in out.splitlines() if " admin " in line]) == 1
