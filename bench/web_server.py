"""The server side of bench/web.py, in a process of its own so the citizens' client never shares its event loop.

    python -m bench.web_server ours DIR SURVEY     the real app (`create_app`) on SQLite in DIR, logging as `serve`
    python -m bench.web_server ours-inline-reads DIR SURVEY    the same, its reads on the event loop (a what-if)
    python -m bench.web_server floor DIR CAPTURE   a bare aiohttp app serving the captured pages' exact bytes

Both listen on 127.0.0.1 (a free port) and print one JSON line, {"port", "control"}; the control port (another
runner, so its requests are never timed) answers POST /issue?count=N (fresh invitation tokens), /reset, GET /stats
(the handler time of every request since the reset, by page kind, and the CPU time of each thread), POST
/profile/start and /profile/stop (cProfile of the event loop thread, summarised) and /quit.

The floor keeps one counter per browser cookie: GET /s/q answers the page of the captured run at that position,
POST /s/q reads the body and moves on, so a citizen sees the same pages in the same order as on the real app.
"""

from __future__ import annotations

import asyncio
import base64
import cProfile
import json
import logging
import os
import secrets
import sys
import time
from collections import defaultdict
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

from bench.web_profile import TRIPS, count_round_trips, summarise_profile

CENTRE = ("HN01", "Trung tâm Phục vụ hành chính công tỉnh Hà Nam")
COOKIE = "sipas_b"  # the real app's cookie (adapters/web/visitors.py), set the same way by the floor
# aiohttp writes these itself; everything else of a captured response is replayed as it was.
OWN_HEADERS = {"date", "server", "content-length", "set-cookie", "transfer-encoding", "connection", "keep-alive"}
ROOT = Path(__file__).resolve().parent.parent


def kind_of(request: web.Request, response: web.StreamResponse) -> str:
    """The page kind of a request, as bench/web.py's client names them."""
    resource = request.match_info.route.resource
    pattern = resource.canonical if resource is not None else request.path
    post = request.method == "POST"
    if pattern == "/s/q":
        if post:
            return "answer"
        return "question" if b'name="q"' in (getattr(response, "body", None) or b"") else "end"
    if pattern == "/s/{token}":
        return "start" if post else "invitation"
    return "static" if pattern.startswith("/s/static") else f"{request.method} {pattern}"


def thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process (Linux; empty elsewhere)."""
    out: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return out


class Timer:
    """Handler time per request (the outermost middleware: routing done, response built, not yet written); while
    profiling, also the calls handed to aiosqlite's thread per request (`count_round_trips`)."""

    def __init__(self) -> None:
        self.counting = False
        self.reset()

    def reset(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.trips: dict[str, list[int]] = defaultdict(list)
        self.cpu, self.threads = time.process_time(), thread_cpu()

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        box = [0] if self.counting else None
        token = TRIPS.set(box)
        started = time.perf_counter()
        try:
            response = await handler(request)
        finally:
            TRIPS.reset(token)
        kind = kind_of(request, response)
        self.times[kind].append(time.perf_counter() - started)
        if box is not None:
            self.trips[kind].append(box[0])
        return response

    def stats(self) -> dict:
        now = thread_cpu()
        loop = now.get(os.getpid(), 0.0) - self.threads.get(os.getpid(), 0.0)
        others = sum(v - self.threads.get(t, 0.0) for t, v in now.items() if t != os.getpid())
        return {"times": self.times, "cpu_s": time.process_time() - self.cpu,
                "loop_thread_cpu_s": loop, "other_threads_cpu_s": others, "threads": len(now)}


async def build_ours(data: Path, survey: str, timer: Timer, *, inline_reads: bool = False
                     ) -> tuple[web.Application, callable, callable]:
    from bot.config import Settings
    from bot.http.app import create_app

    # As `sipas-bot serve` runs (bot.http.app.run_server): INFO logs (an access line per request), redacted.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings(data_dir=data, trusted_proxies="127.0.0.1", _env_file=None)
    app = create_app(settings, log=True)
    app.middlewares.insert(0, timer.middleware)
    if inline_reads:
        app.on_startup.append(_inline_reads)  # after the services are opened (cleanup_ctx starts first)
    centre: list[str] = []

    async def issue(count: int) -> list[str]:
        from bot.http.keys import SERVICES
        from bot.survey import directory
        from bot.survey.batches import issue_batch

        services = app[SERVICES]
        if not centre:
            async with services.db.transaction() as session:
                await directory.add_centre(session, *CENTRE)
            centre.append(CENTRE[0])
        return [i.token for i in (await issue_batch(services, centre_code=CENTRE[0], survey=survey,
                                                    count=count)).issued]

    async def counts() -> dict:
        from sqlalchemy import func, select

        from bot.http.keys import SERVICES
        from bot.storage.models import Invitation, Response

        async with app[SERVICES].db.reading() as session:
            return {"responses": await session.scalar(select(func.count()).select_from(Response)),
                    "completed": await session.scalar(select(func.count()).select_from(Invitation)
                                                      .where(Invitation.status == "completed"))}

    return app, issue, counts


async def _inline_reads(app: web.Application) -> None:
    """What if `Database.reading()` ran on the event loop like the writes (bot/storage/inline_sqlite.py), with a
    deferred BEGIN, instead of through aiosqlite's thread? Not how the app ships: a what-if for bench/web.py."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.http.keys import SERVICES
    from bot.storage.database import _sqlite_engine

    db = app[SERVICES].db
    engine = _sqlite_engine(db.url.render_as_string(hide_password=False), "BEGIN", inline=True)
    db._reader = async_sessionmaker(engine, expire_on_commit=False)

    async def dispose(_app: web.Application) -> None:
        await engine.dispose()

    app.on_cleanup.insert(0, dispose)


def replayed(entry: dict) -> tuple[int, CIMultiDict, bytes]:
    headers = CIMultiDict((k, v) for k, v in entry["headers"] if k.lower() not in OWN_HEADERS)
    return entry["status"], headers, base64.b64decode(entry["body"])


def build_floor(capture: Path, timer: Timer) -> tuple[web.Application, callable, callable]:
    """The floor: the captured pages' bytes and headers, one position per browser, nothing else."""
    pages = json.loads(capture.read_text())
    welcome, redirect = replayed(pages["invitation"]), replayed(pages["redirect"])
    survey = [replayed(p) for p in pages["survey"]]
    static = {name: replayed(p) for name, p in pages["static"].items()}
    position: dict[str, int] = {}

    def respond(status_headers_body, browser: str | None = None) -> web.Response:
        status, headers, body = status_headers_body
        response = web.Response(status=status, body=body or None, headers=headers)
        if browser is not None:
            response.set_cookie(COOKIE, browser, max_age=7 * 86_400, path="/", httponly=True, samesite="Lax")
        return response

    async def invitation(request: web.Request) -> web.Response:
        fresh = None if request.cookies.get(COOKIE) else secrets.token_urlsafe(24)
        return respond(welcome, fresh)

    async def start(request: web.Request) -> web.Response:
        await request.read()
        position[request.cookies.get(COOKIE, "")] = 0
        return respond(redirect)

    async def question(request: web.Request) -> web.Response:
        return respond(survey[min(position.get(request.cookies.get(COOKIE, ""), 0), len(survey) - 1)])

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        browser = request.cookies.get(COOKIE, "")
        position[browser] = position.get(browser, 0) + 1
        return respond(redirect)

    async def static_file(request: web.Request) -> web.Response:
        return respond(static[request.match_info["name"]])

    app = web.Application(middlewares=[timer.middleware])
    app.router.add_routes([web.get("/s/q", question), web.post("/s/q", answer),
                           web.get("/s/static/{name}", static_file),
                           web.get("/s/{token}", invitation), web.post("/s/{token}", start)])

    async def issue(count: int) -> list[str]:
        return [secrets.token_urlsafe(24) for _ in range(count)]

    async def counts() -> dict:
        return {}

    return app, issue, counts


async def serve(system: str, data: Path, argument: str) -> None:
    timer = Timer()
    app, issue, counts = (build_floor(Path(argument), timer) if system == "floor" else
                          await build_ours(data, argument, timer, inline_reads=system == "ours-inline-reads"))
    runner = web.AppRunner(app)  # access_log as web.run_app's default
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    done = asyncio.Event()
    profile: dict = {}

    async def control(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action == "issue":
            return web.json_response(await issue(int(request.query["count"])))
        if action == "reset":
            timer.reset()
        elif action == "stats":
            return web.json_response({**timer.stats(), **await counts()})
        elif action == "profile-start":
            timer.reset()
            timer.counting, profile["undo"] = True, count_round_trips()
            profile["p"] = cProfile.Profile()
            profile["p"].enable()
        elif action == "profile-stop":
            profile["p"].disable()
            timer.counting = False
            profile.pop("undo")()
            summary = summarise_profile(profile.pop("p"), sum(map(len, timer.times.values())))
            summary["aiosqlite_calls_per_request"] = {k: round(sum(v) / len(v), 1) for k, v in timer.trips.items()}
            return web.json_response(summary)
        elif action == "quit":
            done.set()
        return web.json_response({})

    control_app = web.Application()
    control_app.router.add_route("*", "/{action}", control)
    control_runner = web.AppRunner(control_app, access_log=None)
    await control_runner.setup()
    await web.TCPSite(control_runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    print(json.dumps({"port": port, "control": control_runner.addresses[0][1]}), flush=True)
    try:
        await done.wait()
    finally:
        await control_runner.cleanup()
        await runner.cleanup()


def main() -> None:
    system, data, argument = sys.argv[1:4]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    asyncio.run(serve(system, Path(data), argument))


if __name__ == "__main__":
    main()
