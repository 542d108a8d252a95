"""The issue's acceptance path with real processes: `make run` (`sipas-bot serve --demo`) prints a link, a citizen
opens it and completes the survey over HTTP, and `sipas-bot report` shows the response with channel web."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys

import aiohttp
from conftest import database_env
from test_telegram_serve import free_port
from web_browser import Form, Page, _Forms


async def fetch(session: aiohttp.ClientSession, method: str, url: str, data=None) -> Page:
    async with session.request(method, url, data=data) as response:
        return Page(response.status, response.url.path, await response.text(), dict(response.headers))


def forms(page: Page) -> list[Form]:
    parser = _Forms()
    parser.feed(page.html)
    parser.close()
    return parser.forms


async def test_make_run_prints_a_link_that_a_citizen_completes_and_the_report_shows(cli, tmp_path, settings):
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--demo"], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, **database_env(settings), "SIPAS_DATA_DIR": str(tmp_path / "data"),
                                     "SIPAS_PORT": str(port), "SIPAS_DEFAULT_SURVEY": "sipas-quick"})
    lines = []
    try:
        while not any("/c/DEMO" in line for line in lines):
            line = (await asyncio.to_thread(serve.stdout.readline)).decode()
            assert line, serve.stderr.read().decode()
            lines.append(line)
        link = re.search(r"(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{32})", "".join(lines)).group(1)
        while "serving on" not in line:
            line = (await asyncio.to_thread(serve.stdout.readline)).decode()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            for _ in range(50):  # the server listens a moment after it says so
                try:
                    page = await fetch(session, "GET", link)
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert page.status == 200 and "Trung tâm Phục vụ hành chính công (thử nghiệm)" in page.html
            base = link.split("/s/")[0]
            page = await fetch(session, "POST", link, {**forms(page)[0].hidden, "lang": "vi"})
            for _ in range(5):
                assert "Câu" in page.html, page.html
                page = await fetch(session, "POST", base + "/s/q", {**forms(page)[0].hidden, "do": "answer",
                                                                    "choice": "5"})
            page = await fetch(session, "POST", base + "/s/q", {**forms(page)[0].hidden, "do": "answer",
                                                                "text": "Rất tốt"})
            assert "Xin cảm ơn Ông/Bà!" in page.html
            assert (await fetch(session, "GET", base + "/c/DEMO")).status == 200  # the open-survey link works too
    finally:
        serve.send_signal(signal.SIGINT)
        out, err = await asyncio.to_thread(serve.communicate, timeout=30)
    assert serve.returncode == 0, err.decode()
    code, out, err = cli("report", "--survey", "sipas-quick", "--min-n", "1", "--by", "centre,channel",
                         "--format", "json")
    assert code == 0, err
    [row] = json.loads(out)["rows"]
    assert (row["centre"], row["channel"], row["n"]) == ("DEMO", "web", 1)
