"""SIPAS measures for a table of survey responses: pure and vectorised (pandas and numpy, no I/O).

The contract is ``docs/sipas.md``, section "Measures, per group". The table's layout and what each rating cell
means (1..5, ``NA_CODE``, NaN, invalid values) are in ``surveys.ratings``, which also builds such a table from the
engine's answer dicts (``answers_frame``, importable from here as well).

Measures and uncertainty:
    Element indices and SIPAS are unweighted means of the criteria's satisfied percentages (criteria with
    n > 0 only); their intervals treat the respondent as the unit (linearised variance of a mean of ratios and
    a Wilson score interval on its effective sample size, see ``surveys.intervals``; for SIPAS in groups of at
    most 200 respondents, a studentised bootstrap, ``surveys.bootstrap``); a criterion's interval and
    that of no_dissatisfied_pct are Wilson's. All percentages are on 0-100; null
    measures are NaN. A group with n < ``min_n`` is suppressed: it keeps its keys, n and, per criterion, n,
    na_n and skipped_n; every other measure is NaN. The work is done on numpy arrays of the whole table (one
    bincount per criterion), with no Python loop over rows or groups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys import intervals
from surveys.bootstrap import bootstrap_t
from surveys.ceiling import near_ceiling_upper
from surveys.ratings import N_CODES, NA_CODE, OUTCOME, SKIPPED_CODE, answers_frame, cell_codes

__all__ = ["NA_CODE", "Scores", "answers_frame", "score"]

_OUTPUT_COLUMNS = frozenset({
    "n", "suppressed", "sipas", "sipas_low", "sipas_high", "no_dissatisfied_pct", "no_dissatisfied_low",
    "no_dissatisfied_high", "element", "index", "low", "one_sided",
    "high", "code", "satisfied_pct", "neutral_pct", "dissatisfied_pct", "mean", "ci_low", "ci_high", "na_n",
    "skipped_n",
})  # fmt: skip


@dataclass(frozen=True, eq=False)
class Scores:
    """The SIPAS measures of every group, as three tidy tables; groups come in sorted key order.

    Attributes:
        groups: One row per group: the ``by`` columns, n, suppressed, sipas, sipas_low, sipas_high,
            no_dissatisfied_pct, no_dissatisfied_low, no_dissatisfied_high (its Wilson interval).
        elements: One row per group and element (elements in first-appearance order of ``criteria``): the
            ``by`` columns, element, index, low, high, one_sided (the upper end is one-sided near the ceiling,
            ``surveys.ceiling``).
        criteria: One row per group and criterion (in ``criteria`` order): the ``by`` columns, code, element,
            n, satisfied_pct, neutral_pct, dissatisfied_pct, mean, ci_low, ci_high, na_n, skipped_n.
    """

    groups: pd.DataFrame
    elements: pd.DataFrame
    criteria: pd.DataFrame


def score(
    responses: pd.DataFrame,
    criteria: Mapping[str, str],
    by: Sequence[str] = (),
    min_n: int = 30,
    confidence: float = 0.95,
    weights: str | Sequence[float] | np.ndarray | None = None,
) -> Scores:
    """Compute the SIPAS measures of every group of a responses table.

    Args:
        responses: One row per response, one column per criterion code, plus the ``by`` columns (see
            ``surveys.ratings`` for the cell values).
        criteria: Criterion code -> element code, in instrument order (``Instrument.criteria()``).
        by: Grouping columns; ``()`` makes one group of all rows. A single string is one column. Rows with a
            null key form their own group (sorted last).
        min_n: Groups with fewer respondents (n) than this are suppressed.
        confidence: Confidence level of every interval.
        weights: Optional weight of each response (a column name or one number per row, finite and >= 0),
            e.g. invitations per response of its centre and service (post-stratification). Every share, mean and
            index is then weighted, the SIPAS and element variances are the weighted linearisation
            (``surveys.linearised``), and intervals count Kish's effective n, (sum w)² / sum w², where they need
            a number of respondents. n, na_n, skipped_n and ``min_n`` stay counts of responses.

    Returns:
        The group, element and criterion tables.

    Raises:
        KeyError: If a ``by`` column is missing.
        ValueError: If ``min_n`` is negative, ``confidence`` is not in (0, 1), a ``by`` column is also a
            criterion or clashes with an output column name, or a weight is negative, not finite or missing.
    """
    by = [by] if isinstance(by, str) else list(by)
    codes = list(criteria)
    _check_arguments(responses, codes, by, min_n, confidence)
    element_names = list(dict.fromkeys(criteria.values()))
    parts = [element_names.index(criteria[code]) for code in codes]
    group, keys = _group_index(responses, by)
    n_groups, k, rows = len(keys), len(codes), len(responses)
    w = _weights(responses, weights)
    weighted = np.zeros((2, n_groups, k, N_CODES)) if w is not None else None  # sums of w and of w² per cell

    counts = np.empty((n_groups, k, N_CODES), dtype=np.int64)
    base = group.astype(np.int64) * N_CODES
    outcomes = []
    any_dissatisfied = np.zeros(rows, dtype=bool)
    any_unsatisfied = np.zeros(rows, dtype=bool)  # a rating of 1-3 somewhere: the m of score_interval
    for j, code in enumerate(codes):
        # A criterion with no column was never asked: all skipped, in the int8 codes cell_codes gives
        cells = cell_codes(responses[code]) if code in responses.columns else np.full(rows, SKIPPED_CODE, np.int8)
        counts[:, j, :] = np.bincount(base + cells, minlength=n_groups * N_CODES).reshape(n_groups, N_CODES)
        if weighted is not None:
            for power in (0, 1):
                weighted[power, :, j, :] = np.bincount(base + cells, weights=w ** (power + 1),
                                                       minlength=n_groups * N_CODES).reshape(n_groups, N_CODES)
        # take(mode="clip") skips numpy's bounds check: cells are 0..7 by construction (much faster than [cells])
        outcomes.append(np.take(OUTCOME, cells, mode="clip"))
        any_unsatisfied |= outcomes[-1] == intervals.NOT_SATISFIED
        any_dissatisfied |= (cells - 1).view(np.uint8) < 2  # cell code 1 or 2: dissatisfied
    cell_weights = counts if weighted is None else weighted[0]
    outcome_counts = np.zeros((n_groups, k, 3), dtype=cell_weights.dtype)  # the cells, folded into outcomes
    for code, outcome in enumerate(OUTCOME):
        outcome_counts[:, :, outcome] += cell_weights[:, :, code]
    ratios = intervals.mean_of_ratios(group, outcomes, parts, n_groups, outcome_counts=outcome_counts, weights=w)
    unhappy = np.bincount(group[any_unsatisfied], minlength=n_groups)
    sipas_low, sipas_high = intervals.score_interval(ratios.estimate, ratios.se, ratios.units, confidence,
                                                     ratios.kish, unhappy)
    if w is None:  # small groups: the studentised bootstrap corrects the skewness (surveys.bootstrap)
        published = np.where(ratios.units >= min_n, ratios.se, np.nan)  # no resampling for suppressed groups
        sipas_low, sipas_high = bootstrap_t(group, outcomes, n_groups, ratios.estimate, published, ratios.units,
                                            sipas_low, sipas_high, confidence)
    del outcomes

    n = ratios.units
    suppressed = n < min_n
    dissatisfied = np.bincount(group[any_dissatisfied], weights=None if w is None else w[any_dissatisfied],
                               minlength=n_groups)
    total = ratios.weight_total
    with np.errstate(divide="ignore", invalid="ignore"):
        no_dissatisfied = np.where(total > 0, 100.0 * (total - dissatisfied) / total, np.nan)
        # Wilson on the number of respondents, or on Kish's effective number when weighted
        successes = n - dissatisfied if w is None else np.where(total > 0, ratios.kish * (1 - dissatisfied / total),
                                                                0.0)
    no_dissatisfied_low, no_dissatisfied_high = intervals.wilson_interval(np.clip(successes, 0, ratios.kish),
                                                                          ratios.kish, confidence)
    group_table = {
        "n": n,
        "suppressed": suppressed,
        "sipas": ratios.estimate,
        "sipas_low": sipas_low,
        "sipas_high": sipas_high,
        "no_dissatisfied_pct": no_dissatisfied,
        "no_dissatisfied_low": np.asarray(no_dissatisfied_low, dtype=np.float64),
        "no_dissatisfied_high": np.asarray(no_dissatisfied_high, dtype=np.float64),
    }
    element_low, element_high = intervals.score_interval(ratios.part_estimate, ratios.part_se, ratios.part_units,
                                                         confidence, ratios.part_kish)
    if w is None:  # near the ceiling the lower side cannot miss: a one-sided upper end (surveys.ceiling)
        element_high, one_sided = near_ceiling_upper(element_high, ratios.part_estimate, ratios.part_se,
                                                     ratios.part_units, ratios.part_criteria, ratios.part_largest,
                                                     confidence)
    else:
        one_sided = np.zeros(ratios.part_estimate.shape, dtype=bool)
    element_table = {
        "element": np.tile(np.asarray(element_names, dtype=object), n_groups),
        "index": ratios.part_estimate,
        "low": element_low,
        "high": element_high,
        "one_sided": one_sided & ~suppressed[:, None],
    }
    criterion_table = _criterion_measures(counts, codes, [criteria[c] for c in codes], confidence, weighted)
    for table in (group_table, element_table, criterion_table):
        for name, values in table.items():
            if values.dtype == np.float64:
                values[suppressed] = np.nan  # the group axis comes first in every array
            table[name] = values.reshape(-1)
    return Scores(
        groups=_with_keys(keys, 1, group_table),
        elements=_with_keys(keys, len(element_names), element_table),
        criteria=_with_keys(keys, k, criterion_table),
    )


def _weights(responses: pd.DataFrame, weights) -> np.ndarray | None:
    """The weight of every row as floats, or None; rejects negative, infinite and missing weights."""
    if weights is None:
        return None
    values = responses[weights] if isinstance(weights, str) else weights
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.shape != (len(responses),) or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("weights must give one finite number >= 0 per response")
    return values


def _check_arguments(
    responses: pd.DataFrame, codes: list[str], by: list[str], min_n: int, confidence: float
) -> None:
    """Reject arguments that would give wrong or ambiguous tables."""
    if min_n < 0:
        raise ValueError(f"min_n must be >= 0, got {min_n!r}")
    intervals.normal_quantile(confidence)  # raises ValueError when out of range
    missing = [column for column in by if column not in responses.columns]
    if missing:
        raise KeyError(f"grouping columns not in the table: {missing}")
    clash = set(by) & (set(codes) | _OUTPUT_COLUMNS)
    if clash:
        raise ValueError(f"grouping columns clash with criterion codes or output columns: {sorted(clash)}")


def _group_index(responses: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group index of every row (groups numbered in sorted key order, null keys last) and the keys table."""
    if not by:
        return np.zeros(len(responses), dtype=np.intp), pd.DataFrame(index=pd.RangeIndex(1))
    dense = _dense_group_index(responses, by)
    if dense is not None:
        return dense
    grouped = responses.groupby(by, sort=True, dropna=False, observed=True)
    group = grouped.ngroup().to_numpy(dtype=np.intp)
    first = np.flatnonzero(~pd.Series(group).duplicated().to_numpy())  # first row of each group
    first_of_group = np.empty(grouped.ngroups, dtype=np.intp)
    first_of_group[group[first]] = first
    return group, responses[by].iloc[first_of_group].reset_index(drop=True)


def _dense_group_index(responses: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame] | None:
    """The same numbering for plain integer keys over a compact range, or None for any other keys.

    Each row's position in the product of the key ranges is a number already in sorted key order, so one
    bincount finds the groups: several times faster than a pandas groupby on a million rows.
    """
    columns = [responses[name] for name in by]
    rows = len(responses)
    plain_integers = all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iu" and c.dtype != np.uint64
                         for c in columns)  # no nulls, and every value fits an int64
    if not rows or not plain_integers:
        return None
    values = [c.to_numpy(dtype=np.int64) for c in columns]
    lows = [int(v.min()) for v in values]
    spans = [int(v.max()) - low + 1 for v, low in zip(values, lows, strict=True)]
    if int(np.prod(np.asarray(spans, dtype=object))) > max(4 * rows, 1 << 20):
        return None  # sparse keys: the bincount would be mostly empty
    position = np.zeros(rows, dtype=np.int64)
    for v, low, span in zip(values, lows, spans, strict=True):
        position = position * span + (v - low)
    present = np.bincount(position) > 0
    number = np.cumsum(present) - 1
    group = np.take(number, position, mode="clip").astype(np.intp)
    cell = np.flatnonzero(present)
    keys = {}
    for name, column, low, span in reversed(list(zip(by, columns, lows, spans, strict=True))):
        keys[name] = (cell % span + low).astype(column.dtype)
        cell = cell // span
    return group, pd.DataFrame({name: keys[name] for name in by})


def _criterion_measures(
    counts: np.ndarray, codes: list[str], elements: list[str], confidence: float, weighted: np.ndarray | None
) -> dict[str, np.ndarray]:
    """Per group x criterion measures from the (groups, criteria, cell code) count table (and weight sums)."""
    n_groups = counts.shape[0]
    n = counts[:, :, 1:6].sum(axis=2)
    ratings = counts[:, :, 1:6] if weighted is None else weighted[0, :, :, 1:6]
    total = ratings.sum(axis=2)
    satisfied = ratings[:, :, 3:5].sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, 100.0 / total, np.nan)
        mean = np.where(total > 0, (ratings * np.arange(1, 6)).sum(axis=2) / total, np.nan)
        if weighted is None:
            low, high = intervals.wilson_interval(satisfied, n, confidence)
        else:  # Wilson on Kish's effective number of answers
            kish = np.where(total > 0, total * total / weighted[1, :, :, 1:6].sum(axis=2), 0.0)
            low, high = intervals.wilson_interval(np.where(total > 0, kish * satisfied / total, 0.0), kish,
                                                  confidence)
    return {
        "code": np.tile(np.asarray(codes, dtype=object), n_groups),
        "element": np.tile(np.asarray(elements, dtype=object), n_groups),
        "n": n,
        "satisfied_pct": satisfied * share,
        "neutral_pct": ratings[:, :, 2] * share,
        "dissatisfied_pct": ratings[:, :, 0:2].sum(axis=2) * share,
        "mean": mean,
        "ci_low": low,
        "ci_high": high,
        "na_n": counts[:, :, 0].copy(),
        "skipped_n": counts[:, :, SKIPPED_CODE].copy(),
    }


def _with_keys(keys: pd.DataFrame, repeat: int, table: dict[str, np.ndarray]) -> pd.DataFrame:
    """The group keys, each repeated ``repeat`` times, followed by the measure columns."""
    repeated = keys.iloc[np.repeat(np.arange(len(keys)), repeat)].reset_index(drop=True)
    measures = pd.DataFrame(table, index=repeated.index)
    return pd.concat([repeated, measures], axis=1)
