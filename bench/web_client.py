"""The citizens of bench/web.py: browsers without JavaScript that follow the web survey's forms (the idea of
tests/web_browser.py, with regular expressions instead of an HTML parser so the client costs little), and the
servers they talk to, each in its own process (bench/web_server.py).

A citizen opens its invitation link (GET /s/TOKEN), fetches the stylesheet and the script it names (a browser
does once: they are cached for a year), presses Start (POST /s/TOKEN, 303), then for every question GETs /s/q and
POSTs its answer (303) until the thanks page: a rating or choice a seeded random option, the comment a short text.
Every request is timed from sending to the last byte of the body read, without following redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_CHOICE = re.compile(r'<input type="radio" name="choice" id="[^"]*" value="([^"]*)"')
_STATIC = re.compile(r'(?:href|src)="(/s/static/[^"]+)"')
COMMENT = "Cán bộ nhiệt tình, hướng dẫn rõ ràng; nên có thêm chỗ ngồi chờ."
PAGE_KINDS = ("invitation", "start", "question", "answer", "end")
MAX_PAGES = 200


@dataclass
class Exchange:
    """One request and its response as it crossed the wire (the body as sent: not decompressed)."""

    kind: str
    method: str
    path: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float
    request_headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Browser:
    """One citizen's browser: its own cookie jar, keep-alive connection and client address."""

    def __init__(self, base: str, address: str, *, keep: bool = False) -> None:
        self.address, self.keep = address, keep
        self.session = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             auto_decompress=False)
        self.exchanges: list[Exchange] = []  # every one with ``keep``; else only their kinds and times
        self.timings: list[tuple[str, float]] = []

    async def request(self, method: str, path: str, data: dict | None = None, kind: str = "") -> Exchange:
        headers = {"X-Forwarded-For": self.address}  # the server trusts 127.0.0.1 as its proxy
        started = time.perf_counter()
        async with self.session.request(method, path, data=data, headers=headers, allow_redirects=False) as r:
            body = await r.read()
        seconds = time.perf_counter() - started
        exchange = Exchange(kind, method, path, r.status, r.reason or "",
                            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in r.raw_headers], body, seconds,
                            dict(r.request_info.headers) if self.keep else {})
        if method == "GET" and path == "/s/q":
            exchange.kind = "question" if 'name="q"' in exchange.text else "end"
        self.timings.append((exchange.kind, seconds))
        if self.keep:
            self.exchanges.append(exchange)
        return exchange

    async def close(self) -> None:
        await self.session.close()


def expect(exchange: Exchange, status: int, location: str | None = None) -> None:
    if exchange.status != status or (location and exchange.header("Location") != location):
        raise RuntimeError(f"{exchange.method} {exchange.path}: {exchange.status} (expected {status}"
                           f"{' to ' + location if location else ''}): {exchange.body[:300]!r}")


def answer_of(html: str, rng: random.Random) -> dict[str, str]:
    """The fields a citizen posts for the question page ``html``: its first form's hidden fields and an answer."""
    form = html.split("</form>", 1)[0]
    fields = dict(_HIDDEN.findall(form))
    fields["do"] = "answer"
    if "<textarea" in form:
        fields["text"] = COMMENT
    else:
        options = [v for v in _CHOICE.findall(form) if v != "NA"]
        if not options:
            raise RuntimeError(f"a question page without options: {html[:300]!r}")
        fields["choice"] = rng.choice(options)
    return fields


async def complete_survey(browser: Browser, token: str, rng: random.Random) -> int:
    """One survey from the invitation link to the thanks page; returns the number of questions answered."""
    first = await browser.request("GET", f"/s/{token}", kind="invitation")
    expect(first, 200)
    for path in dict.fromkeys(_STATIC.findall(first.text)):
        expect(await browser.request("GET", path.replace("&amp;", "&"), kind="static"), 200)
    expect(await browser.request("POST", f"/s/{token}", {**dict(_HIDDEN.findall(first.text)), "lang": "vi"},
                                 kind="start"), 303, "/s/q")
    for answered in range(MAX_PAGES):
        page = await browser.request("GET", "/s/q")
        expect(page, 200)
        if page.kind == "end":
            if "Xin cảm ơn" not in page.text:
                raise RuntimeError(f"the last page is not the thanks: {page.text[:300]!r}")
            return answered
        expect(await browser.request("POST", "/s/q", answer_of(page.text, rng), kind="answer"), 303, "/s/q")
    raise RuntimeError(f"no end after {MAX_PAGES} questions")


@dataclass
class Run:
    surveys: int
    completed: int
    errors: list[str]
    timings: dict[str, list[float]]
    seconds: float
    cpu_seconds: float


async def drive(base: str, tokens: list[str], clients: int, seed: int) -> Run:
    """Complete one survey per token with ``clients`` browsers at once, each a new browser (a closed loop: the next
    citizen starts as soon as one finishes)."""
    queue = list(enumerate(tokens))
    queue.reverse()
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    completed = 0

    async def worker() -> None:
        nonlocal completed
        while queue:
            number, token = queue.pop()
            browser = Browser(base, next(_ADDRESSES))
            try:
                await complete_survey(browser, token, random.Random(seed * 1_000_003 + number))
                completed += 1
            except (RuntimeError, aiohttp.ClientError) as error:
                errors.append(f"citizen {number}: {error}"[:400])
            finally:
                await browser.close()
                for kind, seconds in browser.timings:
                    timings.setdefault(kind, []).append(seconds)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return Run(len(tokens), completed, errors, timings, time.perf_counter() - wall, time.process_time() - cpu)


# A client address of its own per citizen in the whole run (sent as X-Forwarded-For), so the per-address limit of
# 60 posts a minute (adapters/web/visitors.py) never counts two citizens together.
_ADDRESSES = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 255), range(256), range(1, 255)))


class Server:
    """A bench/web_server.py process: its page port and its control port."""

    def __init__(self, process: asyncio.subprocess.Process, port: int, control: int, log: Path) -> None:
        self.process, self.log = process, log
        self.base = f"http://127.0.0.1:{port}"
        self.control = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{control}")

    @classmethod
    async def start(cls, system: str, data: Path, argument: str, log: Path) -> Server:
        data.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.web_server", system, str(data), argument, cwd=ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=errors)
        line = await asyncio.wait_for(process.stdout.readline(), 120)
        if not line:
            await process.wait()
            raise RuntimeError(f"the {system} server did not start:\n{log.read_text()[-2000:]}")
        ports = json.loads(line)
        return cls(process, ports["port"], ports["control"], log)

    async def call(self, action: str, **query) -> dict | list:
        method = "GET" if action == "stats" else "POST"
        async with self.control.request(method, f"/{action}", params={k: str(v) for k, v in query.items()}) as r:
            r.raise_for_status()
            return await r.json()

    async def stop(self) -> None:
        with contextlib.suppress(aiohttp.ClientError):  # it may be gone already
            await self.call("quit")
        await self.control.close()
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()  # our own child, by its handle
            await self.process.wait()
