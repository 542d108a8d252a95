"""Intervals: Wilson against textbook values, and the linearised SIPAS interval against a bootstrap."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.intervals import (
    NO_ANSWER,
    NOT_SATISFIED,
    SATISFIED,
    mean_of_ratios,
    normal_interval,
    normal_quantile,
    score_interval,
    student_quantile,
    wilson_interval,
)
from surveys.ratings import OUTCOME, cell_codes
from surveys.scoring import score


def test_normal_quantile():
    assert normal_quantile(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert normal_quantile(0.90) == pytest.approx(1.644854, abs=1e-6)
    assert normal_quantile(0.99) == pytest.approx(2.575829, abs=1e-6)
    for bad in (0.0, 1.0, -0.5, 95):
        with pytest.raises(ValueError):
            normal_quantile(bad)


def test_student_quantile_against_tables():
    # t tables (two-sided 95%, 99%): df 1 12.706, 2 4.303, 3 3.182, 4 2.776, 9 2.262, 29 2.045, 120 1.980
    df = np.array([1, 2, 3, 4, 9, 29, 120])
    expected = [12.7062, 4.3027, 3.1824, 2.7764, 2.2622, 2.0452, 1.9799]
    assert student_quantile(0.95, df) == pytest.approx(expected, abs=1e-4)
    assert student_quantile(0.99, np.array([3, 10])) == pytest.approx([5.8409, 3.1693], abs=1e-4)
    assert math.isnan(student_quantile(0.95, 0))
    assert student_quantile(0.95, 1e9) == pytest.approx(normal_quantile(0.95))


def test_score_interval_near_the_bounds_and_in_the_middle():
    # Every answer 4-5 (p = 1, Var = 0): design effect 1, low = n / (n + t^2): never zero width.
    low, high = score_interval(np.array([100.0, 0.0]), np.array([0.0, 0.0]), np.array([30, 30]))
    assert low.tolist() == pytest.approx([100 * 30 / (30 + 2.045230**2), 0.0]) and high[0] == 100.0
    assert high[1] == pytest.approx(100 - low[0])  # mirrored at 0
    # Near the ceiling it leans down: more room below the estimate than above.
    low, high = score_interval(96.0, 1.5, 100)
    assert 96.0 - low > high - 96.0 > 0 and high < 100
    # In the middle and with many respondents it is the t interval estimate ± t * se.
    low, high = score_interval(50.0, 1.0, 2000)
    assert (low, high) == pytest.approx((50 - 1.9612, 50 + 1.9612), abs=0.01)
    # One unhappy respondent (every rating of 1-3 on one form): design effect 1, whatever se says; two: se counts.
    one = score_interval(np.array([99.0, 99.0]), np.array([0.2, 0.2]), 30, unhappy=np.array([1, 2]))
    assert [one[0][0], one[1][0]] == pytest.approx(score_interval(99.0, 0.0, 30))
    assert [one[0][1], one[1][1]] == pytest.approx(score_interval(99.0, 0.2, 30))
    assert one[0][0] < 92 < 97 < one[0][1]  # n_eff 30, not 0.99 * 0.01 / 0.002² = 2475
    # No variance without two respondents; NaN in, NaN out.
    for estimate, se, units in ((80.0, np.nan, 1), (np.nan, 1.0, 10), (80.0, 2.0, 1)):
        assert all(math.isnan(v) for v in score_interval(estimate, se, units))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.floats(min_value=0, max_value=30), st.integers(2, 5000))
def test_score_interval_contains_the_estimate_and_is_never_empty(hundredths, se, units):
    estimate = hundredths / 100  # SIPAS in steps of 0.01, any standard error (even one rounding made tiny)
    low, high = score_interval(estimate, se, units)
    assert 0.0 <= low <= estimate <= high <= 100.0
    assert high - low > 0


def test_wilson_textbook_values():
    # 8/10 at 95%: p = 0.8, z^2 = 3.8415; centre (0.8 + 0.19207) / 1.38415 = 0.71681,
    # half 1.95996 / 1.38415 * sqrt(0.016 + 0.0096037) = 1.41600 * 0.16001 = 0.22658 -> 49.02 .. 94.34
    low, high = wilson_interval(8, 10)
    assert float(low) == pytest.approx(49.02, abs=0.01)
    assert float(high) == pytest.approx(94.34, abs=0.01)
    # 0/10: the upper bound is z^2 / (n + z^2) = 3.8415 / 13.8415 = 27.75 %; 10/10 mirrors it.
    low, high = wilson_interval(0, 10)
    assert (float(low), float(high)) == pytest.approx((0.0, 27.75), abs=0.01)
    low, high = wilson_interval(10, 10)
    assert (float(low), float(high)) == pytest.approx((72.25, 100.0), abs=0.01)
    # Newcombe (1998), Statistics in Medicine 17:857-872, worked examples, score method without continuity
    # correction: 81/263 -> 0.2553-0.3662, 15/148 -> 0.0624-0.1605, 0/20 -> 0-0.1611, 1/29 -> 0.0061-0.1718.
    for successes, trials, expected in [
        (81, 263, (25.53, 36.62)),
        (15, 148, (6.24, 16.05)),
        (0, 20, (0.0, 16.11)),
        (1, 29, (0.61, 17.18)),
    ]:
        low, high = wilson_interval(successes, trials)
        assert (float(low), float(high)) == pytest.approx(expected, abs=0.006)


def test_wilson_is_vectorised_and_null_without_trials():
    successes = np.array([[8, 0], [0, 3]])
    trials = np.array([[10, 10], [0, 3]])
    low, high = wilson_interval(successes, trials)
    assert low.shape == high.shape == (2, 2)
    assert low[0, 0] == pytest.approx(49.02, abs=0.01)
    assert math.isnan(low[1, 0]) and math.isnan(high[1, 0])
    assert high[1, 1] == 100.0
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(-1, 4)


def test_wilson_higher_confidence_is_wider():
    low95, high95 = wilson_interval(30, 50, 0.95)
    low99, high99 = wilson_interval(30, 50, 0.99)
    assert low99 < low95 < 60 < high95 < high99


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=100_000), st.floats(min_value=0, max_value=1))
def test_wilson_contains_the_estimate(trials, share):
    successes = round(share * trials)
    low, high = wilson_interval(successes, trials)
    estimate = 100 * successes / trials
    assert 0.0 <= low <= estimate <= high <= 100.0


def test_wilson_width_shrinks_as_one_over_root_n():
    for share in (0.3, 0.5, 0.85):
        widths = []
        for n in (400, 1600):
            low, high = wilson_interval(share * n, n)
            widths.append(high - low)
        assert widths[1] / widths[0] == pytest.approx(0.5, abs=0.02)


def test_mean_of_ratios_by_hand():
    # Two criteria in two parts, six respondents (the same table as tests/test_scoring.py):
    #   part 0: S 2, V 4 (respondents 0, 1 satisfied; 2, 4 not); part 1: S 2, V 3 (3, 4 satisfied; 0 not)
    a = np.array([SATISFIED, SATISFIED, NOT_SATISFIED, NO_ANSWER, NOT_SATISFIED, NO_ANSWER])
    b = np.array([NOT_SATISFIED, NO_ANSWER, NO_ANSWER, SATISFIED, SATISFIED, NO_ANSWER])
    result = mean_of_ratios(np.zeros(6, dtype=int), [a, b], [0, 1], 1)
    assert result.units.tolist() == [5]
    assert result.part_units.tolist() == [[4, 3]]
    assert result.estimate[0] == pytest.approx(175 / 3)
    assert result.part_estimate[0] == pytest.approx([50.0, 200 / 3])
    # sum z^2 = 0.0133102 (worked out in tests/test_scoring.py); se = 100 * sqrt(5/4 * 0.0133102)
    assert result.se[0] == pytest.approx(12.8987, abs=1e-4)
    # One criterion: se = sqrt(p (1 - p) / (n - 1)): sqrt(0.25 / 3) and sqrt((2/9) / 2)
    assert result.part_se[0] == pytest.approx([100 * math.sqrt(0.25 / 3), 100 / 3])


def test_mean_of_ratios_groups_and_small_n():
    # Group 0: one respondent (se undefined); group 1: nobody answered (estimate undefined).
    group = np.array([0, 1, 1])
    outcome = np.array([SATISFIED, NO_ANSWER, NO_ANSWER])
    result = mean_of_ratios(group, [outcome], [0], 2)
    assert result.estimate[0] == 100.0
    assert math.isnan(result.se[0])
    assert math.isnan(result.estimate[1]) and math.isnan(result.se[1])
    assert result.units.tolist() == [1, 0]
    low, high = normal_interval(result.estimate, result.se)
    assert math.isnan(low[0]) and math.isnan(high[1])
    with pytest.raises(ValueError):
        mean_of_ratios(group, [outcome], [0, 1], 2)


def _survey(rng: np.random.Generator, respondents: int) -> pd.DataFrame:
    """Six criteria with answers correlated within a respondent, some skipped and some not applicable."""
    latent = rng.normal(size=(respondents, 1))
    ratings = np.clip(np.round(4.0 + 0.9 * latent + 0.8 * rng.normal(size=(respondents, 6))), 1, 5)
    u = rng.random((respondents, 6))
    ratings[u < 0.12] = np.nan
    ratings[(u >= 0.12) & (u < 0.18)] = 0
    ratings[:, 5][rng.random(respondents) < 0.5] = 0  # a feedback item that often does not apply
    return pd.DataFrame(ratings, columns=list(CRITERIA6))


CRITERIA6 = {"a_1": "a", "a_2": "a", "a_3": "a", "b_1": "b", "b_2": "b", "b_3": "b"}


def _bootstrap_se(table: pd.DataFrame, rng: np.random.Generator, resamples: int) -> tuple[float, list[float]]:
    """Respondent-level bootstrap of SIPAS and the two element indices (vectorised over resamples)."""
    values = table.to_numpy()
    valid = (values >= 1) & (values <= 5)
    satisfied = valid & (values >= 4)
    index = rng.integers(0, len(table), size=(resamples, len(table)))
    v = valid[index].sum(axis=1)  # (resamples, criteria)
    s = satisfied[index].sum(axis=1)
    p = 100 * s / v  # every criterion has well over 50 answers, so V > 0 in every resample
    elements = [float(p[:, :3].mean(axis=1).std(ddof=1)), float(p[:, 3:].mean(axis=1).std(ddof=1))]
    return float(p.mean(axis=1).std(ddof=1)), elements


def _linearised(table: pd.DataFrame, group=None, groups: int = 1):
    """mean_of_ratios on a responses table with the CRITERIA6 layout (parts a and b)."""
    outcomes = [np.take(OUTCOME, cell_codes(table[code]), mode="clip") for code in CRITERIA6]
    group = np.zeros(len(table), dtype=int) if group is None else group
    return mean_of_ratios(group, outcomes, [0, 0, 0, 1, 1, 1], groups)


def test_linearised_interval_agrees_with_bootstrap():
    rng = np.random.default_rng(20240601)
    table = _survey(rng, 200)
    ratios = _linearised(table)
    boot_sipas, boot_elements = _bootstrap_se(table, rng, 4000)
    # The variance the interval is built on: within 10% of the bootstrap (4,000 resamples: about 2% noise).
    assert ratios.se[0] == pytest.approx(boot_sipas, rel=0.10)
    assert ratios.part_se[0] == pytest.approx(boot_elements, rel=0.10)
    # The reported intervals use it: away from the bounds they are about estimate ± t(199) * se.
    result = score(table, CRITERIA6, min_n=30)
    row = result.groups.iloc[0]
    linearised = (row["sipas_high"] - row["sipas_low"]) / (2 * student_quantile(0.95, 199))
    assert row["sipas_low"] < row["sipas"] < row["sipas_high"]
    assert linearised == pytest.approx(ratios.se[0], rel=0.05)
    for (_, element), boot in zip(result.elements.iterrows(), boot_elements, strict=True):
        assert element["low"] < element["index"] < element["high"]
        assert (element["high"] - element["low"]) / (2 * normal_quantile(0.95)) == pytest.approx(boot, rel=0.15)
    # Correlated answers: the respondent-level interval is wider than one treating answers as independent.
    answers = result.criteria
    naive = math.sqrt((answers["satisfied_pct"] * (100 - answers["satisfied_pct"]) / answers["n"]).sum()) / 6
    assert linearised > 1.2 * naive


def test_linearised_se_is_not_biased_over_many_surveys():
    # Over 300 simulated surveys of 150 respondents the mean linearised se tracks the spread of SIPAS.
    rng = np.random.default_rng(7)
    tables = [_survey(rng, 150).assign(survey=k) for k in range(300)]
    table = pd.concat(tables, ignore_index=True)
    ratios = _linearised(table, table["survey"].to_numpy(), 300)
    assert ratios.se.mean() == pytest.approx(ratios.estimate.std(ddof=1), rel=0.10)
