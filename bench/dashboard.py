"""Benchmark: how long each dashboard page takes on a database that bench/report.py made.

    .venv/bin/python bench/report.py --n 20000 --centres 8 --months 6 --repeat 1 --import-rows 1000 --data /tmp/dashdemo
    .venv/bin/python bench/dashboard.py --data /tmp/dashdemo

Runs the real app (`create_app`) in this process on a loopback port, logs in with a one-time link for a fresh admin
key (revoked at the end), and fetches each page --repeat times: the overview for the latest month, quarter and year,
the first centre's page for the latest month and year, and the two exports. Prints the best and the median time per
page (request to last byte; the server's own time is what the page's footer says, within a millisecond of it).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.survey.api_keys import revoke_key
from bot.survey.login_links import new_key_link


async def run(data: Path, repeat: int) -> list[tuple[str, float, float, float]]:
    started = time.perf_counter()
    app = create_app(Settings(data_dir=data, _env_file=None), warm_pages=True)  # as `sipas-bot serve` starts
    async with TestClient(TestServer(app)) as client:
        services = client.app[SERVICES]
        while not services.reports.warmed:  # the responses read and the usual pages computed, in the background
            await asyncio.sleep(0.05)
        print(f"start: the responses in memory and the usual pages computed in {time.perf_counter() - started:.1f} s")
        async with services.db.transaction() as session:
            key_id, token = await new_key_link(session, "admin", None, "bench")
        form = await (await client.get(f"/dashboard/login/{token}")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        await client.post(f"/dashboard/login/{token}", data={"csrf": csrf})
        overview = await (await client.get("/dashboard")).text()
        centre = re.search(r'<tr data-centre="([^"]+)"', overview).group(1)
        pages = {"overview, month": "/dashboard", "overview, quarter": "/dashboard?period=quarter",
                 "overview, year": "/dashboard?period=year", f"centre {centre}, month": f"/dashboard/centre/{centre}",
                 f"centre {centre}, year": f"/dashboard/centre/{centre}?period=year",
                 "export CSV": "/dashboard/export.csv", "export XLSX": "/dashboard/export.xlsx"}
        results = []
        for name, path in pages.items():
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                answer = await client.get(path)
                await answer.read()
                assert answer.status == 200, (path, answer.status)
                times.append(1000 * (time.perf_counter() - started))
            results.append((name, times[0], min(times), statistics.median(times)))
        async with services.db.transaction() as session:
            await revoke_key(session, key_id)
        return results


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a data dir made by bench/report.py --data")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args(args)
    results = asyncio.run(run(options.data, options.repeat))
    # first: the page's first fetch in this process (its reports and the centre's answers computed, the responses
    # already in memory); best and median over the --repeat fetches, the first included.
    print(f"{'page':<24} {'first ms':>9} {'best ms':>8} {'median ms':>10}")
    for name, first, best, median in results:
        print(f"{name:<24} {first:>9.0f} {best:>8.0f} {median:>10.0f}")


if __name__ == "__main__":
    main()
