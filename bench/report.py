"""Benchmark: `sipas-bot report --period month --by centre` against the cost of reading the answers at all.

    .venv/bin/python bench/report.py                 # 1,000,000 responses, 100 centres, 12 months
    .venv/bin/python bench/report.py --n 2000 --repeat 1

Builds a fresh SQLite database with the project's migrations (`open_services` on a temporary data dir), inserts the
responses with executemany of pre-packed rows, then times each measurement in its own child process (so each
peak RSS is its own; the best of --repeat runs counts, the database file is warm in the page cache):

  floor-ratings     SELECT ratings FROM responses NOT INDEXED WHERE instrument = ?: every stored answer of the
                    survey (the 16-byte packed ratings of each response), fetched in chunks of 100,000 rows
  floor-planner     the same query without NOT INDEXED: SQLite's own plan walks the (instrument, day) index
  floor-keys        floor-ratings plus centre_id and submitted_on, the keys a by-centre, by-month report needs
  report-read       bot.reports.dataset.load_arrays as the report calls it (ratings, day, centre id; chunked blobs)
  load-ratings      bot.reports.dataset.load_ratings, the DataFrame API (all keys as codes, ratings as floats)
  report            bot.reports.build.build_report(period=month, by=centre, min_n=30) + the terminal table: the CLI's
                    code path minus printing (reads responses and invitations, scores with intervals)
  cli               `python -m bot report --period month --by centre` end to end (process start, imports, output)

The floors read through the same driver connection as the report (aiosqlite under SQLAlchemy). Also times the
import of --import-rows rows through bot.paper.importer.import_file.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.services import Services, open_services
from bot.storage.models import Centre, Service

ROOT = Path(__file__).resolve().parent.parent

SURVEY = "sipas-2023"
CHANNELS = np.array(["telegram", "zalo", "web", "import"], dtype=object)
SERVICES = 20
CHUNK = 100_000
PHASES = ("floor-ratings", "floor-planner", "floor-keys", "report-read", "load-ratings", "report", "cli")
IMPORT_PHASE = "import"
INSERT_RESPONSE = ("INSERT INTO responses (id, centre_id, service_id, instrument, instrument_version, channel, "
                   "submitted_on, ratings, answers, comment) VALUES (?,?,?,?,?,?,?,?,?,NULL)")
INSERT_INVITATION = ("INSERT INTO invitations (token_hash, code_hash, centre_id, instrument, status, created_at, "
                     "expires_at, opened, started, completed_on) VALUES (?,?,?,?,?,?,?,?,?,?)")
FLOORS = {"floor-ratings": "SELECT ratings FROM responses NOT INDEXED WHERE instrument = ?",
          "floor-planner": "SELECT ratings FROM responses WHERE instrument = ?",
          "floor-keys": "SELECT centre_id, submitted_on, ratings FROM responses NOT INDEXED WHERE instrument = ?"}
GOAL_FLOORS = ("floor-ratings", "floor-keys")


def ratings(rng: np.random.Generator, quality: np.ndarray, width: int, feedback: list[int]) -> np.ndarray:
    """Packed bytes: satisfied (4-5) with the centre's probability give or take a person effect, else 3, 2 or 1;
    5% of answers skipped (255) on every item, 10% "not applicable" (0) on the feedback items."""
    p = np.clip(quality[:, None] + rng.normal(0.0, 0.08, (len(quality), 1)), 0.02, 0.99)
    u = rng.random((len(quality), width))
    rest = np.digitize((u - p) / (1.0 - p), [0.6, 0.85])  # 0, 1, 2 -> 3, 2, 1
    values = np.where(u < p, np.where(u < p / 2, 5, 4), 3 - rest).astype(np.uint8)
    values[:, feedback] = np.where(rng.random((len(quality), len(feedback))) < 0.10, 0, values[:, feedback])
    values[rng.random(values.shape) < 0.05] = 255
    return values


async def build(services: Services, n: int, centres: int, months: int, seed: int = 2024) -> None:
    rng = np.random.default_rng(seed)
    instrument = services.instrument(SURVEY)
    codes = list(instrument.criteria())
    feedback = [i for i, code in enumerate(codes) if code.startswith("feedback_")]
    async with services.db.transaction() as session:
        session.add_all([Centre(code=f"TT{i:03d}", name=f"Trung tâm Phục vụ hành chính công xã số {i}")
                         for i in range(1, centres + 1)])
        session.add_all([Service(code=f"DV{i:02d}", name=f"Thủ tục số {i}") for i in range(1, SERVICES + 1)])
    weights = rng.lognormal(0.0, 0.6, centres)  # sizes vary; the last two centres are tiny (suppressed months)
    weights[-2:] = weights.mean() * 0.02
    weights /= weights.sum()
    quality = rng.uniform(0.70, 0.93, centres)
    start = dt.date(2024, 1, 1)
    days = (dt.date(start.year + months // 12, months % 12 + 1, 1) - start).days
    day_text = np.array([(start + dt.timedelta(d)).isoformat() for d in range(days)], dtype=object)
    answers = np.array([json.dumps({"submission_mode": m, "harassment": 1}) for m in (1, 2, 3)], dtype=object)
    for done in range(0, n, CHUNK):
        size = min(CHUNK, n - done)
        centre = rng.choice(centres, size, p=weights)
        service = rng.integers(1, SERVICES + 1, size).astype(object)
        service[rng.random(size) < 0.1] = None
        blob = ratings(rng, quality[centre], len(codes), feedback).tobytes()
        ids, width = os.urandom(16 * size).hex(), len(codes)
        rows = list(zip((ids[32 * i:32 * i + 32] for i in range(size)), (centre + 1).tolist(), service.tolist(),
                        [SURVEY] * size, [instrument.version] * size,
                        rng.choice(CHANNELS, size, p=[0.5, 0.35, 0.1, 0.05]).tolist(),
                        day_text[rng.integers(0, days, size)].tolist(),
                        (blob[width * i:width * (i + 1)] for i in range(size)),
                        answers[rng.integers(0, 3, size)].tolist(), strict=True))
        async with services.db.transaction() as session:
            await (await session.connection()).exec_driver_sql(INSERT_RESPONSE, rows)
    await invitations(services, rng, n // 5, weights, days, start)


async def invitations(services: Services, rng: np.random.Generator, count: int, weights: np.ndarray, days: int,
                      start: dt.date) -> None:
    """One invitation for every five responses: 70% opened, 55% started, 45% completed."""
    fmt = "%Y-%m-%d %H:%M:%S.000000"
    base = dt.datetime(start.year, start.month, start.day, 1, 0)
    for done in range(0, count, CHUNK):
        size = min(CHUNK, count - done)
        stage, hashes = rng.random(size), os.urandom(64 * size).hex()
        centre = rng.choice(len(weights), size, p=weights) + 1
        created = rng.integers(0, days * 600, size)
        rows = []
        for i in range(size):
            at = base + dt.timedelta(days=int(created[i]) // 600, minutes=int(created[i]) % 600)
            later = (at + dt.timedelta(hours=1)).strftime(fmt)
            status = next(s for limit, s in ((0.45, "completed"), (0.55, "started"), (0.7, "opened"), (2, "issued"))
                          if stage[i] < limit)
            rows.append((hashes[128 * i:128 * i + 64], hashes[128 * i + 64:128 * (i + 1)], int(centre[i]), SURVEY,
                         status, at.strftime(fmt), (at + dt.timedelta(days=30)).strftime(fmt),
                         bool(stage[i] < 0.7), bool(stage[i] < 0.55), later[:10] if stage[i] < 0.45 else None))
        async with services.db.transaction() as session:
            await (await session.connection()).exec_driver_sql(INSERT_INVITATION, rows)


async def measure(phase: str, data: Path) -> dict:
    """One timed phase in this process: seconds, rows and peak RSS."""
    from bot.reports.build import build_report
    from bot.reports.dataset import load_arrays, load_ratings
    from bot.reports.render import render_table
    from bot.reports.request import ReportRequest

    async with open_services(Settings(data_dir=data, _env_file=None)) as services:
        instrument = services.instrument(SURVEY)
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        if phase in FLOORS:
            async with services.db.reading() as session:
                driver = (await (await session.connection()).get_raw_connection()).driver_connection
                cursor = await driver.execute(FLOORS[phase], (SURVEY,))
                chunks = []
                while chunk := await cursor.fetchmany(CHUNK):
                    chunks.append(b"".join([row[-1] for row in chunk]) if phase != "floor-keys" else chunk)
                rows = sum(len(c) // len(instrument.criteria()) if isinstance(c, bytes) else len(c) for c in chunks)
        elif phase == "report-read":
            async with services.db.reading() as session:
                rows = len(await load_arrays(session, instrument, service=False, channel=False))
        elif phase == "load-ratings":
            async with services.db.reading() as session:
                rows = len(await load_ratings(session, instrument))
        else:
            report = await build_report(services, ReportRequest(survey=SURVEY, period="month", by=("centre",)))
            rows = len(render_table(report).splitlines())
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"phase": phase, "seconds": seconds, "rows": rows, "peak_rss_mb": peak, "baseline_rss_mb": baseline}


def measure_cli(data: Path) -> dict:
    """The CLI as a grandchild, so that this child's RUSAGE_CHILDREN is the CLI's peak RSS alone."""
    command = [sys.executable, "-m", "bot", "report", "--period", "month", "--by", "centre"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, cwd=ROOT, check=True,
                          env={**os.environ, "SIPAS_DATA_DIR": str(data)})
    return {"phase": "cli", "seconds": time.perf_counter() - started, "rows": done.stdout.count(b"\n"),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def run_phase(phase: str, data: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--phase", phase, "--data", str(data)], capture_output=True,
                          check=True, cwd=ROOT)
    return json.loads(done.stdout)


def paper_csv(instrument, rows: int, path: Path, seed: int = 7) -> None:
    """A paper-form file in the importer's wide format: the same answer mix as the database, 10% comments."""
    import pandas as pd

    from bot.paper.checks import wide_columns

    rng = np.random.default_rng(seed)
    codes = list(instrument.criteria())
    feedback = [i for i, code in enumerate(codes) if code.startswith("feedback_")]
    packed = ratings(rng, rng.uniform(0.7, 0.93, rows), len(codes), feedback)
    text = np.array(["NA", "1", "2", "3", "4", "5"] + [""] * 250, dtype=object)
    columns = {"centre": [f"TT{c:03d}" for c in rng.integers(1, 101, rows)],
               "service": np.where(rng.random(rows) < 0.1, "", [f"DV{s:02d}" for s in rng.integers(1, 21, rows)]),
               "submitted_on": [(dt.date(2024, 1, 1) + dt.timedelta(int(d))).isoformat()
                                for d in rng.integers(0, 366, rows)]}
    for column in wide_columns(instrument)[3:]:
        if column in codes:
            columns[column] = text[packed[:, codes.index(column)]]
        elif column == "comment":
            columns[column] = np.where(rng.random(rows) < 0.1, "Cán bộ hướng dẫn tận tình, chu đáo.", "")
        elif instrument.question(column).type == "choice" and not column.startswith("expect_"):
            columns[column] = rng.integers(1, 4, rows) if column == "submission_mode" else np.ones(rows, int)
        else:
            columns[column] = ""  # the optional expectation section was not asked
    pd.DataFrame(columns).to_csv(path, index=False)


async def measure_import(data: Path, rows: int) -> dict:
    from bot.paper import importer

    async with open_services(Settings(data_dir=data, _env_file=None)) as services:
        await build(services, 0, 100, 12)
        instrument = services.instrument(SURVEY)
        path = data / "paper.csv"
        paper_csv(instrument, rows, path)
        started = time.perf_counter()
        result = await importer.import_file(services, path, instrument, skip_invalid=False)
        seconds = time.perf_counter() - started
    return {"phase": IMPORT_PHASE, "seconds": seconds, "rows": result.imported,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def time_import(scratch: Path, rows: int) -> str:
    data = scratch / "import"
    done = subprocess.run([sys.executable, __file__, "--phase", IMPORT_PHASE, "--data", str(data),
                           "--import-rows", str(rows)], capture_output=True, check=True, cwd=ROOT)
    result = json.loads(done.stdout)
    return (f"import: {result['rows']:,} rows (CSV, wide format) through bot.paper.importer.import_file in "
            f"{result['seconds']:.2f} s ({result['rows'] / result['seconds']:,.0f} rows/s), "
            f"peak RSS {result['peak_rss_mb']:.0f} MB")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return f"{os.cpu_count()} CPUs ({model}), {int(memory) / 1024 / 1024:.1f} GiB RAM"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="responses (default 1,000,000)")
    parser.add_argument("--centres", type=int, default=100)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--data", type=Path, help="use (and keep) this data dir; built only if empty")
    parser.add_argument("--phase", choices=[*PHASES, IMPORT_PHASE], help=argparse.SUPPRESS)  # one child's work
    args = parser.parse_args()
    if args.phase:  # a child: one measurement, printed as JSON
        if args.phase == "cli":
            print(json.dumps(measure_cli(args.data)))
        else:
            work = measure_import(args.data, args.import_rows) if args.phase == IMPORT_PHASE else \
                measure(args.phase, args.data)
            print(json.dumps(asyncio.run(work)))
        return
    with tempfile.TemporaryDirectory(prefix="sipas-bench-") as scratch:
        data = args.data or Path(scratch) / "data"
        if not (data / "sipas.db").exists():
            started = time.perf_counter()
            asyncio.run(_build(data, args))
            print(f"built {args.n:,} responses in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results: dict[str, list[dict]] = {phase: [] for phase in PHASES}
        for _ in range(args.repeat):  # interleaved, so a busy moment on the machine hits every measurement alike
            for phase in PHASES:
                results[phase].append(run_phase(phase, data))
        print(summary(args, results, time_import(Path(scratch), args.import_rows)))


async def _build(data: Path, args: argparse.Namespace) -> None:
    async with open_services(Settings(data_dir=data, _env_file=None)) as services:
        await build(services, args.n, args.centres, args.months)


def summary(args: argparse.Namespace, results: dict[str, list[dict]], import_line: str) -> str:
    best = {phase: min(runs, key=lambda r: r["seconds"]) for phase, runs in results.items()}
    lines = [f"machine: {machine()}; date {dt.date.today().isoformat()}",
             f"data: {args.n:,} responses, {args.centres} centres, {args.months} months, {SURVEY}; "
             f"best of {args.repeat}",
             "", "| measurement | best s | median s | rows | peak RSS MB |", "|---|---|---|---|---|"]
    for phase, runs in results.items():
        lines.append(f"| {phase} | {best[phase]['seconds']:.2f} | "
                     f"{statistics.median(r['seconds'] for r in runs):.2f} | {best[phase]['rows']:,} | "
                     f"{max(r['peak_rss_mb'] for r in runs):.0f} |")
    report, peak = best["report"]["seconds"], max(r["peak_rss_mb"] for r in results["report"])
    median = {phase: statistics.median(r["seconds"] for r in runs) for phase, runs in results.items()}
    for floor in GOAL_FLOORS:
        lines.append(f"\nreport / {floor}: {report / best[floor]['seconds']:.2f}x best to best, "
                     f"{median['report'] / median[floor]:.2f}x median to median")
    goals = {f"<= 2x {floor}": report <= 2 * best[floor]["seconds"] for floor in GOAL_FLOORS}
    goals.update({"< 10 s": report < 10, "peak RSS < 2 GB": peak < 2048})
    lines.append("\ngoals: " + "; ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in goals.items()))
    lines.append(import_line)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
