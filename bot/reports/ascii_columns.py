"""Fixed-width ASCII columns that SQLite glued into one blob (bot.reports.dataset, bot.reports.participation),
decoded with numpy, column by column, with no Python per row."""

from __future__ import annotations

import numpy as np

_DAY = 10  # "YYYY-MM-DD": how SQLAlchemy stores a Date in SQLite


def number(text: np.ndarray) -> np.ndarray:
    """Integers from a (rows, digits) array of ASCII digits, column by column."""
    out = np.zeros(len(text), dtype=np.int64)
    for i in range(text.shape[1]):
        out = out * 10 + (text[:, i].astype(np.int64) - ord("0"))
    return out


def days(text: np.ndarray) -> np.ndarray:
    """datetime64[D] from (rows, 10) ASCII bytes "YYYY-MM-DD", column by column (no Python per row)."""
    digit = [text[:, i].astype(np.int32) - ord("0") for i in range(_DAY)]
    year = digit[0] * 1000 + digit[1] * 100 + digit[2] * 10 + digit[3]
    months = (year - 1970) * 12 + digit[5] * 10 + digit[6] - 1
    if not len(months):
        return np.empty(0, dtype="datetime64[D]")
    # numpy's month-to-day conversion is slow per element; convert the few distinct months once instead.
    first = int(months.min())
    starts = np.arange(first, int(months.max()) + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return (np.take(starts, months - first, mode="clip") + (digit[8] * 10 + digit[9] - 1)).astype("datetime64[D]")
