"""Benchmark: the dashboard's reports at 1,000,000 responses, from memory (bot.reports.memory), beside a fresh
report (the CLI's code path) and the CLI itself, on the same data in the same run.

    .venv/bin/python bench/dashboard_reports.py                      # 1,000,000 responses, as bench/report.py
    .venv/bin/python bench/dashboard_reports.py --data /tmp/bench1m  # a copy of an existing data dir

The requests a dashboard page sends (each page's server time is its build_report call):

  overview   month by centre for December 2024, --total --compare previous (the league table, the province, change)
  trend      month by centre for 2024, twelve months (a centre's monthly trend: its twelve rows)
  criteria   month by centre for December 2024 (a centre's elements and criteria: its row)

Each repetition runs in its own process (so "cold" is cold) and times, per request:

  fresh      build_report without memory: what `sipas-bot report` does, minus start-up and printing
  cold       a server just started, memory empty: the whole history read, then the periods computed
  warmed     after ReportMemory.warm (the server reads the responses when it starts): the periods computed
  warm       the same request again, nothing written since: from memory
  new        after one new response (submitted 2024-12-31, the usual case on a live server): that day read again
             and December computed again, the other months from memory

and checks that every report from memory is the fresh one, byte for byte in JSON. The CLI (`python -m bot report
--period month --by centre --from 2024-12-01 --to 2024-12-31`) runs end to end in each repetition too. The best
of --repeat counts (the machine is shared; the medians are printed too).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import build, machine

from bot.config import Settings
from bot.services import open_services

ROOT = Path(__file__).resolve().parent.parent
SURVEY = "sipas-2023"
PAGES = {
    "overview": dict(period="month", by="centre", date_from="2024-12-01", date_to="2024-12-31", total=True,
                     compare="previous"),
    "trend": dict(period="month", by="centre", date_from="2024-01-01", date_to="2024-12-31"),
    "criteria": dict(period="month", by="centre", date_from="2024-12-01", date_to="2024-12-31"),
}
STEPS = ("fresh", "cold", "warmed", "warm", "new")
CLI = ["report", "--period", "month", "--by", "centre", "--from", "2024-12-01", "--to", "2024-12-31"]
GOAL_SECONDS = 0.3


async def measure(data: Path) -> dict:
    """One repetition: {step: {page: seconds}}, the warm-up time, and whether memory equalled fresh."""
    from bot.reports.build import build_report
    from bot.reports.memory import ReportMemory
    from bot.reports.render import render_json
    from bot.reports.request import parse_request
    from bot.storage.responses import build_response

    times: dict[str, dict[str, float]] = {step: {} for step in STEPS}
    equal = True
    async with open_services(Settings(data_dir=data, _env_file=None)) as services:
        requests = {page: parse_request(survey=SURVEY, **options) for page, options in PAGES.items()}

        async def timed(step: str, page: str, memory) -> str:
            started = time.perf_counter()
            report = await build_report(services, requests[page], memory)
            times[step][page] = time.perf_counter() - started
            return render_json(report)

        fresh = {page: await timed("fresh", page, None) for page in PAGES}
        for page in PAGES:  # each cold page on its own empty memory
            equal &= await timed("cold", page, ReportMemory()) == fresh[page]
        memory = ReportMemory()
        started = time.perf_counter()
        await memory.warm(services)
        warm_up = time.perf_counter() - started
        for step in ("warmed", "warm"):
            for page in PAGES:
                equal &= await timed(step, page, memory) == fresh[page]
        instrument = services.instrument(SURVEY)
        async with services.db.transaction() as session:
            session.add(build_response(instrument, dict.fromkeys(instrument.criteria(), 4), centre_id=1,
                                       service_id=None, channel="web", submitted_on=dt.date(2024, 12, 31)))
        for page in PAGES:
            kept = await timed("new", page, memory)
            equal &= kept == render_json(await build_report(services, requests[page]))
    return {"times": times, "warm_up": warm_up, "equal": equal, "computed": memory.computed}


def measure_cli(data: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", *CLI], capture_output=True, cwd=ROOT, check=True,
                   env={**os.environ, "SIPAS_DATA_DIR": str(data)})
    return time.perf_counter() - started


def summary(args: argparse.Namespace, runs: list[dict], cli: list[float]) -> str:
    best = {step: {page: min(r["times"][step][page] for r in runs) for page in PAGES} for step in STEPS}
    median = {step: {page: statistics.median(r["times"][step][page] for r in runs) for page in PAGES}
              for step in STEPS}
    lines = [f"machine: {machine()}; date {dt.date.today().isoformat()}; load average at the end "
             f"{os.getloadavg()[0]:.1f} (other jobs share the machine: best of {args.repeat}, medians after /)",
             f"data: {args.label}", "", "| request | " + " | ".join(STEPS) + " | fresh / warm | fresh / new |",
             "|---|" + "---|" * (len(STEPS) + 2)]
    for page in PAGES:
        cells = [f"{best[step][page]:.3f} / {median[step][page]:.3f}" for step in STEPS]
        lines.append(f"| {page} | " + " | ".join(cells) + f" | {best['fresh'][page] / best['warm'][page]:.0f}x | "
                     f"{best['fresh'][page] / best['new'][page]:.1f}x |")
    lines.append(f"\nCLI end to end (`sipas-bot {' '.join(CLI)}`): best {min(cli):.2f} s, median "
                 f"{statistics.median(cli):.2f} s; its report from memory after a new response: "
                 f"{min(cli) / best['new']['criteria']:.0f}x faster, warm {min(cli) / best['warm']['criteria']:.0f}x")
    lines.append(f"warm-up (ReportMemory.warm, the whole history read): best {min(r['warm_up'] for r in runs):.2f} s")
    worst = max(best[step][page] for step in ("warmed", "warm", "new") for page in PAGES)
    lines.append(f"every report from memory equal to the fresh one (JSON): {all(r['equal'] for r in runs)}")
    lines.append(f"goal: every page < {GOAL_SECONDS * 1000:.0f} ms once the server has read the responses "
                 f"(warmed, warm, new; best): {'met' if worst < GOAL_SECONDS else 'MISSED'} (slowest {worst:.3f} s)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses to build (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the best counts")
    parser.add_argument("--data", type=Path, help="copy this data dir (sipas.db, secret.key) instead of building")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # one repetition, printed as JSON
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child))))
        return
    with tempfile.TemporaryDirectory(prefix="sipas-dashboard-") as scratch:
        data = Path(scratch) / "data"
        if args.data:
            shutil.copytree(args.data, data)
            args.label = f"a copy of {args.data}"
        else:
            asyncio.run(_build(data, args.n))
            args.label = f"{args.n:,} responses, 100 centres, 2024 (bench/report.py's data)"
        runs, cli = [], []
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, __file__, "--child", str(data)], capture_output=True, check=True,
                                  cwd=ROOT)
            runs.append(json.loads(done.stdout))
            cli.append(measure_cli(data))
        print(summary(args, runs, cli))


async def _build(data: Path, n: int) -> None:
    async with open_services(Settings(data_dir=data, _env_file=None)) as services:
        await build(services, n, 100, 12)


if __name__ == "__main__":
    main()
