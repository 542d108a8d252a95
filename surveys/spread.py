"""What an estimate and its interval say beyond the interval itself: a difference, a probability, draws.

Reports need more than "SIPAS 84 (79-88)": did the centre change since last quarter, how likely is it above its
target, between which ranks does it sit among the province's centres. All three are built here from the point
estimate and its (possibly asymmetric) confidence interval only, so they follow whatever interval
``surveys.intervals`` computes, and stay inside 0-100 near the bounds.

* **Difference of two independent estimates** (``difference_interval``): the MOVER method ("method of variance
  estimates recovery", Newcombe 1998 method 10; Zou & Donner 2008), which combines each estimate's own interval
  ends instead of assuming symmetric errors. It keeps its coverage near 0 and 100, where a normal interval on the
  difference does not.
* **The sampling distribution implied by an interval** (``two_piece_draws``, ``probability_above``): a two-piece
  normal with its mode at the estimate, each half's standard deviation being that side of the interval divided by
  the normal quantile (so a symmetric interval gives the plain normal), clipped to [0, 100]. An interval of width
  zero on one side (an estimate of 100 with its upper end at 100) puts all the mass on the other side.

All functions are vectorised over numpy arrays, NaN in -> NaN out.
"""

from __future__ import annotations

import numpy as np

from surveys.intervals import normal_quantile


def difference_interval(estimate, low, high, base, base_low, base_high, confidence: float = 0.95):
    """Interval for ``estimate - base`` of two independent estimates, from their own intervals (MOVER).

    Args:
        estimate: The later estimate (array or scalar, percent).
        low: Its interval's low end.
        high: Its interval's high end.
        base: The earlier (or compared) estimate.
        base_low: Its interval's low end, at the same confidence.
        base_high: Its interval's high end.
        confidence: The confidence level of both input intervals and of the result.

    Returns:
        ``(change, change_low, change_high)`` arrays; NaN where any input is NaN.

    Example:
        >>> change, lo, hi = difference_interval(90.0, 85.0, 94.0, 80.0, 74.0, 85.0)
        >>> round(float(change), 2), round(float(lo), 2), round(float(hi), 2)
        (10.0, 2.93, 17.21)
    """
    normal_quantile(confidence)  # the same checks as everywhere (the ends already carry the level)
    e1, l1, u1, e0, l0, u0 = (np.asarray(v, dtype=np.float64) for v in (estimate, low, high, base, base_low,
                                                                        base_high))
    change = e1 - e0
    change_low = change - np.sqrt((e1 - l1) ** 2 + (u0 - e0) ** 2)
    change_high = change + np.sqrt((u1 - e1) ** 2 + (e0 - l0) ** 2)
    return change[()], change_low[()], change_high[()]


def _halves(estimate, low, high, confidence: float):
    """The two standard deviations of the two-piece normal that puts the interval's ends at its quantiles."""
    z = normal_quantile(confidence)
    estimate, low, high = (np.asarray(v, dtype=np.float64) for v in (estimate, low, high))
    return estimate, np.maximum(estimate - low, 0.0) / z, np.maximum(high - estimate, 0.0) / z


def probability_above(threshold, estimate, low, high, confidence: float = 0.95):
    """The probability, under the two-piece normal an interval implies, that the true value exceeds ``threshold``.

    Args:
        threshold: The value to exceed (percent; scalar or array broadcast against the estimates).
        estimate: Point estimates (percent).
        low: Their intervals' low ends.
        high: Their intervals' high ends.
        confidence: The level of the intervals.

    Returns:
        Probabilities in [0, 1] (NaN where an input is NaN). A threshold of 100 or more is never exceeded.
    """
    from statistics import NormalDist

    estimate, below, above = _halves(estimate, low, high, confidence)
    threshold = np.asarray(threshold, dtype=np.float64)
    total = below + above
    cdf = np.vectorize(NormalDist().cdf, otypes=[np.float64])
    with np.errstate(divide="ignore", invalid="ignore"):
        share_below = np.where(total > 0, below / total, 0.5)  # mass of the lower half
        # P(X <= t) of the two-piece normal: each half is a half-normal scaled to its own mass.
        lower = np.where(below > 0, 2 * share_below * cdf((threshold - estimate) / np.where(below > 0, below, 1)),
                         0.0)
        upper = np.where(above > 0, share_below + (1 - share_below) * (2 * cdf(
            (threshold - estimate) / np.where(above > 0, above, 1)) - 1), 1.0)
        at_or_below = np.where(threshold < estimate, lower, np.where(total > 0, upper, 1.0))
    result = np.where(threshold >= 100.0, 0.0, 1.0 - at_or_below)
    result = np.where(np.isnan(estimate) | np.isnan(below) | np.isnan(above) | np.isnan(threshold), np.nan,
                      result)
    return np.clip(result, 0.0, 1.0)[()]


def two_piece_draws(estimate, low, high, draws: int, rng: np.random.Generator, confidence: float = 0.95):
    """Random values from the two-piece normal implied by each interval, clipped to [0, 100].

    Args:
        estimate: ``(G,)`` estimates (percent), none NaN.
        low: ``(G,)`` their intervals' low ends.
        high: ``(G,)`` their intervals' high ends.
        draws: How many values per estimate.
        rng: The generator (pass a seeded one for results that repeat).
        confidence: The level of the intervals.

    Returns:
        A ``(draws, G)`` array.
    """
    estimate, below, above = _halves(estimate, low, high, confidence)
    total = below + above
    with np.errstate(divide="ignore", invalid="ignore"):
        share_below = np.where(total > 0, below / total, 0.5)
    size = (draws, estimate.shape[0])
    magnitude = np.abs(rng.standard_normal(size))
    downwards = rng.random(size) < share_below
    values = np.where(downwards, estimate - magnitude * below, estimate + magnitude * above)
    return np.clip(values, 0.0, 100.0)
