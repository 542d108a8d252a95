"""Where to act first: per group, the criteria ordered by the SIPAS points that reaching a benchmark would add,
and the key drivers (each criterion's correlation with the respondent's overall satisfaction).

Priority of criterion i in a group: gap = benchmark − satisfied_pct_i (only gaps above 0 are listed), weight =
1/k (SIPAS is the unweighted mean of the k criteria with valid answers in the group), gain = gap × weight: the
SIPAS points the group gains when i reaches the benchmark and nothing else changes. The benchmark is the centre's
target for i's element when one is set for the period's year (benchmark_from "target"), otherwise the
satisfied_pct of i in the best of the published groups of the same period that differ from this one only in their
centre (the province's best centre; benchmark_from "best"): best by the lower end of i's interval, as the league
table ranks, so a small centre's 100% does not set the bar over a large one's surer 97%. A province total row is
compared with the best group of its period. Suppressed groups and instruments that are not SIPAS get null.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from surveys.drivers import key_drivers

TOP = 3  # priorities shown in the table and as CSV columns
_CENTRE_KEYS = ("centre", "parent")  # the dimension a benchmark looks across


def add_priorities(rows: list[dict], by: tuple[str, ...], criteria: dict[str, str], sipas: bool) -> None:
    """Set ``row["priority"]`` on every row: the ordered list, [] when nothing is below its benchmark, or None."""
    across = any(d in _CENTRE_KEYS for d in by)
    peers: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        if _published(row, sipas) and not row.get("total"):
            peers[_peer_key(row, by, across)].append(row)
            peers[(row["period"],)].append(row)  # the peers of the period's total
    best = {key: _best(group, criteria) for key, group in peers.items()}
    for row in rows:
        if not _published(row, sipas):
            row["priority"] = None
            continue
        key = (row["period"],) if row.get("total") else _peer_key(row, by, across)
        row["priority"] = _ranked(row, criteria, best.get(key, {}))


def _published(row: dict, sipas: bool) -> bool:
    return sipas and not row["suppressed"] and bool(row["criteria"])


def _peer_key(row: dict, by: tuple[str, ...], across: bool) -> tuple:
    """Rows compared with each other: same period and every key but the centre and the parent (without either in
    the report, all the period's groups)."""
    return ("peers", row["period"], *(row[d] for d in by if across and d not in _CENTRE_KEYS))


def _best(rows: list[dict], criteria: dict[str, str]) -> dict[str, float]:
    """Per criterion, the satisfied_pct of the best group: the one with the highest lower end of its interval, as
    the league table ranks (a centre of 30 answers at 100% is not shown to do better than one of 500 at 97%)."""
    best: dict[str, tuple[float, float]] = {}
    for row in rows:
        for code in criteria:
            measures = row["criteria"].get(code) or {}
            share, low = measures.get("satisfied_pct"), (measures.get("ci") or [None])[0]
            if share is not None and low is not None and (low, share) > best.get(code, (-1.0, -1.0)):
                best[code] = (low, share)
    return {code: share for code, (_, share) in best.items()}


def _ranked(row: dict, criteria: dict[str, str], best: dict[str, float]) -> list[dict]:
    measured = {code: m for code, m in row["criteria"].items() if (m.get("n") or 0) > 0}
    if not measured:
        return []
    weight = 1 / len(measured)
    aims = ((row.get("target") or {}).get("elements") or {})
    out = []
    for code, measures in measured.items():
        share = measures.get("satisfied_pct")
        if share is None:  # too few answers to show (publication rules): not ranked
            continue
        element = criteria[code]
        aim = (aims.get(element) or {}).get("target")
        benchmark, source = (aim, "target") if aim is not None else (best.get(code), "best")
        if benchmark is None or round(benchmark - share, 9) <= 0:
            continue
        gap = benchmark - share
        out.append({"code": code, "element": element, "satisfied_pct": share, "benchmark": benchmark,
                    "benchmark_from": source, "gap": gap, "weight": weight, "gain": gap * weight})
    order = list(criteria)
    out.sort(key=lambda item: (-round(item["gain"], 9), order.index(item["code"])))
    return out


def drivers_per_group(group: np.ndarray, codes: np.ndarray, criteria: list[str], min_n: int,
                      n_groups: int) -> list[dict]:
    """``[{criterion: {r, ci, n}}]``, one per group, from each response's group number and its packed ratings.

    A criterion with fewer than ``min_n`` respondents counted shows only its n (r and ci null), as a criterion
    with too few answers does everywhere in a report.
    """
    found = key_drivers(group, codes, n_groups)
    r, low, high = (np.where(np.isnan(a), None, a).tolist() for a in (found.r, found.low, found.high))
    counts = found.n.tolist()
    return [{code: {"r": r[g][j], "ci": [low[g][j], high[g][j]], "n": counts[g][j]} if counts[g][j] >= min_n
             else {"r": None, "ci": [None, None], "n": counts[g][j]} for j, code in enumerate(criteria)}
            for g in range(n_groups)]


def criterion_label(code: str, element_short: str | None) -> str:
    """"Thủ tục 2" for procedure_2 (the element's short name and the criterion's number), else the code."""
    number = code.rsplit("_", 1)[-1]
    return f"{element_short} {number}" if element_short and number.isdigit() else code
