"""Key drivers: how closely each criterion goes with a respondent's overall satisfaction, per group (pure numpy).

The second view of "where to act first" (the first is the gap to a benchmark times the criterion's weight in
SIPAS, ``bot.reports.priority``): a criterion whose rating rises and falls with how satisfied people are overall
is one that shapes their experience, whatever its own level.

Method, per group and criterion c:
    * overall satisfaction of respondent r is the mean of r's OTHER valid ratings (1-5), leaving c out so that c
      is not correlated with itself (leave-one-out); a respondent counts when they rated c and at least one other
      criterion validly;
    * r is Pearson's correlation of c's rating with that overall mean over the group's respondents who count,
      computed in two passes (means, then centred sums) with one ``np.bincount`` per sum: no Python loop over
      respondents or groups;
    * its 95% interval is Fisher's: tanh(atanh(r) ± z / sqrt(n - 3)).

``r`` is NaN with fewer than 3 respondents or when either side does not vary (every rating the same); the
interval is NaN with fewer than 4. A sample correlation of exactly ±1 has the degenerate interval [±1, ±1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surveys.intervals import normal_quantile

# Centred sums of squares below this are rounding noise: ratings are on 1-5, so a real spread of the overall mean
# (steps of 1/(k-1), k <= 22 criteria) gives a sum of squares above 1e-3.
_NO_SPREAD = 1e-9


@dataclass(frozen=True, eq=False)
class Drivers:
    """Correlations per group and criterion, all arrays of shape ``(groups, criteria)``.

    Attributes:
        r: Pearson's r of the criterion's rating with the mean of the respondent's other valid ratings.
        low: Low end of its Fisher-z interval.
        high: High end of its Fisher-z interval.
        n: Respondents counted (a valid rating of the criterion and of at least one other).
    """

    r: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray


def key_drivers(group: np.ndarray, ratings: np.ndarray, n_groups: int, confidence: float = 0.95) -> Drivers:
    """Leave-one-out correlations of every criterion with overall satisfaction, per group.

    Args:
        group: ``(rows,)`` integer group index of every respondent, in ``0 .. n_groups - 1``.
        ratings: ``(rows, criteria)`` integers; 1..5 are valid ratings, any other value (0 for "not applicable",
            255 for no answer, as ``bot.storage.packing`` stores them) is not a rating.
        n_groups: Number of groups.
        confidence: Level of the intervals.

    Returns:
        The ``Drivers`` arrays.

    Raises:
        ValueError: If ``confidence`` is not strictly between 0 and 1.

    Example:
        >>> import numpy as np
        >>> ratings = np.array([[5, 5, 4], [4, 4, 4], [2, 3, 1], [1, 2, 2]])
        >>> drivers = key_drivers(np.zeros(4, dtype=int), ratings, 1)
        >>> int(drivers.n[0, 0]), round(float(drivers.r[0, 0]), 3)
        (4, 0.972)
    """
    z = normal_quantile(confidence)
    ratings = np.asarray(ratings)
    group = np.asarray(group, dtype=np.intp)
    k = ratings.shape[1]
    columns = np.ascontiguousarray(ratings.T)  # criterion-major: one contiguous row per criterion
    valid = (columns >= 1) & (columns <= 5)
    values = np.where(valid, columns, 0).astype(np.int32)
    total, count = values.sum(axis=0), valid.sum(axis=0)
    shape = (n_groups, k)
    r, n = np.full(shape, np.nan), np.zeros(shape, dtype=np.int64)
    for j in range(k):
        counted = valid[j] & (count >= 2)
        x = values[j][counted].astype(np.float64)
        y = (total[counted] - x) / (count[counted] - 1)  # the mean of the respondent's other valid ratings
        g = group[counted]
        size = np.bincount(g, minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_x = np.bincount(g, x, minlength=n_groups) / size
            mean_y = np.bincount(g, y, minlength=n_groups) / size
        dx, dy = x - mean_x[g], y - mean_y[g]
        sxx, syy = np.bincount(g, dx * dx, minlength=n_groups), np.bincount(g, dy * dy, minlength=n_groups)
        sxy = np.bincount(g, dx * dy, minlength=n_groups)
        spread = (size >= 3) & (sxx > _NO_SPREAD) & (syy > _NO_SPREAD)
        with np.errstate(divide="ignore", invalid="ignore"):
            r[:, j] = np.where(spread, np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0), np.nan)
        n[:, j] = size
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(n >= 4, z / np.sqrt(np.maximum(n - 3, 1)), np.nan)
        centre = np.arctanh(r)
        low, high = np.tanh(centre - half), np.tanh(centre + half)
    return Drivers(r=r, low=low, high=high, n=n)
