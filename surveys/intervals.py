"""Confidence intervals for the SIPAS measures, in plain numpy (no scipy).

Three pieces (``docs/sipas.md``, "Uncertainty"; the method and its coverage: ``docs/intervals.md``):

* **Wilson score interval** for one criterion's satisfied share and for ``no_dissatisfied_pct``
  (``wilson_interval``). It stays inside [0, 100] and behaves well for shares near 0 or 100 and for small n.
* **Linearised (Taylor) variance of a mean of ratios** (``mean_of_ratios``), for the element indices and SIPAS.
  Each is an unweighted mean over criteria of p_i = S_i / V_i, where S_i counts the satisfied (4-5) answers and
  V_i the valid (1-5) answers to criterion i. One person's answers are correlated, so the respondent, not the
  answer, is the sampling unit. For respondent r let x_ri = 1 when r rated criterion i 4-5 and v_ri = 1 when r
  gave it a valid answer. Over the k criteria with V_i > 0 in the group::

      z_r = (1/k) * sum_i (x_ri - p_i * v_ri) / V_i          (sum_r z_r = 0 by construction)
      Var ≈ n / (n - 1) * sum_r z_r**2

  where n counts the respondents with at least one valid answer among those criteria (the others have z_r = 0).
  This is the with-replacement variance of the first-order Taylor expansion of the estimator around the group's
  p_i; it agrees with a respondent-level bootstrap (``tests/test_intervals.py``). With one criterion it reduces
  to the simple random sample variance p(1 - p)/(n - 1).
* **Score interval on the effective sample size** (``score_interval``), built on that variance. The estimate p
  (on 0-1) is read as a proportion from n_eff = p(1 - p) / Var independent trials (Kish's effective sample size:
  n times 1 over the design effect), and Wilson's interval is taken for p with n_eff trials and Student's t
  quantile with n - 1 degrees of freedom in place of z (q = t(0.975, n - 1))::

      centre = (p + q²/(2 n_eff)) / (1 + q²/n_eff)
      half   = q / (1 + q²/n_eff) * sqrt(p (1 - p) / n_eff + q² / (4 n_eff²))
      interval = 100 * (centre ± half)

  Wilson's interval evaluates the variance at the value tested rather than at the estimate, so it widens on the
  side away from the nearer bound and stays inside [0, 100] without clipping; the t quantile accounts for a
  variance estimated from n respondents. Where the variance says nothing (p is 0 or 1, or every respondent
  answered alike: Var = 0), the design effect is taken as 1 (n_eff = n: a respondent's answers are all alike,
  the widest case), so the interval never has zero width while n is finite: 30 forms rating everything 4-5 give
  [87.76, 100] (low = 30 / (30 + 2.0452²)). With n < 2 the variance is undefined and the interval is null. The
  former interval, estimate ± 1.96 se clipped to [0, 100] (``normal_interval``), held its 95% only away from the
  bounds.

All functions are vectorised: no Python loop runs over rows or groups (only over the criteria).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from surveys.quantiles import normal_quantile, student_quantile

__all__ = ["mean_of_ratios", "normal_interval", "normal_quantile", "score_interval", "student_quantile",
           "wilson_interval"]

NO_ANSWER = 0
"""Outcome code of a respondent who gave a criterion no valid (1-5) answer."""
NOT_SATISFIED = 1
"""Outcome code of a valid answer of 1, 2 or 3."""
SATISFIED = 2
"""Outcome code of a valid answer of 4 or 5."""

_OUTCOMES = 3


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion, in percent, vectorised.

    Args:
        successes: Number of successes (scalar or array), 0 <= successes <= trials.
        trials: Number of trials (scalar or array, broadcast against ``successes``).
        confidence: The confidence level, strictly between 0 and 1.

    Returns:
        ``(low, high)`` on the 0-100 scale, arrays of the broadcast shape (numpy scalars for scalar input).
        Both are NaN where ``trials`` is 0 or NaN.

    Raises:
        ValueError: If a count is negative, ``successes`` exceeds ``trials``, or ``confidence`` is out of
            range.

    Example:
        >>> low, high = wilson_interval(8, 10)
        >>> round(float(low), 1), round(float(high), 1)
        (49.0, 94.3)
    """
    z = normal_quantile(confidence)
    s, n = np.broadcast_arrays(np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64))
    if np.any(s < 0) or np.any(s > n):
        raise ValueError("successes must satisfy 0 <= successes <= trials")
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s / n
        denominator = 1.0 + z2 / n
        centre = (p + z2 / (2.0 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = np.where(s == 0, 0.0, np.clip(centre - half, 0.0, 1.0))  # exact ends (rounding leaves ~1e-17)
    high = np.where(s == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    low = np.where(n > 0, low * 100.0, np.nan)
    high = np.where(n > 0, high * 100.0, np.nan)
    return low[()], high[()]


def normal_interval(estimate, se, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric normal interval ``estimate ± z * se`` on the percent scale, clipped to [0, 100].

    The interval reports used before ``score_interval``; kept for comparison (``bench/interval_coverage.py``).

    Args:
        estimate: Point estimates in percent (array); NaN stays NaN.
        se: Standard errors in percent (array, same shape); NaN gives a NaN interval.
        confidence: The confidence level, strictly between 0 and 1.

    Returns:
        ``(low, high)`` arrays, NaN where the estimate or the standard error is NaN.
    """
    z = normal_quantile(confidence)
    estimate = np.asarray(estimate, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    return np.clip(estimate - z * se, 0.0, 100.0), np.clip(estimate + z * se, 0.0, 100.0)


def score_interval(estimate, se, units, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval on the effective sample size of a linearised estimate (module docstring).

    Args:
        estimate: Point estimates in percent (array); NaN stays NaN.
        se: Their linearised standard errors in percent (``mean_of_ratios``); NaN gives a NaN interval.
        units: The respondents behind each estimate (its n).
        confidence: The confidence level, strictly between 0 and 1.

    Returns:
        ``(low, high)`` arrays in [0, 100], NaN where the estimate or the standard error is NaN or n < 2.

    Example:
        >>> low, high = score_interval(100.0, 0.0, 30)  # 30 respondents, every answer 4-5
        >>> round(float(low), 2), float(high)
        (87.76, 100.0)
    """
    percent = np.asarray(estimate, dtype=np.float64)
    p = percent / 100.0
    units = np.asarray(units, dtype=np.float64)
    q = student_quantile(confidence, np.maximum(units - 1.0, 1.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        var = (np.asarray(se, dtype=np.float64) / 100.0) ** 2
        n = np.where((p <= 0.0) | (p >= 1.0) | (var <= 0.0), units, p * (1.0 - p) / var)  # design effect 1
        n = np.minimum(n, MAX_DESIGN_GAIN * units)  # a variance next to 0 by rounding must not close the interval
        denominator = 1.0 + q * q / n
        centre = (p + q * q / (2.0 * n)) / denominator
        half = q / denominator * np.sqrt(p * (1.0 - p) / n + q * q / (4.0 * n * n))
    null = np.isnan(p) | np.isnan(var) | ~(units >= 2)
    # Exact ends, and the estimate inside, whatever the rounding (it leaves ~1e-16 on either side).
    low = np.where(p <= 0.0, 0.0, np.minimum(np.clip(centre - half, 0.0, 1.0) * 100.0, percent))
    high = np.where(p >= 1.0, 100.0, np.maximum(np.clip(centre + half, 0.0, 1.0) * 100.0, percent))
    low = np.where(null, np.nan, low)
    high = np.where(null, np.nan, high)
    return low[()], high[()]


MAX_DESIGN_GAIN = 1000.0
"""The largest n_eff / n ``score_interval`` accepts (a design effect of 0.001; a real one is above 1/k)."""


@dataclass(frozen=True, eq=False)
class RatioMeans:
    """Mean-of-ratios estimates per group, overall and per part (element), with linearised standard errors.

    All values are percentages (0-100). ``G`` is the number of groups and ``P`` the number of parts.

    Attributes:
        estimate: ``(G,)`` mean of the p_i over the criteria with V_i > 0; NaN when there is none.
        se: ``(G,)`` linearised standard error; NaN when ``units`` < 2 or the estimate is NaN.
        units: ``(G,)`` respondents with at least one valid answer.
        part_estimate: ``(G, P)`` the same estimate restricted to each part's criteria.
        part_se: ``(G, P)`` its standard error.
        part_units: ``(G, P)`` respondents with at least one valid answer to the part's criteria.
    """

    estimate: np.ndarray
    se: np.ndarray
    units: np.ndarray
    part_estimate: np.ndarray
    part_se: np.ndarray
    part_units: np.ndarray


def mean_of_ratios(
    group: np.ndarray,
    outcomes: Sequence[np.ndarray],
    parts: Sequence[int],
    n_groups: int,
    *,
    outcome_counts: np.ndarray | None = None,
) -> RatioMeans:
    """Estimate the unweighted mean of per-criterion satisfied shares and its respondent-level uncertainty.

    The method (linearisation with the respondent as the unit) is described in the module docstring.

    Args:
        group: ``(rows,)`` integer group index of each respondent, in ``range(n_groups)``.
        outcomes: One ``(rows,)`` integer array per criterion holding ``NO_ANSWER``, ``NOT_SATISFIED`` or
            ``SATISFIED`` for each respondent.
        parts: The part (element) index of each criterion, numbered from 0 without gaps.
        n_groups: The number of groups.
        outcome_counts: Optional ``(n_groups, criteria, 3)`` count of each outcome per group and criterion,
            when the caller has counted them already (saves one pass over the rows).

    Returns:
        The estimates, standard errors and respondent counts, overall and per part.

    Raises:
        ValueError: If ``parts`` does not have one entry per criterion.
    """
    group = np.asarray(group, dtype=np.intp)
    parts = np.asarray(parts, dtype=np.intp)
    if parts.shape != (len(outcomes),):
        raise ValueError("parts must give one part index per criterion")
    n_parts = int(parts.max()) + 1 if parts.size else 0
    rows, k = group.shape[0], len(outcomes)

    # Pass 1: per group and criterion, valid answers V and satisfied answers S; who answered each part.
    base = group.astype(np.int64) * _OUTCOMES
    valid_n = np.zeros((n_groups, k))
    satisfied_n = np.zeros((n_groups, k))
    answered = np.zeros((n_parts, rows), dtype=bool)
    for i, outcome in enumerate(outcomes):
        if outcome_counts is None:
            counts = np.bincount(base + outcome, minlength=n_groups * _OUTCOMES).reshape(n_groups, _OUTCOMES)
        else:
            counts = outcome_counts[:, i, :]
        valid_n[:, i] = counts[:, NOT_SATISFIED] + counts[:, SATISFIED]
        satisfied_n[:, i] = counts[:, SATISFIED]
        answered[parts[i]] |= outcome != NO_ANSWER

    has = valid_n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(has, satisfied_n / valid_n, 0.0)
        inv_v = np.where(has, 1.0 / valid_n, 0.0)
    member = parts[:, None] == np.arange(n_parts)[None, :]  # (k, P) criterion belongs to part
    k_part = has.astype(np.float64) @ member  # (G, P) criteria with answers, per part
    k_all = has.sum(axis=1).astype(np.float64)  # (G,)
    with np.errstate(divide="ignore", invalid="ignore"):
        part_estimate = np.where(k_part > 0, (p @ member) / k_part * 100.0, np.nan)
        estimate = np.where(k_all > 0, p.sum(axis=1) / k_all * 100.0, np.nan)
        inv_k_part = np.where(k_part > 0, 1.0 / k_part, 0.0)
        inv_k_all = np.where(k_all > 0, 1.0 / k_all, 0.0)

    # Pass 2: sum over each part's criteria of (x_ri - p_i v_ri) / V_i, via a (group, outcome) lookup table.
    sums = np.zeros((n_parts, rows))
    for i, outcome in enumerate(outcomes):
        table = np.empty((n_groups, _OUTCOMES))
        table[:, NO_ANSWER] = 0.0
        table[:, NOT_SATISFIED] = -p[:, i] * inv_v[:, i]
        table[:, SATISFIED] = (1.0 - p[:, i]) * inv_v[:, i]
        sums[parts[i]] += _lookup(table.ravel(), base + outcome)

    part_units = np.empty((n_groups, n_parts), dtype=np.int64)
    part_sq = np.empty((n_groups, n_parts))
    for e in range(n_parts):
        part_units[:, e] = np.bincount(group[answered[e]], minlength=n_groups)
        z_part = sums[e] * _lookup(np.ascontiguousarray(inv_k_part[:, e]), group)
        part_sq[:, e] = np.bincount(group, weights=z_part * z_part, minlength=n_groups)
    units = np.bincount(group[answered.any(axis=0)], minlength=n_groups).astype(np.int64)
    z_all = sums.sum(axis=0) * _lookup(inv_k_all, group)
    sq = np.bincount(group, weights=z_all * z_all, minlength=n_groups)

    return RatioMeans(
        estimate=estimate,
        se=_standard_error(sq, units, estimate),
        units=units,
        part_estimate=part_estimate,
        part_se=_standard_error(part_sq, part_units, part_estimate),
        part_units=part_units,
    )


def _lookup(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for indices known to be in range.

    ``take`` in clip mode skips the bounds check, which makes this gather an order of magnitude faster than fancy
    indexing on a million rows.
    """
    return np.take(table, index, mode="clip")


def _standard_error(sum_sq: np.ndarray, units: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """100 * sqrt(n / (n - 1) * sum_sq), NaN where n < 2 or the estimate is NaN."""
    units = units.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = 100.0 * np.sqrt(units / (units - 1.0) * sum_sq)
    return np.where((units >= 2) & ~np.isnan(estimate), se, np.nan)
