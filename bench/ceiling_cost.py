"""What the one-sided upper end of the element indices near the ceiling (`surveys.ceiling`) costs a `score` call:
the same table scored with and without it, side by side, in groups of 30 near the ceiling (where most element
intervals take it) and in groups of 30 at SIPAS 80 (where few do).

    .venv/bin/python bench/ceiling_cost.py --groups 20000 --repeat 3

Results: docs/benchmarks.md ("Element intervals near the ceiling").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.interval_coverage import SCENARIOS, Cell, layout, simulate  # noqa: E402
from surveys import scoring  # noqa: E402


def _timed(table, criteria, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = scoring.score(table, criteria, by=["sample"], min_n=0)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20000, help="groups of 30 respondents (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, the median shown (default 3)")
    args = parser.parse_args(argv)
    criteria = layout()
    kept = scoring.near_ceiling_upper
    print("| SIPAS | groups | rows | with the rule | without | ratio | element upper ends changed |")
    print("|---|---|---|---|---|---|---|")
    for target in (98.0, 80.0):
        table = simulate(np.random.default_rng(1), criteria, Cell(SCENARIOS[0], target, 30), args.groups)
        with_rule, scores = _timed(table, criteria, args.repeat)
        scoring.near_ceiling_upper = lambda high, *rest: (high, high != high)  # the equal-tailed upper end
        try:
            without, plain = _timed(table, criteria, args.repeat)
        finally:
            scoring.near_ceiling_upper = kept
        changed = np.mean(scores.elements["high"].to_numpy() != plain.elements["high"].to_numpy()) * 100
        print(f"| {target:g} | {args.groups:,} | {len(table):,} | {with_rule:.2f} s | {without:.2f} s | "
              f"{with_rule / without:.2f} | {changed:.0f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
