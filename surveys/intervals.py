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
  [87.76, 100] (low = 30 / (30 + 2.0452²)). For SIPAS (``unhappy`` given) so it is where fewer than two
  respondents gave any rating of 1-3: the variance then rests on one form's answers, which cannot show how much
  the unhappy respondents differ from one another (under strongly correlated answers unhappiness comes in whole
  forms, and one form with a single low rating looked like independent answers: n_eff far above n). Not for the
  element indices, which already cover above 95% near the ceiling (``docs/intervals.md``). With n < 2 the
  variance is undefined and the interval is null. The
  former interval, estimate ± 1.96 se clipped to [0, 100] (``normal_interval``), held its 95% only away from the
  bounds.
  For weighted estimates (``surveys.scoring.score(weights=...)``) Kish's effective n, (sum w)² / sum w², takes
  the place of n in the design effect 1 case. For SIPAS in unweighted groups of 30-200 respondents
  ``surveys.scoring`` replaces it by the studentised bootstrap of ``surveys.bootstrap`` where that is bounded.
  For unweighted element indices near the ceiling, where no sample of the group's shape could put the lower end
  above the value tested, ``surveys.scoring`` takes the upper end one-sided (``surveys.ceiling``).

All functions are vectorised: no Python loop runs over rows or groups (only over the criteria).
"""

from __future__ import annotations

import numpy as np

from surveys.linearised import NO_ANSWER, NOT_SATISFIED, SATISFIED, RatioMeans, mean_of_ratios
from surveys.quantiles import normal_quantile, student_quantile

__all__ = ["NOT_SATISFIED", "NO_ANSWER", "SATISFIED", "RatioMeans", "effective_trials", "mean_of_ratios",
           "normal_interval", "normal_quantile", "score_interval", "student_quantile", "wilson_interval"]

MAX_DESIGN_GAIN = 1000.0
"""The largest n_eff / n ``score_interval`` accepts (a design effect of 0.001; a real one is above 1/k)."""

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


def effective_trials(p, var, units, effective=None, unhappy=None) -> np.ndarray:
    """Kish's effective sample size n_eff = p(1 - p) / Var of ``score_interval`` (module docstring), vectorised.

    Args:
        p: Estimates on 0-1 (array).
        var: Their variances on the 0-1 scale (array).
        units: The respondents behind each estimate.
        effective: Optional effective number of respondents for the design effect 1 case (``score_interval``).
        unhappy: Optional respondents with a rating of 1-3 (``score_interval``).

    Returns:
        n_eff: ``units`` (or ``effective``) where the variance says nothing, at most ``MAX_DESIGN_GAIN`` times
        ``units``.
    """
    units = np.asarray(units, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        fallback = units if effective is None else np.asarray(effective, dtype=np.float64)
        uninformed = (p <= 0.0) | (p >= 1.0) | (var <= 0.0)
        if unhappy is not None:  # one unhappy form says nothing of how the unhappy ones differ
            uninformed |= np.asarray(unhappy, dtype=np.float64) < 2
        n = np.where(uninformed, fallback, p * (1.0 - p) / var)  # design effect 1
    return np.minimum(n, MAX_DESIGN_GAIN * units)  # a variance next to 0 by rounding must not close the interval


def score_interval(estimate, se, units, confidence: float = 0.95, effective=None,
                   unhappy=None) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval on the effective sample size of a linearised estimate (module docstring).

    Args:
        estimate: Point estimates in percent (array); NaN stays NaN.
        se: Their linearised standard errors in percent (``mean_of_ratios``); NaN gives a NaN interval.
        units: The respondents behind each estimate (its n).
        confidence: The confidence level, strictly between 0 and 1.
        effective: Optional effective number of respondents (Kish's, for weighted estimates), the n_eff of the
            design effect 1 case; ``units`` when not given.
        unhappy: Optional number of respondents with at least one unsatisfied (1-3) answer behind each estimate;
            where it is below 2 the design effect is taken as 1, as where Var = 0 (module docstring).

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
    var = (np.asarray(se, dtype=np.float64) / 100.0) ** 2
    n = effective_trials(p, var, units, effective, unhappy)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
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
