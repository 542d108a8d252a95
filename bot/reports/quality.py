"""Data quality per report group: how many of its responses came from open surveys (no invitation: anyone at the
counter could answer) or were flagged (a burst from one client address), and per criterion how many answered
"không áp dụng" (not applicable) or skipped it.

Every share is of the group's responses (its n, plus any response with no valid scored answer, which counts in no
n), on 0-100. Suppressed groups get none: these counts add up across groups like any other (bot.reports.suppression).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bot.reports.dataset import RatingArrays
from bot.reports.request import ORIGINS

OPEN = ORIGINS.index("open")


def group_quality(groups: pd.DataFrame, criteria: pd.DataFrame, group: np.ndarray, arrays: RatingArrays,
                  codes: list[str]) -> list[dict | None]:
    """One quality dict per group of Scores.groups (None for a group without responses).

    ``criteria`` is Scores.criteria (na_n, skipped_n per group and criterion, criteria in ``codes`` order) and
    ``group`` each response's row in ``groups`` (``group_of``).
    """
    responses = np.bincount(group, minlength=len(groups))
    opened = np.bincount(group, weights=arrays.origin == OPEN, minlength=len(groups))
    flagged = np.bincount(group, weights=arrays.flagged, minlength=len(groups))
    na = criteria["na_n"].to_numpy(dtype=np.int64).reshape(len(groups), len(codes)).tolist()
    skipped = criteria["skipped_n"].to_numpy(dtype=np.int64).reshape(len(groups), len(codes)).tolist()
    out: list[dict | None] = []
    for g in range(len(groups)):
        total = int(responses[g])
        if not total:
            out.append(None)
            continue
        share = 100.0 / total
        out.append({"open_pct": opened[g] * share, "flagged_pct": flagged[g] * share,
                    "criteria": {code: {"na_pct": na[g][j] * share, "skipped_pct": skipped[g][j] * share}
                                 for j, code in enumerate(codes)}})
    return out


def group_of(keys: dict[str, np.ndarray], groups: pd.DataFrame) -> np.ndarray:
    """Each response's row in ``groups`` (Scores.groups), from the raw key columns of every response in ``groups``
    column order (bot.reports.build.group_keys): the keys as one mixed-radix integer, looked up among the groups'
    (a million responses in tens of milliseconds, where a row-wise unique or a pandas groupby takes far longer)."""
    columns = [np.asarray(column, dtype=np.int64) for column in keys.values()]
    known = [groups[name].to_numpy(dtype=np.int64) for name in keys]
    code, group_code = np.zeros(len(columns[0]), dtype=np.int64), np.zeros(len(groups), dtype=np.int64)
    for column, of_groups in zip(columns, known, strict=True):
        low = int(of_groups.min()) if len(of_groups) else 0
        span = int(of_groups.max()) - low + 1 if len(of_groups) else 1
        code, group_code = code * span + (column - low), group_code * span + (of_groups - low)
    order = np.argsort(group_code, kind="stable")
    return order[np.searchsorted(group_code, code, sorter=order)]
