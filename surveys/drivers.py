"""Key drivers: how closely each criterion goes with a respondent's overall satisfaction, per group (pure numpy).

The second view of "where to act first" (the first is the gap to a benchmark times the criterion's weight in
SIPAS, ``bot.reports.priority``): a criterion whose rating rises and falls with how satisfied people are overall
is one that shapes their experience, whatever its own level.

Method, per group and criterion c:
    * overall satisfaction of respondent r is the mean of r's OTHER valid ratings (1-5), leaving c out so that c
      is not correlated with itself (leave-one-out); a respondent counts when they rated c and at least one other
      criterion validly;
    * r is Pearson's correlation of c's rating with that overall mean over the group's respondents who count,
      from the sums of x, y, x², y² and xy per group, one ``np.bincount`` each: no Python loop over respondents
      or groups (a million responses of 16 criteria in 0.3-0.4 s);
    * its 95% interval is Fisher's: tanh(atanh(r) ± z / sqrt(n - 3)).

``r`` is NaN with fewer than 3 respondents or when either side does not vary (every rating the same); the
interval is NaN with fewer than 4. A sample correlation of exactly ±1 has the degenerate interval [±1, ±1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surveys.intervals import normal_quantile

# Centred sums of squares below this many times n are rounding noise: ratings are on 1-5, so a real spread of the
# overall mean (steps of 1/(k-1), k <= 22 criteria) gives a sum of squares above 1e-3, while one pass over n values
# of about 25 leaves errors near n * 25 * 1e-16.
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
    columns = np.ascontiguousarray(np.asarray(ratings).T)  # criterion-major: one contiguous row per criterion
    group = np.asarray(group, dtype=np.intp)
    k = columns.shape[0]
    valid = (columns >= 1) & (columns <= 5)
    # A criterion at a time: a whole (criteria, rows) float table costs far more than the sums themselves.
    total, count = np.zeros(columns.shape[1]), np.zeros(columns.shape[1], dtype=np.int64)
    for j in range(k):
        total += np.where(valid[j], columns[j], 0)
        count += valid[j]
    others = count >= 2
    inverse = 1.0 / np.maximum(count - 1, 1)
    by_value = group * 6  # bin of (group, rating 0..5): one plain bincount gives n, the sum of x and of x²
    shape = (n_groups, k)
    r, n = np.full(shape, np.nan), np.zeros(shape, dtype=np.int64)
    for j in range(k):
        counted = valid[j] & others
        x = columns[j] * counted  # the rating where the respondent counts, else 0 (so it adds nothing)
        y = (total - x) * inverse * counted  # the mean of the respondent's other valid ratings, else 0
        table = np.bincount(by_value + x, minlength=6 * n_groups).reshape(n_groups, 6)[:, 1:]
        size = table.sum(axis=1)
        sx, sxx = table @ np.arange(1, 6), table @ np.arange(1, 6) ** 2  # whole numbers: exact
        sy = np.bincount(group, y, minlength=n_groups)
        syy = np.bincount(group, y * y, minlength=n_groups)
        sxy = np.bincount(group, x * y, minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            sxx, syy, sxy = sxx - sx * sx / size, syy - sy * sy / size, sxy - sx * sy / size
            spread = (size >= 3) & (sxx > _NO_SPREAD * size) & (syy > _NO_SPREAD * size)
            r[:, j] = np.where(spread, np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0), np.nan)
        n[:, j] = size
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(n >= 4, z / np.sqrt(np.maximum(n - 3, 1)), np.nan)
        centre = np.arctanh(r)
        low, high = np.tanh(centre - half), np.tanh(centre + half)
    return Drivers(r=r, low=low, high=high, n=n)
