"""Rank uncertainty: between which places each group sits in its period's league table.

A league table orders groups by the lower bound of their SIPAS interval, but two centres whose intervals overlap
could swap places in another sample. Each group's `rank` says its place and the 95% interval of that place:
2,000 joint draws of every group's SIPAS in the period (each from the two-piece normal its own estimate and
interval imply, `surveys.spread.two_piece_draws`, independently across groups), ranked in every draw, and the
2.5% and 97.5% points of each group's rank. The draws are seeded per period, so the same data gives the same
ranks, and a period's ranks do not depend on which other periods are in the report. Equal draws (two groups at
100) are ordered at random, so indistinguishable groups share the places between them.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict

import numpy as np

from surveys.spread import two_piece_draws

DRAWS = 2000
SEED = 20_240_712
DECIMALS = 9  # lower bounds equal to nine decimals tie (as in the report's order: sums of floats differ in bits)


def rank_rows(rows: list[dict], by: tuple[str, ...]) -> None:
    """Set every row's "rank": {rank, low, high, of} for the ranked groups of its period, None for the others
    (suppressed, no SIPAS, no interval, or the province total of --total)."""
    periods: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        row["rank"] = None
        interval = row["sipas_ci"]
        ranked = not row.get("total") and not row["suppressed"] and row["sipas"] is not None
        if ranked and interval and None not in interval:
            periods[row["period"]].append(row)
    for period, group in periods.items():
        group.sort(key=lambda row: (-round(row["sipas_ci"][0], DECIMALS),
                                    *((row[d] is None, row[d] or "") for d in by)))
        # Rounded as in the JSON, so both database backends (sums in another order) draw the same ranks.
        estimates = np.round(np.array([[row["sipas"], *row["sipas_ci"]] for row in group]), DECIMALS)
        low, high = rank_intervals(estimates, period)
        for place, (row, best, worst) in enumerate(zip(group, low, high, strict=True), start=1):
            row["rank"] = {"rank": place, "low": int(best), "high": int(worst), "of": len(group)}


def rank_intervals(estimates: np.ndarray, period: str) -> tuple[np.ndarray, np.ndarray]:
    """The 2.5% and 97.5% points of each group's rank (1 = best) over DRAWS joint draws.

    ``estimates`` is (G, 3): estimate, interval low, interval high per group.
    """
    rng = np.random.default_rng([SEED, zlib.crc32(period.encode())])
    values = two_piece_draws(estimates[:, 0], estimates[:, 1], estimates[:, 2], DRAWS, rng)
    # A random millionth of a point breaks ties (draws clipped at 100 or 0, intervals of width zero) at random.
    order = np.argsort(-(values + rng.random(values.shape) * 1e-6), axis=1)  # per draw: best to worst
    ranks = np.empty(order.shape, dtype=np.int32)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, values.shape[1] + 1, dtype=np.int32),
                                                    values.shape), axis=1)
    ranks = np.sort(ranks.T, axis=1)  # each group's ranks in order, contiguous
    # The 2.5% and 97.5% points as the smallest rank reached by that share of draws (the inverted CDF).
    return ranks[:, math.ceil(0.025 * DRAWS) - 1], ranks[:, math.ceil(0.975 * DRAWS) - 1]


HEADER = "Hạng (khoảng)"
CSV_HEADERS = ["rank", "rank_low", "rank_high", "rank_of"]
SHEET_HEADERS = ["Hạng", "Hạng (từ)", "Hạng (đến)", "Số nhóm xếp hạng"]
FOOTNOTE = ("Hạng: thứ tự trong kỳ theo cận dưới; trong ngoặc: khoảng 95% của hạng, từ 2.000 lần mô phỏng chỉ số "
            "của mọi nhóm trong kỳ theo khoảng tin cậy của từng nhóm.")


def rank_cell(row: dict) -> str:
    """ "3 (2–5)", or "–" for a group not ranked."""
    rank = row.get("rank")
    return f"{rank['rank']} ({rank['low']}–{rank['high']})" if rank else "–"


def rank_cells(row: dict) -> list:
    rank = row.get("rank")
    return [rank[k] for k in ("rank", "low", "high", "of")] if rank else [None] * 4
