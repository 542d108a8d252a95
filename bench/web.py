"""Benchmark: the web survey's pages on a real TCP server with SQLite, against a bare aiohttp floor.

    .venv/bin/python bench/web.py                         # 1 client x 40 surveys, 20 clients x 200, twice; the bar
    .venv/bin/python bench/web.py --repeat 3 --profile --out /tmp/web.json
    .venv/bin/python bench/web.py --quick                 # a few seconds: 1 x 2 and 3 x 3 surveys, once
    .venv/bin/python bench/web.py --inline-reads          # and the what-if: our reads on the event loop

Two server processes (bench/web_server.py), both aiohttp AppRunner + TCPSite on 127.0.0.1, and the citizens here,
in this process, with an aiohttp client each (bench/web_client.py):

  ours   `bot.http.app.create_app` on a fresh SQLite data dir, logging as `sipas-bot serve` does, one centre and
         the invitations of each phase issued through `bot.survey.batches.issue_batch`
  floor  a bare aiohttp app serving the exact bytes and headers of the pages one citizen got from ours (captured
         first, in this run), one page position per browser cookie: routing, the body read, nothing else

Each phase completes sipas-2023 surveys from the invitation link to the thanks page with 1 citizen at a time, then
with --clients at once (a closed loop: capacity), ours and floor alternating; with --repeat N (default 2) every
phase runs N times and the best (least wall time per request) is shown. Per page kind (invitation GET /s/TOKEN,
start POST /s/TOKEN, question GET /s/q, answer POST /s/q with its database transaction and 303, end: the thanks
page) the p50/p95/p99 latency at the client and the handler time inside the server (an outermost middleware), and
per phase the throughput and the server's CPU per request (its event loop thread and its other threads:
aiosqlite's). Nothing is subtracted. --profile adds one profiled run of ours (cProfile of the server's event loop
thread, and the calls handed to aiosqlite's thread per page kind). --inline-reads adds a third server, ours with
`Database.reading()` on the event loop like the writes (bench/web_server.py), to measure that change before making
it; the bar applies to ours only.

Exit status 1 when the bar is missed: the question page over 30,000 bytes over the wire with its stylesheet and
script, an external resource, a page kind's p95 at the client over 20 ms on ours with one citizen at a time in every
run (the machine is shared: a busy moment must not fail the check, a slow page fails every run), a survey not
completed in any run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/ must not shadow packages
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import jinja2  # noqa: E402

from bench.web_client import Browser, Server, complete_survey, drive  # noqa: E402
from bench.web_summary import MAX_P95_MS, MAX_PAGE_BYTES, failures, phase_result, ratios, render_summary  # noqa: E402
from bench.web_weight import weigh  # noqa: E402

QUICK = {"phases": ((1, 2), (3, 3)), "profile_surveys": 2}


def machine() -> dict:
    info = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    memory = Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []
    return {"cpus": os.cpu_count(),
            "cpu_model": next((x.split(":", 1)[1].strip() for x in info if x.startswith("model name")),
                              platform.processor()),
            "memory_mib": next((int(x.split()[1]) // 1024 for x in memory if x.startswith("MemTotal")), None),
            "python": platform.python_version(), "aiohttp": aiohttp.__version__, "jinja2": jinja2.__version__,
            "sqlite": sqlite3.sqlite_version, "load_average_1m": round(os.getloadavg()[0], 2)}


async def capture(ours: Server) -> list:
    """One citizen through ours, every exchange kept (for the floor's pages and the weight)."""
    browser = Browser(ours.base, "10.255.0.1", keep=True)  # outside the citizens' 10.1-254
    try:
        await complete_survey(browser, (await ours.call("issue", count=1))[0], random.Random(0))
    finally:
        await browser.close()
    return browser.exchanges


def floor_pages(exchanges: list) -> dict:
    """What the floor replays: the first page, the 303, every GET /s/q in order, the static files."""
    import base64

    def entry(e) -> dict:
        return {"status": e.status, "headers": e.headers, "body": base64.b64encode(e.body).decode()}

    return {"invitation": entry(next(e for e in exchanges if e.kind == "invitation")),
            "redirect": entry(next(e for e in exchanges if e.kind == "answer")),
            "survey": [entry(e) for e in exchanges if e.kind in ("question", "end")],
            "static": {e.path.split("?")[0].rsplit("/", 1)[1]: entry(e) for e in exchanges if e.kind == "static"}}


def cost(result: dict) -> tuple:
    """Which run of a phase counts: fewer surveys left incomplete, then less wall time per request."""
    return result["surveys"] - result["completed"], result["seconds"] / result["requests"]


def run_line(result: dict) -> dict:
    """What the summary keeps of every run: enough for the spread and for the bar."""
    return {"requests_per_s": result["requests_per_s"], "completed": result["completed"],
            "surveys": result["surveys"], "errors": result["errors"][:1],
            "client_p95_ms": {k: v["p95"] for k, v in result["client_ms"].items()}}


async def run_phase(server: Server, system: str, clients: int, surveys: int, seed: int) -> dict:
    tokens = await server.call("issue", count=surveys)
    await server.call("reset")
    run = await drive(server.base, tokens, clients, seed)
    return phase_result(system, clients, run, await server.call("stats"))


async def run_benchmark(*, phases=((1, 40), (20, 200)), survey: str = "sipas-2023", repeat: int = 2,
                        profile_surveys: int = 0, seed: int = 2024, max_page_bytes: int = MAX_PAGE_BYTES,
                        max_p95_ms: float = MAX_P95_MS, inline_reads: bool = False, progress=None) -> dict:
    """Capture, weigh, run every phase ``repeat`` times (ours and floor alternating, and the inline-reads what-if
    with ``inline_reads``; the best run counts), and with ``profile_surveys`` profile ours; returns the summary
    with its failures against the bar."""
    systems = ("ours", "floor", *(("ours-inline-reads",) if inline_reads else ()))
    runs: dict[tuple, list[dict]] = {}
    profile = None
    with tempfile.TemporaryDirectory(prefix="sipas-bench-web-") as tmp:
        tmp = Path(tmp)
        async with contextlib.AsyncExitStack() as stack:
            ours = await Server.start("ours", tmp / "ours", survey, tmp / "ours.log")
            stack.push_async_callback(ours.stop)
            exchanges = await capture(ours)
            (tmp / "pages.json").write_text(json.dumps(floor_pages(exchanges)))
            floor = await Server.start("floor", tmp / "floor", str(tmp / "pages.json"), tmp / "floor.log")
            stack.push_async_callback(floor.stop)
            servers = {"ours": ours, "floor": floor}
            if inline_reads:
                servers["ours-inline-reads"] = await Server.start("ours-inline-reads", tmp / "inline", survey,
                                                                  tmp / "inline.log")
                stack.push_async_callback(servers["ours-inline-reads"].stop)
                await capture(servers["ours-inline-reads"])  # its first survey, as ours had before its phases
            for number in range(repeat):
                for clients, surveys in phases:
                    for system, server in servers.items():
                        result = await run_phase(server, system, clients, surveys, seed + number)
                        if progress:
                            progress(result)
                        runs.setdefault((system, clients), []).append(result)
            if profile_surveys:
                tokens = await ours.call("issue", count=profile_surveys)
                await ours.call("profile-start")
                profiled = await drive(ours.base, tokens, 1, seed)
                profile = await ours.call("profile-stop")
                profile["completed"], profile["errors"] = profiled.completed, profiled.errors[:3]
            logged = [line for line in (tmp / "ours.log").read_text().splitlines()
                      if " WARNING " in line or " ERROR " in line]
    questions = sum(e.kind == "question" for e in exchanges)
    summary = {"config": {"survey": survey, "questions": questions, "phases": [list(p) for p in phases],
                          "repeat": repeat, "seed": seed, "profile_surveys": profile_surveys,
                          "max_page_bytes": max_page_bytes, "max_p95_ms": max_p95_ms},
               "machine": machine(), "weight": weigh(exchanges),
               "phases": [min(runs[(s, k)], key=cost) for k, _ in phases for s in systems],
               "every_run": {f"{s} x{k}": [run_line(r) for r in runs[(s, k)]] for k, _ in phases for s in systems},
               "server_warnings": logged[:10], "profile": profile}
    summary["ratio"] = ratios(summary["phases"])
    summary["failures"] = failures(summary, max_page_bytes=max_page_bytes, max_p95_ms=max_p95_ms)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--surveys", type=int, default=40, help="surveys completed with 1 client at a time")
    parser.add_argument("--clients", type=int, default=20, help="citizens at once in the concurrent phase")
    parser.add_argument("--concurrent-surveys", type=int, default=200, help="surveys in the concurrent phase")
    parser.add_argument("--survey", default="sipas-2023", help="instrument id")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each phase, alternating; the best counts")
    parser.add_argument("--profile", action="store_true", help="then profile ours over --surveys surveys")
    parser.add_argument("--inline-reads", action="store_true",
                        help="also run ours with its reads on the event loop (a what-if, not the shipped app)")
    parser.add_argument("--quick", action="store_true", help="a few seconds: 1 x 2 and 3 x 3 surveys, one run")
    parser.add_argument("--max-page-bytes", type=int, default=MAX_PAGE_BYTES)
    parser.add_argument("--max-p95-ms", type=float, default=MAX_P95_MS)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")
    args = parser.parse_args(argv)
    phases = QUICK["phases"] if args.quick else ((1, args.surveys), (args.clients, args.concurrent_surveys))
    profile = (QUICK["profile_surveys"] if args.quick else args.surveys) if args.profile else 0

    def progress(p: dict) -> None:
        print(f"  {p['phase']}: {p['requests']} requests in {p['seconds']:.1f} s ({p['requests_per_s']} req/s, "
              f"{p['completed']}/{p['surveys']} completed)", file=sys.stderr, flush=True)

    summary = asyncio.run(run_benchmark(phases=phases, survey=args.survey, repeat=1 if args.quick else args.repeat,
                                        profile_surveys=profile, seed=args.seed, progress=progress,
                                        max_page_bytes=args.max_page_bytes, max_p95_ms=args.max_p95_ms,
                                        inline_reads=args.inline_reads))
    if args.out:
        args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    print(render_summary(summary))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
