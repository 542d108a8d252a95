"""SIPAS measures (docs/sipas.md, "Measures, per group") on small literal tables worked out by hand."""

import ast
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surveys.intervals
import surveys.ratings
import surveys.scoring
from surveys.instrument import NOT_APPLICABLE, SKIPPED
from surveys.scoring import NA_CODE, Scores, answers_frame, score

nan = np.nan
CRITERIA = {"access_1": "access", "staff_1": "staff"}

# Two criteria, two elements; 0 = not applicable, NaN = skipped.
#
#   row  access_1  staff_1   valid answers   any 1-2?
#   r1   5         2         2               yes (staff 2)
#   r2   4         NA        1               no
#   r3   3         skipped   1               no
#   r4   skipped   4         1               no
#   r5   1         5         2               yes (access 1)
#   r6   NA        skipped   0  -> not in n
#
# access_1: valid 5,4,3,1 -> n 4; satisfied 2/4 = 50; neutral 1/4 = 25; dissatisfied 1/4 = 25;
#           mean 13/4 = 3.25; na_n 1 (r6); skipped_n 1 (r4)
# staff_1:  valid 2,4,5 -> n 3; satisfied 2/3 = 66.67; neutral 0; dissatisfied 1/3 = 33.33;
#           mean 11/3 = 3.667; na_n 1 (r2); skipped_n 2 (r3, r6)
# elements: access 50, staff 66.67; sipas = (50 + 66.67) / 2 = 58.33
# n = 5 (r1..r5); no_dissatisfied_pct = 3/5 = 60 (r2, r3, r4)
HAND = pd.DataFrame(
    {"access_1": [5, 4, 3, nan, 1, NA_CODE], "staff_1": [2, NA_CODE, nan, 4, 5, nan]}
)


def test_two_criteria_two_elements_by_hand():
    result = score(HAND, CRITERIA, min_n=1)
    assert isinstance(result, Scores)

    groups = result.groups
    assert list(groups.columns) == [
        "n", "suppressed", "sipas", "sipas_low", "sipas_high", "no_dissatisfied_pct", "no_dissatisfied_low",
        "no_dissatisfied_high",
    ]  # fmt: skip
    assert len(groups) == 1
    row = groups.iloc[0]
    assert row["n"] == 5
    assert not row["suppressed"]
    assert row["sipas"] == pytest.approx((50 + 200 / 3) / 2)
    assert row["no_dissatisfied_pct"] == pytest.approx(60.0)
    assert row["sipas_low"] < row["sipas"] < row["sipas_high"]
    # Wilson 95% for 3/5: centre (0.6 + 0.38415) / 1.76829 = 0.55655,
    # half 1.95996 / 1.76829 * sqrt(0.24/5 + 3.8415/100) = 1.10839 * 0.29397 = 0.32583 -> 23.07 .. 88.24
    assert [row["no_dissatisfied_low"], row["no_dissatisfied_high"]] == pytest.approx([23.07, 88.24], abs=0.01)

    elements = result.elements
    assert list(elements.columns) == ["element", "index", "low", "high", "one_sided"]
    assert elements["element"].tolist() == ["access", "staff"]
    assert elements["index"].tolist() == pytest.approx([50.0, 200 / 3])

    crit = result.criteria.set_index("code")
    assert list(result.criteria.columns) == [
        "code", "element", "n", "satisfied_pct", "neutral_pct", "dissatisfied_pct",
        "mean", "ci_low", "ci_high", "na_n", "skipped_n",
    ]  # fmt: skip
    assert crit.loc["access_1", ["n", "na_n", "skipped_n"]].tolist() == [4, 1, 1]
    assert crit.loc["staff_1", ["n", "na_n", "skipped_n"]].tolist() == [3, 1, 2]
    shares = ["satisfied_pct", "neutral_pct", "dissatisfied_pct"]
    assert crit.loc["access_1", shares].tolist() == pytest.approx([50.0, 25.0, 25.0])
    assert crit.loc["staff_1", shares].tolist() == pytest.approx([200 / 3, 0.0, 100 / 3])
    assert crit.loc["access_1", "mean"] == pytest.approx(3.25)
    assert crit.loc["staff_1", "mean"] == pytest.approx(11 / 3)
    assert crit.loc["staff_1", "element"] == "staff"
    # Wilson 95% for 2/4: centre (0.5 + 3.8415/8) / (1 + 3.8415/4) = 0.5,
    # half 1.96 / 1.9604 * sqrt(0.25/4 + 3.8415/64) = 0.9998 * 0.3501 = 0.3500 -> 15.00 .. 85.00
    assert crit.loc["access_1", "ci_low"] == pytest.approx(15.00, abs=0.01)
    assert crit.loc["access_1", "ci_high"] == pytest.approx(85.00, abs=0.01)


def test_sipas_interval_by_hand():
    # z_r = 1/2 [(x_ra - 0.5 v_ra)/4 + (x_rs - 2/3 v_rs)/3]:
    #   r1 (0.125 - 0.2222)/2 = -0.04861, r2 0.0625, r3 -0.0625, r4 0.1111/2 = 0.05556,
    #   r5 (-0.125 + 0.1111)/2 = -0.00694, r6 0
    # sum z^2 = 0.0023630 + 0.0039063 + 0.0039063 + 0.0030864 + 0.0000482 = 0.0133102
    # Var = 5/4 * 0.0133102 = 0.0166377 (se 12.899). Score interval on the effective sample size:
    # n_eff = p (1 - p) / Var = 0.583333 * 0.416667 / 0.0166377 = 14.6087; q = t(0.975, n - 1 = 4) = 2.776445,
    # q^2 = 7.708647, q^2 / n_eff = 0.527676; centre (0.583333 + 0.263838) / 1.527676 = 0.554549;
    # half 2.776445 / 1.527676 * sqrt(0.0166377 + 7.708647 / (4 * 14.6087^2)) = 1.817430 * 0.160211 = 0.291173
    row = score(HAND, CRITERIA, min_n=1).groups.iloc[0]
    assert row["sipas_low"] == pytest.approx(26.34, abs=0.01)
    assert row["sipas_high"] == pytest.approx(84.57, abs=0.01)
    # One criterion per element: Var = p(1 - p)/(n - 1), so n_eff = n - 1. Staff 2/3 of 3: n_eff 2,
    # q = t(0.975, 2) = 4.302653, q^2 / n_eff = 9.2564: centre (0.666667 + 4.6282) / 10.2564 = 0.51624,
    # half 4.302653 / 10.2564 * sqrt(0.111111 + 18.5128 / 16) = 0.41951 * 1.12613 = 0.47242 -> 4.38 .. 98.87.
    # No sample of 3 answers gets a lower end above 3 / (3 + q²) = 13.94% (all satisfied; surveys.ceiling), so
    # above it the test is one-sided: the upper end is the mid-p bound for 2/3 unsatisfied of n_eff = 2,
    # ½ I_pi(2/3, 7/3) + ½ I_pi(5/3, 4/3) = 0.05 at pi = 0.012398 (scipy.special.betainc when written): 98.76
    staff = score(HAND, CRITERIA, min_n=1).elements.iloc[1]
    assert [staff["low"], staff["high"]] == pytest.approx([4.38, 98.76], abs=0.01)


def test_thirty_perfect_forms_do_not_outrank_three_hundred_at_96_6():
    # 30 forms rating all five criteria 5: SIPAS 100, Var 0, so design effect 1 (n_eff = 30) and the interval is
    # [30 / (30 + t(0.975, 29)^2), 100] = [30 / 34.183, 100] = [87.76, 100]: wide, never [100, 100].
    criteria = {f"c_{i}": f"e{i % 2}" for i in range(5)}
    perfect = pd.DataFrame({code: [5] * 30 for code in criteria}).assign(centre="A")
    # 300 forms, 51 of them with one criterion rated 3 (cycling through the five): 1 - 51 / 1500 = 96.6%.
    ratings = np.full((300, 5), 5)
    ratings[np.arange(51), np.arange(51) % 5] = 3
    good = pd.DataFrame(ratings, columns=list(criteria)).assign(centre="B")
    groups = score(pd.concat([perfect, good], ignore_index=True), criteria, by="centre").groups.set_index("centre")
    assert groups.loc["A", ["sipas", "sipas_low", "sipas_high"]].tolist() == pytest.approx([100.0, 87.76, 100.0],
                                                                                           abs=0.01)
    assert groups.loc["A", "sipas_high"] - groups.loc["A", "sipas_low"] > 10
    assert groups.loc["B", "sipas"] == pytest.approx(96.6)
    assert groups.loc["B", "sipas_low"] > 95 > groups.loc["A", "sipas_low"]  # B ranks first on the lower bound


def test_criterion_nobody_answered_is_null_and_left_out():
    criteria = {"access_1": "access", "access_2": "access", "feedback_1": "feedback"}
    table = pd.DataFrame(
        {
            "access_1": [5, 4, 2, 1],  # 2/4 satisfied = 50
            "access_2": [nan, NA_CODE, nan, nan],  # nobody answered
            "feedback_1": [NA_CODE, NA_CODE, nan, NA_CODE],  # nobody answered
        }
    )
    result = score(table, criteria, min_n=1)
    crit = result.criteria.set_index("code")
    for code in ("access_2", "feedback_1"):
        assert crit.loc[code, "n"] == 0
        for column in ("satisfied_pct", "neutral_pct", "dissatisfied_pct", "mean", "ci_low", "ci_high"):
            assert math.isnan(crit.loc[code, column])
    assert crit.loc["access_2", ["na_n", "skipped_n"]].tolist() == [1, 3]
    assert crit.loc["feedback_1", ["na_n", "skipped_n"]].tolist() == [3, 1]
    elements = result.elements.set_index("element")
    assert elements.loc["access", "index"] == pytest.approx(50.0)  # access_2 left out, not counted as 0
    assert elements.loc["feedback", ["index", "low", "high"]].isna().all() and not elements.loc["feedback", "one_sided"]
    assert result.groups.loc[0, "sipas"] == pytest.approx(50.0)
    assert result.groups.loc[0, "n"] == 4


def test_group_below_min_n_is_suppressed_next_to_one_above():
    table = pd.DataFrame(
        {
            "centre": ["Y", "X", "X", "Y", "X"],
            "access_1": [5, 4, 5, 0, 2],
            "staff_1": [nan, 5, 3, 4, nan],
        }
    )
    result = score(table, CRITERIA, by=["centre"], min_n=3)
    groups = result.groups
    assert groups["centre"].tolist() == ["X", "Y"]  # sorted key order
    assert groups["n"].tolist() == [3, 2]
    assert groups["suppressed"].tolist() == [False, True]
    # X: access 4,5,2 -> 66.67; staff 5,3 -> 50; sipas 58.33; r with 2 -> no_dissatisfied 2/3
    assert groups.loc[0, "sipas"] == pytest.approx((200 / 3 + 50) / 2)
    assert groups.loc[0, "no_dissatisfied_pct"] == pytest.approx(200 / 3)
    assert groups.loc[1, ["sipas", "sipas_low", "sipas_high", "no_dissatisfied_pct"]].isna().all()

    elements = result.elements
    assert elements["centre"].tolist() == ["X", "X", "Y", "Y"]
    assert elements.loc[elements["centre"] == "X", "index"].notna().all()
    assert elements.loc[elements["centre"] == "Y", ["index", "low", "high"]].isna().all().all()

    crit = result.criteria.set_index(["centre", "code"])
    # Y keeps its counts: access_1 5 (valid) and NA; staff_1 skipped and 4.
    assert crit.loc[("Y", "access_1"), ["n", "na_n", "skipped_n"]].tolist() == [1, 1, 0]
    assert crit.loc[("Y", "staff_1"), ["n", "na_n", "skipped_n"]].tolist() == [1, 0, 1]
    measures = ["satisfied_pct", "neutral_pct", "dissatisfied_pct", "mean", "ci_low", "ci_high"]
    assert crit.loc["Y", measures].isna().all().all()
    assert crit.loc["X", measures].notna().all().all()


def test_object_columns_with_na_strings_and_none_match_numeric():
    numeric = pd.DataFrame({"access_1": [5, 0, nan, 3, 0], "staff_1": [0, 2, 4, nan, 5]})
    as_objects = pd.DataFrame(
        {
            "access_1": pd.Series([5, "NA", None, "3", "na"], dtype=object),
            "staff_1": pd.Series([" Na ", 2.0, np.int64(4), "", Decimal(5)], dtype=object),
        }
    )
    strings = pd.DataFrame({"access_1": ["5", "NA", None, "3", "nA"], "staff_1": ["na", "2", "4", None, "5"]})
    expected = score(numeric, CRITERIA, min_n=1)
    for table in (as_objects, strings):
        got = score(table, CRITERIA, min_n=1)
        pd.testing.assert_frame_equal(got.groups, expected.groups)
        pd.testing.assert_frame_equal(got.elements, expected.elements)
        pd.testing.assert_frame_equal(got.criteria, expected.criteria)
    crit = expected.criteria.set_index("code")
    assert crit.loc["access_1", ["n", "na_n", "skipped_n"]].tolist() == [2, 2, 1]


def test_invalid_values_count_nowhere():
    table = pd.DataFrame(
        {
            "access_1": pd.Series([5, 7, -1, 2.5, "x", {}, 1], dtype=object),
            "staff_1": [4.0, 6.0, nan, 0.0, nan, -3.0, 99.0],
        }
    )
    crit = score(table, CRITERIA, min_n=1).criteria.set_index("code")
    # access_1: only 5 and 1 are valid; nothing is NA or skipped.
    assert crit.loc["access_1", ["n", "na_n", "skipped_n"]].tolist() == [2, 0, 0]
    assert crit.loc["access_1", "mean"] == pytest.approx(3.0)
    # staff_1: 4 valid, one NA, two skipped; 6, -3 and 99 are nowhere.
    assert crit.loc["staff_1", ["n", "na_n", "skipped_n"]].tolist() == [1, 1, 2]
    groups = score(table, CRITERIA, min_n=1).groups
    assert groups.loc[0, "n"] == 2  # rows 0 and 6; the rows with only invalid answers are not respondents
    assert groups.loc[0, "no_dissatisfied_pct"] == pytest.approx(50.0)  # row 6 rated access 1


def test_null_group_key_is_kept_and_sorted_last():
    table = pd.DataFrame(
        {
            "centre": ["B", None, "A", "B", None],
            "month": [1, 1, 1, 1, 2],
            "access_1": [5, 4, 3, 1, 5],
            "staff_1": [nan] * 5,
        }
    )
    groups = score(table, CRITERIA, by=["centre"], min_n=1).groups
    assert groups["centre"].iloc[:2].tolist() == ["A", "B"]
    assert pd.isna(groups["centre"].iloc[2])
    assert groups["n"].tolist() == [1, 2, 2]
    assert groups["sipas"].tolist() == pytest.approx([0.0, 50.0, 100.0])
    assert int(groups["n"].sum()) == len(table)

    two_keys = score(table, CRITERIA, by=("centre", "month"), min_n=1).groups
    assert two_keys["centre"].isna().tolist() == [False, False, True, True]
    assert two_keys["month"].tolist() == [1, 1, 1, 2]
    assert two_keys["n"].tolist() == [1, 2, 1, 1]


def test_grouping_by_a_single_string_and_element_order():
    criteria = {"staff_1": "staff", "access_1": "access", "staff_2": "staff"}
    table = pd.DataFrame({"centre": ["A", "A"], "staff_1": [4, 5], "access_1": [1, 2], "staff_2": [3, 3]})
    result = score(table, criteria, by="centre", min_n=1)
    assert result.elements["element"].tolist() == ["staff", "access"]  # first appearance in criteria
    assert result.criteria["code"].tolist() == ["staff_1", "access_1", "staff_2"]
    assert result.elements["index"].tolist() == pytest.approx([50.0, 0.0])
    assert result.groups.loc[0, "sipas"] == pytest.approx(100 / 3)


def test_a_criterion_without_a_column_was_never_asked():
    # staff_1 has no column: every row skipped it. access 5, 4, 2 -> 2/3 satisfied; one row has a 2.
    result = score(pd.DataFrame({"access_1": [5, 4, 2]}), CRITERIA, min_n=1)
    crit = result.criteria.set_index("code")
    assert crit.loc["staff_1", ["n", "na_n", "skipped_n"]].tolist() == [0, 0, 3]
    assert math.isnan(crit.loc["staff_1", "satisfied_pct"])
    assert crit.loc["access_1", ["n", "satisfied_pct"]].tolist() == pytest.approx([3, 200 / 3])
    row = result.groups.iloc[0]
    assert (row["n"], row["sipas"], row["no_dissatisfied_pct"]) == pytest.approx((3, 200 / 3, 200 / 3))
    assert result.elements.set_index("element").loc["staff", ["index", "low", "high"]].isna().all()
    # The same as a staff_1 column of skipped answers.
    skipped = score(pd.DataFrame({"access_1": [5, 4, 2], "staff_1": [nan] * 3}), CRITERIA, min_n=1)
    pd.testing.assert_frame_equal(result.groups, skipped.groups)


def test_empty_table_and_missing_criterion_column():
    empty = pd.DataFrame({"access_1": pd.Series([], dtype=float)})
    result = score(empty, CRITERIA)  # staff_1 has no column: never asked
    assert result.groups["n"].tolist() == [0]
    assert result.groups["suppressed"].tolist() == [True]
    assert result.criteria["n"].tolist() == [0, 0]
    grouped = score(pd.DataFrame({"centre": [], "access_1": []}), CRITERIA, by=["centre"])
    assert len(grouped.groups) == len(grouped.elements) == len(grouped.criteria) == 0
    assert "sipas" in grouped.groups.columns


def test_bad_arguments():
    with pytest.raises(KeyError):
        score(HAND, CRITERIA, by=["centre"])
    with pytest.raises(ValueError, match="clash"):
        score(HAND.assign(n=1), CRITERIA, by=["n"])
    with pytest.raises(ValueError):
        score(HAND, CRITERIA, confidence=1.5)
    with pytest.raises(ValueError):
        score(HAND, CRITERIA, min_n=-1)


def test_answers_frame_round_trip():
    answers = [
        {"access_1": 5, "staff_1": NOT_APPLICABLE, "comment": "fast"},  # non-criteria ignored
        {"access_1": SKIPPED, "staff_1": 2},
        {"access_1": 4},  # staff_1 not asked
        {"access_1": "na", "staff_1": 9},  # out of range: kept, ignored by score
    ]
    extra = [{"centre": "X", "month": 1}, {"centre": "X", "month": 1}, {"centre": "Y", "month": 1}]
    extra.append({"centre": None})
    frame = answers_frame(answers, CRITERIA, extra)
    assert list(frame.columns) == ["centre", "month", "access_1", "staff_1"]
    np.testing.assert_array_equal(frame["access_1"].to_numpy(), [5.0, nan, 4.0, 0.0])
    np.testing.assert_array_equal(frame["staff_1"].to_numpy(), [0.0, 2.0, nan, 9.0])
    assert frame["access_1"].dtype == np.float64

    result = score(frame, CRITERIA, by=["centre"], min_n=1)
    assert result.groups["n"].tolist() == [2, 1, 0]  # X, Y, null centre (only NA and an invalid 9)
    crit = result.criteria.set_index(["code"])
    x = crit[crit["centre"] == "X"]
    assert x.loc["access_1", ["n", "skipped_n"]].tolist() == [1, 1]
    assert x.loc["staff_1", ["n", "na_n"]].tolist() == [1, 1]

    plain = answers_frame(answers[:2], CRITERIA)
    assert list(plain.columns) == ["access_1", "staff_1"]
    assert answers_frame([], CRITERIA).shape == (0, 2)


def test_answers_frame_rejects_bad_input():
    with pytest.raises(ValueError, match="access_1"):
        answers_frame([{"access_1": "very good"}], CRITERIA)
    with pytest.raises(ValueError, match="rows"):
        answers_frame([{"access_1": 5}], CRITERIA, extra=[])
    with pytest.raises(ValueError, match="clash"):
        answers_frame([{"access_1": 5}], CRITERIA, extra=[{"access_1": "X"}])


def test_scoring_modules_import_no_io_or_framework():
    allowed = {"__future__", "collections", "dataclasses", "decimal", "numbers", "statistics"}
    allowed |= {"numpy", "pandas", "surveys"}
    for module in (surveys.scoring, surveys.ratings, surveys.intervals):
        nodes = list(ast.walk(ast.parse(Path(module.__file__).read_text(encoding="utf-8"))))
        imported = {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in nodes if isinstance(node, ast.ImportFrom) and node.module}
        assert {name.split(".")[0] for name in imported} <= allowed, module.__name__


def test_weights_recover_the_transaction_mix():
    # Two services with as many transactions each (1,000 invitations); A's citizens answer three times as often.
    # A: 300 responses, 270 rate every criterion 5 and 30 rate every criterion 2 (90%); B: 100, 60 and 40 (60%).
    # True SIPAS of the transactions (50/50): 75. Unweighted the sample says (270 + 60) / 400 = 82.5.
    # Weight = invitations / responses: A 1000/300, B 1000/100: (270 * 10/3 + 60 * 10) / (1000 + 1000) = 75.
    rows = [(5, "A")] * 270 + [(2, "A")] * 30 + [(5, "B")] * 60 + [(2, "B")] * 40
    table = pd.DataFrame({"access_1": [r for r, _ in rows], "staff_1": [r for r, _ in rows],
                          "service": [s for _, s in rows]})
    table["weight"] = np.where(table["service"] == "A", 1000 / 300, 1000 / 100)
    plain = score(table, CRITERIA).groups.iloc[0]
    weighted = score(table, CRITERIA, weights="weight")
    row = weighted.groups.iloc[0]
    assert plain["sipas"] == pytest.approx(82.5) and row["sipas"] == pytest.approx(75.0)
    assert row["n"] == 400 and row["no_dissatisfied_pct"] == pytest.approx(75.0)
    assert weighted.criteria["satisfied_pct"].tolist() == pytest.approx([75.0, 75.0])
    assert weighted.criteria["n"].tolist() == [400, 400]  # counts stay counts
    # Weighted linearisation: z_r = w_r (x_r - 0.75) / 2000 for both criteria alike; sum z^2 =
    # (270 * 100/9 * 0.0625 + 30 * 100/9 * 0.5625 + 60 * 100 * 0.0625 + 40 * 100 * 0.5625) / 2000^2 = 3000 / 4e6;
    # Var = 400/399 * 7.5e-4 = 7.519e-4 (se 2.742); n_eff = 0.1875 / 7.519e-4 = 249.4, q = t(0.975, 399) = 1.9659
    assert row["sipas_low"] < 75 < row["sipas_high"] and plain["sipas_low"] > 75  # the plain interval misses 75
    centre = (0.75 + 1.9659**2 / (2 * 249.4)) / (1 + 1.9659**2 / 249.4)
    half = 1.9659 / (1 + 1.9659**2 / 249.4) * math.sqrt(7.519e-4 + 1.9659**2 / (4 * 249.4**2))
    assert [row["sipas_low"], row["sipas_high"]] == pytest.approx([100 * (centre - half), 100 * (centre + half)],
                                                                  abs=0.01)
    # no_dissatisfied: Wilson on Kish's n = (sum w)^2 / sum w^2 = 2000^2 / (300 * 100/9 + 100 * 100) = 300
    low, high = surveys.intervals.wilson_interval(225, 300)
    assert [row["no_dissatisfied_low"], row["no_dissatisfied_high"]] == pytest.approx([low, high])
    # Equal weights change nothing; bad weights are refused.
    pd.testing.assert_frame_equal(score(table, CRITERIA, weights=np.full(400, 2.5)).groups,
                                  score(table, CRITERIA).groups)
    for bad in ([1.0] * 399, np.r_[-1.0, np.ones(399)], np.r_[np.nan, np.ones(399)]):
        with pytest.raises(ValueError, match="weights"):
            score(table, CRITERIA, weights=bad)
