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


def group_quality(groups: pd.DataFrame, criteria: pd.DataFrame, keys: dict[str, np.ndarray], arrays: RatingArrays,
                  codes: list[str]) -> list[dict | None]:
    """One quality dict per group of Scores.groups (None for a group without responses).

    ``criteria`` is Scores.criteria (na_n, skipped_n per group and criterion, criteria in ``codes`` order) and
    ``keys`` the raw key columns of every response in ``groups`` column order (bot.reports.build.group_keys).
    """
    stacked = np.column_stack([np.asarray(column, dtype=np.int64) for column in keys.values()])
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    responses = np.bincount(inverse, minlength=len(unique))
    opened = np.bincount(inverse, weights=arrays.origin == OPEN, minlength=len(unique))
    flagged = np.bincount(inverse, weights=arrays.flagged, minlength=len(unique))
    position = {key: i for i, key in enumerate(map(tuple, unique.tolist()))}
    na = criteria["na_n"].to_numpy(dtype=np.int64).reshape(len(groups), len(codes)).tolist()
    skipped = criteria["skipped_n"].to_numpy(dtype=np.int64).reshape(len(groups), len(codes)).tolist()
    out: list[dict | None] = []
    for g, key in enumerate(groups[list(keys)].itertuples(index=False, name=None)):
        i = position.get(tuple(int(k) for k in key))
        total = int(responses[i]) if i is not None else 0
        if not total:
            out.append(None)
            continue
        share = 100.0 / total
        out.append({"open_pct": opened[i] * share, "flagged_pct": flagged[i] * share,
                    "criteria": {code: {"na_pct": na[g][j] * share, "skipped_pct": skipped[g][j] * share}
                                 for j, code in enumerate(codes)}})
    return out
