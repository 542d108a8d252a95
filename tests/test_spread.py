"""surveys.spread: the difference of two estimates, and the distribution an interval implies."""

import math

import numpy as np
import pytest

from surveys.spread import difference_interval, probability_above, two_piece_draws

Z = 1.959963984540054


def test_mover_reduces_to_the_normal_difference_for_symmetric_intervals():
    # se 2 and 3: the normal interval of the difference is 6 ± 1.96 * sqrt(4 + 9)
    change, low, high = difference_interval(86.0, 86 - 2 * Z, 86 + 2 * Z, 80.0, 80 - 3 * Z, 80 + 3 * Z)
    assert change == pytest.approx(6.0)
    assert (low, high) == pytest.approx((6 - Z * math.sqrt(13), 6 + Z * math.sqrt(13)))


def test_mover_uses_each_side_of_an_asymmetric_interval():
    # The later estimate sits at the ceiling: it cannot have been higher, so the difference cannot be much higher.
    change, low, high = difference_interval(100.0, 88.6, 100.0, 90.0, 86.0, 93.0)
    assert change == pytest.approx(10.0)
    assert low == pytest.approx(10 - math.hypot(11.4, 3.0))
    assert high == pytest.approx(10 + 4.0)  # only the earlier estimate's lower side: 10 + sqrt(0 + 4**2)
    nan = difference_interval(np.nan, 1.0, 2.0, 1.0, 0.5, 1.5)
    assert all(math.isnan(v) for v in nan)


def test_probability_above_agrees_with_the_draws():
    rng = np.random.default_rng(5)
    estimate, low, high = np.array([84.0, 100.0, 60.0]), np.array([80.0, 88.6, 50.0]), np.array([87.9, 100.0, 75.0])
    draws = two_piece_draws(estimate, low, high, 200_000, rng)
    assert draws.shape == (200_000, 3)
    assert draws.min() >= 0.0 and draws.max() <= 100.0
    for threshold in (55.0, 82.0, 90.0, 97.0):
        expected = (draws > threshold).mean(axis=0)
        assert probability_above(threshold, estimate, low, high) == pytest.approx(expected, abs=0.005)
    # A symmetric interval is the plain normal: P(above the low end) = 97.5 %.
    assert probability_above(84 - 2 * Z, 84.0, 84 - 2 * Z, 84 + 2 * Z) == pytest.approx(0.975, abs=1e-6)
    assert probability_above(100.0, 100.0, 88.6, 100.0) == 0.0  # nothing is above 100
    assert math.isnan(probability_above(90.0, np.nan, np.nan, np.nan))
