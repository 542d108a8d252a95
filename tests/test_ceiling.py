"""Element intervals near the ceiling: the reach of the lower end and the one-sided upper end (surveys.ceiling)."""

import numpy as np
import pandas as pd
import pytest

from surveys import intervals
from surveys.ceiling import ceiling_reach, equal_tailed_high, near_ceiling_upper
from surveys.midp import midp_upper
from surveys.scoring import score

FOUR = {"a1": "a", "a2": "a", "a3": "a", "a4": "a"}


def _groups(*forms_per_group: list[list[float]]) -> pd.DataFrame:
    """A responses table, group g holding the forms forms_per_group[g] (ratings of a1..a4, 0 NA, NaN skipped)."""
    rows = [[g, *form] for g, forms in enumerate(forms_per_group) for form in forms]
    return pd.DataFrame(rows, columns=["g", *FOUR])


def _equal_tailed(table: pd.DataFrame, groups: int = 2):
    """The linearised estimates of a table with every answer valid, and score_interval's equal-tailed ends."""
    ratio = intervals.mean_of_ratios(table["g"].to_numpy(), [
        np.where(table[c] >= 4, intervals.SATISFIED, intervals.NOT_SATISFIED) for c in FOUR], [0, 0, 0, 0], groups)
    return ratio, intervals.score_interval(ratio.part_estimate[:, 0], ratio.part_se[:, 0], ratio.part_units[:, 0])


def test_the_reach_is_the_lower_end_of_one_unsatisfied_answer_to_the_most_answered_criterion():
    # 30 forms; a4 has two "không áp dụng", so a1-a3 have V = 30 answers. One rating of 2 to a1:
    # p = 1 - 1/(4 x 30) = 0.991667, n_eff = (120 - 1) 30 (30 - 1) / (30 (30 - 1)) = 119, q = t(0.975, 29) = 2.04523:
    # Wilson's lower end (0.991667 + q²/238) / (1 + q²/119) - half = 0.974964 - 0.023651 = 95.13%
    perfect = [[5, 5, 5, 5]] * 28 + [[5, 5, 5, 0]] * 2
    one_low = [[2, 5, 5, 5], *perfect[1:]]
    elements = score(_groups(perfect, one_low), FOUR, by="g", min_n=0).elements
    reach = float(ceiling_reach(4, 30, 30))
    assert reach == pytest.approx(95.13, abs=0.01)
    assert elements["low"].iloc[1] == pytest.approx(reach, abs=1e-9)
    assert elements["low"].iloc[0] == pytest.approx(100 * 30 / (30 + 2.04523**2), abs=1e-3)  # 87.76
    assert elements["low"].iloc[0] < reach
    assert np.isnan(ceiling_reach(4, 30, 1)) and np.isnan(ceiling_reach(0, 0, 30))


def test_no_answer_pattern_puts_the_lower_end_above_the_reach():
    rng = np.random.default_rng(4)
    groups, sizes = [], []
    for g in range(1500):
        n = int(rng.choice([5, 12, 30, 60]))
        unhappy_person = rng.random((n, 1)) < rng.choice([0.02, 0.1, 0.3])  # a few unhappy forms, correlated
        low_answer = rng.random((n, 4)) < np.where(unhappy_person, 0.6, rng.choice([0.0, 0.005, 0.02]))
        ratings = np.where(low_answer, rng.integers(1, 4, (n, 4)), rng.integers(4, 6, (n, 4))).astype(float)
        cut = rng.random((n, 4))
        ratings[cut < 0.06] = 0.0  # "không áp dụng"
        ratings[(cut >= 0.06) & (cut < 0.1)] = np.nan  # skipped
        if g % 3 == 0:
            ratings[:, 3] = 0.0  # an element of three criteria in this group
        groups.append(ratings.tolist())
        sizes.append(n)
    table = _groups(*groups)
    elements = score(table, FOUR, by="g", min_n=0).elements
    valid = table[list(FOUR)].apply(lambda column: column.between(1, 5))
    per_group = valid.groupby(table["g"])
    k = (per_group.sum() > 0).sum(axis=1).to_numpy()
    largest = per_group.sum().max(axis=1).to_numpy()
    units = per_group.apply(lambda frame: frame.any(axis=1).sum()).to_numpy()
    reach = ceiling_reach(k, largest, units)
    low = elements["low"].to_numpy()
    known = ~np.isnan(low)
    assert known.sum() > 1400
    assert np.all(low[known] <= reach[known] + 1e-9)
    assert np.sum(low[known] > reach[known] - 1e-9) > 20  # the reach is reached: one unsatisfied answer


def test_near_the_ceiling_the_upper_end_is_the_one_sided_mid_p_bound():
    # 30 forms, four ratings of 3 from four people, one criterion each (n_eff = p(1 - p)/Var):
    # the equal-tailed upper end is above the reach (95.13), so the upper end is the mid-p bound at 5%
    forms = [[3, 5, 5, 5], [5, 3, 5, 5], [5, 5, 3, 5], [5, 5, 5, 3]] + [[5, 5, 4, 5]] * 26
    table = _groups(forms, [[5, 3, 2, 4], [3, 2, 4, 4], [5, 5, 1, 4]] * 10)  # the second near 60: unchanged
    scores = score(table, FOUR, by="g", min_n=0).elements
    ratio, (two_low, two_high) = _equal_tailed(table)
    estimate = ratio.part_estimate[0, 0]
    assert estimate == pytest.approx(100 * (1 - 4 / 120))
    trials = intervals.effective_trials(estimate / 100, (ratio.part_se[0, 0] / 100) ** 2, 30)
    expected = 100 * float(midp_upper(estimate / 100, trials))
    assert scores["high"].iloc[0] == pytest.approx(expected, abs=1e-9)
    assert float(ceiling_reach(4, 30, 30)) < expected < two_high[0]  # lower than the equal-tailed end
    assert scores["low"].iloc[0] == pytest.approx(two_low[0], abs=1e-9)  # the lower end is as it was
    assert scores["high"].iloc[1] == pytest.approx(two_high[1], abs=1e-9)  # far from the ceiling: unchanged
    assert scores["index"].iloc[1] < 70


def test_the_rule_keeps_100_for_a_perfect_element_and_is_not_used_for_weighted_estimates():
    perfect = [[5, 5, 5, 5]] * 30
    near = [[3, 5, 5, 5], [5, 3, 5, 5]] + [[5, 5, 5, 5]] * 28
    table = _groups(perfect, near)
    plain = score(table, FOUR, by="g", min_n=0).elements
    weighted = score(table, FOUR, by="g", min_n=0, weights=np.ones(len(table))).elements
    assert plain["high"].iloc[0] == 100.0 and plain["low"].iloc[0] < 100.0
    # two ratings of 3: the mid-p bound (99.59) is above Wilson's equal-tailed end (99.56), too low with
    # so few unsatisfied answers; weighted estimates keep the equal-tailed end
    _, (_, two_high) = _equal_tailed(table)
    assert weighted["high"].iloc[1] == pytest.approx(two_high[1], abs=1e-9)
    assert plain["high"].iloc[1] > two_high[1] + 0.01
    assert plain["low"].tolist() == pytest.approx(weighted["low"].tolist(), abs=1e-9)


def test_the_upper_end_never_falls_below_the_estimate():
    high, one_sided = near_ceiling_upper([99.9, np.nan, 100.0], [99.0, np.nan, 100.0], [0.0001, np.nan, 0.0],
                                         [30, 30, 30], [4, 4, 4], [30, 30, 30])
    assert high[0] >= 99.0 and np.isnan(high[1]) and high[2] == 100.0
    assert one_sided.tolist() == [True, False, False]


def test_an_equal_tailed_reading_of_a_one_sided_end_is_1_96_over_1_645_as_far():
    # 95 with its one-sided end at 98.5: 95 + 3.5 x 1.959964 / 1.644854 = 99.1705; never past 100
    assert float(equal_tailed_high(95.0, 98.5)) == pytest.approx(99.1705, abs=1e-4)
    assert equal_tailed_high(np.array([97.0, 90.0]), np.array([99.9, 90.0])).tolist() == [100.0, 90.0]


@pytest.mark.parametrize(("forms", "na_layout"), [(6, "none"), (6, "staggered"), (9, "one criterion half NA")])
def test_every_pattern_of_up_to_three_unsatisfied_answers_stays_within_the_reach(forms, na_layout):
    # Exhaustive for small groups: every placement of 0-3 ratings of 2 among the valid cells of an element of three
    # criteria (more unsatisfied answers only lower the estimate further below 100)
    from itertools import combinations

    base = np.full((forms, 3), 5.0)
    if na_layout == "staggered":
        base[0, 0] = base[1, 1] = base[2, 2] = 0.0  # "không áp dụng"
    elif na_layout == "one criterion half NA":
        base[: forms // 2, 2] = 0.0
    cells = [(r, c) for r in range(forms) for c in range(3) if base[r, c] == 5.0]
    groups = []
    for count in range(4):
        for chosen in combinations(cells, count):
            ratings = base.copy()
            for r, c in chosen:
                ratings[r, c] = 2.0
            groups.append(np.column_stack([ratings, np.full(forms, 5.0)]).tolist())  # a4: the other element
    table = _groups(*groups)
    three = {"a1": "a", "a2": "a", "a3": "a", "a4": "b"}
    elements = score(table, three, by="g", min_n=0).elements
    low = elements.loc[elements["element"] == "a", "low"].to_numpy()
    valid = (base >= 1).sum(axis=0)
    reach = float(ceiling_reach(3, valid.max(), forms))
    assert len(low) == len(groups) > 500
    assert low.max() <= reach + 1e-9
    assert low.max() == pytest.approx(reach, abs=1e-9)  # one unsatisfied answer to the most answered criterion
