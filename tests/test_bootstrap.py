"""The bootstrap-t SIPAS interval of small groups, against a plain recomputation replicate by replicate."""

import math

import numpy as np
import pandas as pd
import pytest

from surveys.bootstrap import MIN_GROUP, REPLICATES, SEED
from surveys.intervals import score_interval
from surveys.scoring import NA_CODE, score

CRITERIA = {"a1": "access", "a2": "access", "s1": "staff", "s2": "staff"}


def _table(n: int, seed: int, unhappy: float = 0.15) -> pd.DataFrame:
    """n forms: mostly 4-5, some respondents unhappy on several criteria, a few NA and skipped answers."""
    rng = np.random.default_rng(seed)
    ratings = rng.choice([4.0, 5.0], size=(n, len(CRITERIA)))
    sad = rng.random(n) < unhappy
    ratings[sad] = rng.choice([1.0, 2.0, 3.0, 4.0], size=(int(sad.sum()), len(CRITERIA)))
    ratings[rng.random(ratings.shape) < 0.05] = NA_CODE
    ratings[rng.random(ratings.shape) < 0.05] = np.nan
    return pd.DataFrame(ratings, columns=list(CRITERIA))


def _sipas_and_se(rows: list[tuple]) -> tuple[float, float]:
    """SIPAS (0-1) and its linearised se from each form's outcomes (0 no answer, 1 not satisfied, 2 satisfied)."""
    k = len(rows[0])
    valid = [sum(r[i] > 0 for r in rows) for i in range(k)]
    shares = {i: sum(r[i] == 2 for r in rows) / valid[i] for i in range(k) if valid[i]}
    sipas = sum(shares.values()) / len(shares)
    z = [sum(((r[i] == 2) - shares[i] * (r[i] > 0)) / valid[i] for i in shares) / len(shares) for r in rows]
    n = len(rows)
    return sipas, math.sqrt(n / (n - 1) * sum(v * v for v in z))


def _outcomes(table: pd.DataFrame) -> list[tuple]:
    codes = table[list(CRITERIA)].to_numpy()
    outcome = np.where(np.isnan(codes) | (codes == NA_CODE), 0, np.where(codes >= 4, 2, 1))
    return [tuple(int(v) for v in row) for row in outcome if row.any()]


def _by_hand(table: pd.DataFrame) -> tuple[float, float]:
    """The module's method written out: sort the forms, resample with the seeded counts, t* per replicate."""
    rows = sorted(_outcomes(table))
    n = len(rows)
    sipas, se = _sipas_and_se(rows)
    counts = np.random.default_rng([SEED, n]).multinomial(n, np.full(n, 1.0 / n), REPLICATES)
    t = []
    for draw in counts:
        resample = [row for row, times in zip(rows, draw, strict=True) for _ in range(times)]
        star, se_star = _sipas_and_se(resample)
        if abs(star - sipas) <= 1e-12:
            t.append(0.0)
        else:  # a resample with no unsatisfied answer has se* = 0: t* is infinite
            t.append((star - sipas) / se_star if se_star > 0 else math.copysign(math.inf, star - sipas))
    t.sort()
    rank = (REPLICATES + 1) // 40  # the 25th of 999 at 95%
    assert math.isfinite(t[-rank]) and math.isfinite(t[rank - 1])  # the tables here are bootstrapped on both ends
    return 100 * (sipas - t[-rank] * se), 100 * (sipas - t[rank - 1] * se)


def test_interval_is_the_bootstrap_t_worked_out_replicate_by_replicate():
    table = _table(40, seed=3, unhappy=0.3)
    row = score(table, CRITERIA, min_n=30).groups.iloc[0]
    low, high = _by_hand(table)
    assert [row["sipas_low"], row["sipas_high"]] == pytest.approx([low, high], abs=1e-9)
    # and it is not the score interval (which leans the other way near the ceiling here)
    sipas, se = _sipas_and_se(_outcomes(table))
    assert row["sipas"] == pytest.approx(100 * sipas)
    plain = score_interval(100 * sipas, 100 * se, 40)
    assert abs(row["sipas_low"] - plain[0]) > 0.1 and row["sipas_low"] < row["sipas"] < row["sipas_high"]


def test_same_answers_same_interval_whatever_the_row_order_and_the_other_groups():
    one, two = _table(60, seed=5).assign(centre="A"), _table(45, seed=6).assign(centre="B")
    alone = score(one, CRITERIA, min_n=30).groups.iloc[0]
    shuffled = pd.concat([two, one], ignore_index=True).sample(frac=1.0, random_state=1)
    together = score(shuffled, CRITERIA, by="centre", min_n=30).groups.set_index("centre").loc["A"]
    # equal up to the last bits of the sums behind SIPAS and its se, which follow the row order
    assert [together["sipas_low"], together["sipas_high"]] == pytest.approx([alone["sipas_low"], alone["sipas_high"]],
                                                                            rel=1e-12)
    assert score(shuffled, CRITERIA, by="centre", min_n=30).groups.equals(
        score(shuffled, CRITERIA, by="centre", min_n=30).groups)  # and the same table twice over


def test_small_groups_under_min_group_and_weighted_estimates_keep_the_score_interval():
    table = _table(MIN_GROUP - 1, seed=3)
    row = score(table, CRITERIA, min_n=0).groups.iloc[0]
    sipas, se = _sipas_and_se(_outcomes(table))
    assert [row["sipas_low"], row["sipas_high"]] == pytest.approx(score_interval(100 * sipas, 100 * se, 29))
    table = _table(40, seed=3)
    weighted = score(table, CRITERIA, min_n=30, weights=np.ones(40)).groups.iloc[0]
    sipas, se = _sipas_and_se(_outcomes(table))
    assert [weighted["sipas_low"], weighted["sipas_high"]] == pytest.approx(score_interval(100 * sipas, 100 * se, 40))


def test_one_unhappy_form_keeps_the_score_lower_end_and_a_width():
    # 39 forms all 5 and one with a 2: 36% of resamples (0.975^40) hold no unsatisfied answer, so t* is +infinity
    # in more than 2.5% of them and the lower end cannot come from the bootstrap: it stays the score interval's,
    # which takes design effect 1 (n_eff = 40) with a single unhappy respondent.
    table = pd.DataFrame(np.full((40, 4), 5.0), columns=list(CRITERIA))
    table.iloc[0, 0] = 2.0
    row = score(table, CRITERIA, min_n=30).groups.iloc[0]
    sipas, se = _sipas_and_se(_outcomes(table))
    low, _ = score_interval(100 * sipas, 100 * se, 40, unhappy=1)
    assert row["sipas_low"] == pytest.approx(low)
    assert low == pytest.approx(score_interval(100 * sipas, 0.0, 40)[0])  # as if Var were 0
    assert low < score_interval(100 * sipas, 100 * se, 40)[0] - 5  # n_eff from se would be about 16 times 40
    assert row["sipas_low"] < row["sipas"] < row["sipas_high"] <= 100


@pytest.mark.parametrize("seed", range(8))
def test_never_empty_and_contains_the_estimate(seed):
    rng = np.random.default_rng(seed)
    table = _table(int(rng.integers(30, 120)), seed=seed, unhappy=float(rng.uniform(0.0, 0.6)))
    row = score(table, CRITERIA, min_n=30).groups.iloc[0]
    assert 0 <= row["sipas_low"] <= row["sipas"] <= row["sipas_high"] <= 100
    assert row["sipas_high"] - row["sipas_low"] > 0
