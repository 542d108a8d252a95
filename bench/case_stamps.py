"""What a served report by centre reads to know whether its cases figures changed (`bot.reports.memory`):
the per-day case versions and the days with an open case, against reading every case, side by side on one SQLite
file of N cases over a year (most resolved, as a centre that follows up leaves them).

    .venv/bin/python bench/case_stamps.py --cases 100000 --repeat 5

Results: docs/benchmarks.md ("Cases figures of served reports").
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.reports.cases import open_case_days  # noqa: E402
from bot.reports.day_arrays import day_versions  # noqa: E402
from bot.services import open_services  # noqa: E402
from bot.storage.models import CaseDay, FollowUpCase  # noqa: E402
from bot.survey import directory  # noqa: E402

SURVEY = "sipas-2023"
FIRST = dt.date(2024, 1, 1)


async def _fill(services, count: int, open_share: float) -> None:
    chance = random.Random(2026)
    async with services.db.transaction() as session:
        centres = [(await directory.add_centre(session, f"TT{i:03}", f"Trung tâm {i}")).id for i in range(100)]
    for start in range(0, count, 20_000):
        rows = []
        for index in range(start, min(count, start + 20_000)):
            opened = FIRST + dt.timedelta(days=chance.randrange(365))
            resolved = chance.random() >= open_share
            rows.append(dict(id=f"C{index:09}", centre_id=chance.choice(centres), service_id=None, instrument=SURVEY,
                             status="resolved" if resolved else "new", sensitive=False, items=[], comment=None,
                             opened_on=opened, due_on=opened + dt.timedelta(days=7),
                             closed_on=opened + dt.timedelta(days=chance.randrange(12)) if resolved else None,
                             escalation=0, response_id=None))
        async with services.db.transaction() as session:
            await session.execute(insert(FollowUpCase), rows)


async def _every_case(session) -> int:
    # What the stamps read before migration 0015: every case's counted columns.
    found = (await session.execute(select(
        FollowUpCase.id, FollowUpCase.opened_on, FollowUpCase.centre_id, FollowUpCase.status, FollowUpCase.due_on,
        FollowUpCase.closed_on, FollowUpCase.sensitive).where(FollowUpCase.instrument == SURVEY))).all()
    return len(found)


async def _versions_and_open_days(session) -> int:
    # What a served report reads since migration 0015 (bot.reports.memory.ReportMemory.report).
    return len(await day_versions(session, SURVEY, CaseDay)) + len(await open_case_days(session, SURVEY))


async def run(count: int, repeat: int, open_share: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        async with open_services(Settings(data_dir=Path(folder), _env_file=None)) as services:
            await _fill(services, count, open_share)
            times: dict[str, list[float]] = {"every case": [], "versions and open days": []}
            for _ in range(repeat):
                for name, read in (("every case", _every_case),
                                   ("versions and open days", _versions_and_open_days)):
                    async with services.db.reading() as session:
                        started = time.perf_counter()
                        await read(session)
                        times[name].append(time.perf_counter() - started)
    return {name: statistics.median(found) for name, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--open-share", type=float, default=0.02, help="share of cases still open")
    options = parser.parse_args()
    medians = asyncio.run(run(options.cases, options.repeat, options.open_share))
    print(f"{options.cases:,} cases, {options.open_share:.0%} open; median of {options.repeat}:")
    for name, seconds in medians.items():
        print(f"  {name:<24}{seconds * 1000:>9.1f} ms")
    print(f"  ratio: {medians['every case'] / medians['versions and open days']:.0f}x")


if __name__ == "__main__":
    main()
