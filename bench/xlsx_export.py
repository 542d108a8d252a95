"""The XLSX report of a month of every centre: its parts timed, with openpyxl writing through lxml and through its own
XML writer, side by side in one run (each variant in its own process, alternating, since openpyxl picks its writer
at import).

    .venv/bin/python bench/report.py --repeat 1 --data /tmp/bench1m      # the data, once
    .venv/bin/python bench/xlsx_export.py --data /tmp/bench1m --repeat 3

Results: docs/benchmarks.md ("The XLSX export, again").
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


async def _measure(data: Path, month: str) -> dict[str, float]:
    from openpyxl.xml import LXML

    from bot.config import Settings
    from bot.http.api.reports import _xlsx_bytes
    from bot.reports.build import build_report
    from bot.reports.chart import draw_chart
    from bot.reports.request import parse_request
    from bot.services import open_services

    async with open_services(Settings(data_dir=data, _env_file=None)) as services:
        first, last = f"{month}-01", f"{month}-31"
        request = parse_request(by="centre", period="month", compare="previous", total=True, date_from=first,
                                date_to=last)
        report = await build_report(services, request)
    _xlsx_bytes(report)  # imports and fonts loaded
    started = time.perf_counter()
    size = len(_xlsx_bytes(report))
    whole = time.perf_counter() - started
    started = time.perf_counter()
    draw_chart(report, io.BytesIO())
    chart = time.perf_counter() - started
    return {"lxml": LXML, "rows": len(report.rows), "bytes": size, "workbook_s": whole, "chart_s": chart}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data dir made by bench/report.py --data")
    parser.add_argument("--month", default="2024-12", help="the month reported (YYYY-MM; the bench data ends there)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant, alternating")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child process: one measurement
    options = parser.parse_args()
    if options.one:
        print(json.dumps(asyncio.run(_measure(options.data, options.month))))
        return
    runs: dict[str, list[dict]] = {"lxml": [], "openpyxl's own writer": []}
    for _ in range(options.repeat):
        for name, flag in (("lxml", "True"), ("openpyxl's own writer", "False")):
            child = subprocess.run([sys.executable, __file__, "--one", "--data", str(options.data), "--month",
                                    options.month], env={**os.environ, "OPENPYXL_LXML": flag}, check=True,
                                   capture_output=True, text=True)
            runs[name].append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(f"{runs['lxml'][0]['rows']} rows, {runs['lxml'][0]['bytes']:,} bytes")
    print(f"{'writer':<24}{'workbook s (median)':>20}{'of it the chart s':>19}{'writing the rest s':>20}")
    medians = {}
    for name, found in runs.items():
        whole = statistics.median(run["workbook_s"] for run in found)
        chart = statistics.median(run["chart_s"] for run in found)
        medians[name] = whole - chart
        print(f"{name:<24}{whole:>20.2f}{chart:>19.2f}{whole - chart:>20.2f}")
    print(f"the rest, own writer / lxml: {medians[next(reversed(medians))] / medians['lxml']:.2f}x")


if __name__ == "__main__":
    main()
