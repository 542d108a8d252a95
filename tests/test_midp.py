"""The incomplete beta function and the mid-p bound of surveys.midp against exact sums and closed forms."""

import math

import numpy as np
import pytest

from surveys.midp import midp_upper, regularized_beta


def _binomial_at_least(f: int, n: int, pi: float) -> float:
    """P(X >= f) for X ~ Binomial(n, pi), summed exactly in plain Python."""
    return sum(math.comb(n, x) * pi**x * (1 - pi) ** (n - x) for x in range(f, n + 1))


@pytest.mark.parametrize(("n", "f", "pi"), [(4, 2, 0.5), (30, 1, 0.01), (30, 5, 0.02), (84, 4, 0.0163),
                                            (120, 60, 0.55), (400, 3, 0.001), (400, 390, 0.97)])
def test_the_incomplete_beta_is_the_binomial_tail_for_whole_counts(n, f, pi):
    # I_pi(f, n - f + 1) = P(X >= f); the last two cases take the symmetric side of the continued fraction
    assert float(regularized_beta(pi, f, n - f + 1)) == pytest.approx(_binomial_at_least(f, n, pi), rel=1e-10,
                                                                       abs=1e-15)


def test_the_incomplete_beta_matches_closed_forms_for_fractional_shapes():
    x = np.array([0.001, 0.05, 0.3, 0.5, 0.8, 0.999])
    assert regularized_beta(x, 0.5, 0.5) == pytest.approx(2 / math.pi * np.arcsin(np.sqrt(x)), rel=1e-10)
    assert regularized_beta(x, 2.7, 1.0) == pytest.approx(x**2.7, rel=1e-10)
    assert regularized_beta(x, 1.0, 13.3) == pytest.approx(1 - (1 - x) ** 13.3, rel=1e-10)
    assert regularized_beta(np.array([0.0, 1.0]), 3.0, 4.0).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(("failures", "trials"), [(1, 30), (4, 84), (5, 84), (2, 9), (12, 400)])
def test_the_mid_p_bound_solves_its_equation_for_whole_counts(failures, trials):
    # by bisection on the exact binomial sums: ½ P(X >= f) + ½ P(X >= f + 1) = 0.05 at the lower bound of the
    # unsatisfied share
    low, high = 0.0, failures / trials
    for _ in range(80):
        middle = (low + high) / 2
        tail = (_binomial_at_least(failures, trials, middle) + _binomial_at_least(failures + 1, trials, middle)) / 2
        low, high = (low, middle) if tail > 0.05 else (middle, high)
    share = 1 - failures / trials
    assert float(midp_upper(share, trials)) == pytest.approx(1 - (low + high) / 2, abs=1e-10)


def test_the_mid_p_bound_lies_between_the_share_and_one_and_falls_with_more_failures():
    trials = np.full(7, 84.0)
    shares = 1 - np.arange(7) / 84
    bounds = midp_upper(shares, trials)
    assert bounds[0] == 1.0  # nothing unsatisfied: no bound below 1
    assert np.all(bounds >= shares) and np.all(bounds <= 1)
    assert np.all(np.diff(bounds) < 0)
    # four of 84: between Wilson's one-sided end (too low with few failures) and the exact Clopper-Pearson one
    p, n, z = 80 / 84, 84, 1.6448536
    wilson = (p + z * z / (2 * n) + z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    low, high = 0.0, 4 / 84
    for _ in range(80):  # P(X >= 4 | pi) = 0.05
        middle = (low + high) / 2
        low, high = (low, middle) if _binomial_at_least(4, 84, middle) > 0.05 else (middle, high)
    exact = 1 - (low + high) / 2
    assert wilson + 0.002 < float(bounds[4]) < exact - 0.002  # 0.97845 < 0.98091 < 0.98357
    assert np.isnan(midp_upper(np.nan, 30)) and np.isnan(midp_upper(0.9, np.nan))


def test_the_mid_p_bound_holds_its_level_for_independent_answers():
    # averaged over true shares from 0.9 to 0.995, a one-sided 95% mid-p bound misses close to 5%
    rng = np.random.default_rng(11)
    truths = rng.uniform(0.9, 0.995, 40_000)
    failures = rng.binomial(84, 1 - truths)
    bounds = midp_upper(1 - failures / 84, np.full(truths.shape, 84.0))
    miss = np.mean(bounds < truths)
    assert 0.035 < miss < 0.06
