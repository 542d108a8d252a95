"""The mid-p one-sided bound of a proportion near 1, in plain numpy (no scipy).

``surveys.intervals`` uses it for the upper end of an element index where no sample of the group's size could put
the lower end above the value tested (``docs/intervals.md``, "Near the ceiling"). The unsatisfied answers are then a
handful, and Wilson's normal approximation puts the upper end too low when there are four or five of them (the
score test rejects too soon on that side, Brown, Cai & DasGupta 2001); the exact (Clopper-Pearson) bound errs the
other way. The mid-p bound counts half the probability of the observed count (Lancaster 1961; Agresti & Gottard
2007) and holds close to its level on average.

For f unsatisfied out of N trials (both may be fractional: effective counts), the lower bound pi of the unsatisfied
share solves

    ½ P(X >= f | pi) + ½ P(X >= f + 1 | pi) = alpha,      X ~ Binomial(N, pi),

with P(X >= f | pi) = I_pi(f, N - f + 1), the regularised incomplete beta function, which extends the binomial tail
to fractional counts; the upper end of the satisfied share is 1 - pi.
"""

from __future__ import annotations

import math

import numpy as np

_LGAMMA = np.vectorize(math.lgamma, otypes=[np.float64])
_TINY = 1e-300
_STEPS = 42  # bisection steps on [0, 1]: the bound to 2e-13


def regularized_beta(x, a, b, *, iterations: int = 300) -> np.ndarray:
    """The regularised incomplete beta function I_x(a, b), vectorised.

    The continued fraction of Numerical Recipes (6.4) evaluated by the modified Lentz method, on the side of
    the symmetry I_x(a, b) = 1 - I_(1-x)(b, a) where it converges quickly (x < (a + 1) / (a + b + 2)).

    Args:
        x: Points in [0, 1] (array).
        a: First shape parameter, > 0 (array, broadcast against ``x``).
        b: Second shape parameter, > 0.
        iterations: The most continued-fraction terms taken (it stops earlier where every value has converged).

    Returns:
        I_x(a, b) in [0, 1], of the broadcast shape.

    Example:
        >>> round(float(regularized_beta(0.5, 2.0, 3.0)), 12)  # P(X >= 2), X ~ Binomial(4, 0.5): 11/16
        0.6875
    """
    x, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, a, b)))
    return _regularized_beta(x, a, b, _log_beta(a, b), iterations)[()]


def _log_beta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The logarithm of B(a, b), lgamma(a) + lgamma(b) - lgamma(a + b), once per shape (lgamma is a Python call)."""
    return _LGAMMA(a) + _LGAMMA(b) - _LGAMMA(a + b)


def _regularized_beta(x, a, b, log_beta, iterations: int = 300) -> np.ndarray:
    """``regularized_beta`` on broadcast arrays, with log B(a, b) given."""
    swap = x > (a + 1.0) / (a + b + 2.0)
    xs, as_, bs = np.where(swap, 1.0 - x, x), np.where(swap, b, a), np.where(swap, a, b)
    inner = (xs > 0.0) & (xs < 1.0)
    safe = np.where(inner, xs, 0.5)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        front = np.exp(as_ * np.log(safe) + bs * np.log1p(-safe) - log_beta) / as_
        fraction = _continued_fraction(safe, as_, bs, iterations)
        value = np.where(inner, front * fraction, np.where(xs <= 0.0, 0.0, 1.0))
    return np.clip(np.where(swap, 1.0 - value, value), 0.0, 1.0)


def _continued_fraction(x: np.ndarray, a: np.ndarray, b: np.ndarray, iterations: int) -> np.ndarray:
    """The continued fraction of I_x(a, b) (Numerical Recipes ``betacf``), all entries at once."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
    h = d.copy()
    for m in range(1, iterations + 1):
        m2 = 2.0 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + numerator * d
            d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1.0 + numerator / c
            c = np.where(np.abs(c) < _TINY, _TINY, c)
            step = d * c
            h = h * step
        if np.all(np.abs(step - 1.0) < 1e-13):
            break
    return h


def midp_upper(share, trials, confidence: float = 0.95) -> np.ndarray:
    """The one-sided mid-p upper bound (module docstring) of a satisfied share, vectorised.

    Args:
        share: Observed satisfied shares on 0-1 (array).
        trials: The (effective) number of trials N behind each share, > 0.
        confidence: The one-sided level: the bound is exceeded by the truth with probability about
            1 - ``confidence``.

    Returns:
        Upper bounds in [share, 1]; 1 where the share is 1, NaN where an input is NaN.

    Example:
        >>> round(float(midp_upper(96 / 100, 100)), 3)  # 4 unsatisfied of 100
        0.984
    """
    share, n = np.broadcast_arrays(np.asarray(share, dtype=np.float64), np.asarray(trials, dtype=np.float64))
    alpha = 1.0 - confidence
    f = (1.0 - share) * n
    live = (f > 0.0) & (share > 0.0) & np.isfinite(f)
    f_, n_ = np.where(live, f, 1.0), np.where(live, n, 2.0)
    b_first, b_second = n_ - f_ + 1.0, np.maximum(n_ - f_, 1e-12)
    log_first, log_second = _log_beta(f_, b_first), _log_beta(f_ + 1.0, b_second)
    low, high = np.zeros_like(f_), np.ones_like(f_)
    for _ in range(_STEPS):
        middle = (low + high) / 2.0
        tail = 0.5 * (_regularized_beta(middle, f_, b_first, log_first)
                      + _regularized_beta(middle, f_ + 1.0, b_second, log_second))
        above = tail > alpha
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    bound = np.maximum(1.0 - (low + high) / 2.0, share)
    bound = np.where(live, bound, np.where(share >= 1.0, 1.0, share))
    return np.where(np.isnan(share) | np.isnan(n), np.nan, bound)[()]
