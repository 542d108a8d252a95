"""SIPAS measures for a table of survey responses: pure and vectorised (pandas and numpy, no I/O).

The contract is ``docs/sipas.md``, section "Measures, per group".

Data convention:
    A responses table is a pandas DataFrame with one row per response and one column per criterion code (the
    keys of ``criteria``), plus any grouping columns (centre, period, ...). A rating cell holds:

    * 1..5: a valid answer (4-5 satisfied, 3 neutral, 1-2 dissatisfied);
    * ``NA_CODE`` (0): "not applicable" (Không áp dụng);
    * NaN: skipped, or never asked (``surveys.instrument.SKIPPED`` and a missing answer both become NaN).

    Columns of object or string dtype are converted: the string ``"NA"`` in any case (surrounding blanks
    ignored) is not applicable; ``None``/NaN/``pd.NA`` and the empty string are skipped; numbers and numeric
    text (``"4"``, ``Decimal``) are read as numbers (booleans as 1 and 0, as pandas compares them). Anything
    else (7, -1, 2.5, ``"x"``) is invalid and counts nowhere: not as an answer, not as skipped, not as not
    applicable. A criterion with no column in the table is treated as never asked. ``answers_frame`` builds
    such a table from the engine's answer dicts.

Measures and uncertainty:
    Element indices and SIPAS are unweighted means of the criteria's satisfied percentages (criteria with
    n > 0 only); their intervals treat the respondent as the unit (linearised variance of a mean of ratios,
    see ``surveys.intervals``); a criterion's interval is Wilson's. All percentages are on 0-100; null
    measures are NaN. A group with n < ``min_n`` is suppressed: it keeps its keys, n and, per criterion, n,
    na_n and skipped_n; every other measure is NaN. The work is done on numpy arrays of the whole table (one
    bincount per criterion), with no Python loop over rows or groups.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from surveys import intervals
from surveys.instrument import NOT_APPLICABLE

NA_CODE = 0
"""The number standing for "not applicable" in a rating column."""

# Internal cell codes (int8): 0 = not applicable, 1..5 = the rating, then skipped and invalid.
_SKIPPED_CODE = 6
_INVALID_CODE = 7
_N_CODES = 8
_NO, _NOT, _YES = intervals.NO_ANSWER, intervals.NOT_SATISFIED, intervals.SATISFIED
_OUTCOME = np.array([_NO, _NOT, _NOT, _NOT, _YES, _YES, _NO, _NO], dtype=np.int8)  # indexed by cell code
_BYTE_CODES = np.array([0, 1, 2, 3, 4, 5] + [_INVALID_CODE] * 250, dtype=np.int8)  # cell code of each byte

_OUTPUT_COLUMNS = frozenset({
    "n", "suppressed", "sipas", "sipas_low", "sipas_high", "no_dissatisfied_pct", "element", "index", "low",
    "high", "code", "satisfied_pct", "neutral_pct", "dissatisfied_pct", "mean", "ci_low", "ci_high", "na_n",
    "skipped_n",
})  # fmt: skip


@dataclass(frozen=True, eq=False)
class Scores:
    """The SIPAS measures of every group, as three tidy tables; groups come in sorted key order.

    Attributes:
        groups: One row per group: the ``by`` columns, n, suppressed, sipas, sipas_low, sipas_high,
            no_dissatisfied_pct.
        elements: One row per group and element (elements in first-appearance order of ``criteria``): the
            ``by`` columns, element, index, low, high.
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
) -> Scores:
    """Compute the SIPAS measures of every group of a responses table.

    Args:
        responses: One row per response, one column per criterion code, plus the ``by`` columns (see the
            module docstring for the cell values).
        criteria: Criterion code -> element code, in instrument order (``Instrument.criteria()``).
        by: Grouping columns; ``()`` makes one group of all rows. A single string is one column. Rows with a
            null key form their own group (sorted last).
        min_n: Groups with fewer respondents (n) than this are suppressed.
        confidence: Confidence level of every interval.

    Returns:
        The group, element and criterion tables.

    Raises:
        KeyError: If a ``by`` column is missing.
        ValueError: If ``min_n`` is negative, ``confidence`` is not in (0, 1), or a ``by`` column is also a
            criterion or clashes with an output column name.
    """
    by = [by] if isinstance(by, str) else list(by)
    codes = list(criteria)
    _check_arguments(responses, codes, by, min_n, confidence)
    element_names = list(dict.fromkeys(criteria.values()))
    parts = [element_names.index(criteria[code]) for code in codes]
    group, keys = _group_index(responses, by)
    n_groups, k, rows = len(keys), len(codes), len(responses)

    counts = np.empty((n_groups, k, _N_CODES), dtype=np.int64)
    base = group.astype(np.int64) * _N_CODES
    outcomes = []
    any_dissatisfied = np.zeros(rows, dtype=bool)
    for j, code in enumerate(codes):
        cells = _cell_codes(responses[code]) if code in responses.columns else np.full(rows, _SKIPPED_CODE)
        counts[:, j, :] = np.bincount(base + cells, minlength=n_groups * _N_CODES).reshape(n_groups, _N_CODES)
        # take(mode="clip") skips numpy's bounds check: cells are 0..7 by construction (much faster than [cells])
        outcomes.append(np.take(_OUTCOME, cells, mode="clip"))
        any_dissatisfied |= (cells - 1).view(np.uint8) < 2  # cell code 1 or 2: dissatisfied
    outcome_counts = np.zeros((n_groups, k, 3), dtype=np.int64)  # the cell counts, folded into outcomes
    for code, outcome in enumerate(_OUTCOME):
        outcome_counts[:, :, outcome] += counts[:, :, code]
    ratios = intervals.mean_of_ratios(group, outcomes, parts, n_groups, outcome_counts=outcome_counts)
    del outcomes

    n = ratios.units
    suppressed = n < min_n
    dissatisfied_n = np.bincount(group[any_dissatisfied], minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        no_dissatisfied = np.where(n > 0, 100.0 * (n - dissatisfied_n) / n, np.nan)
    sipas_low, sipas_high = intervals.normal_interval(ratios.estimate, ratios.se, confidence)
    group_table = {
        "n": n,
        "suppressed": suppressed,
        "sipas": ratios.estimate,
        "sipas_low": sipas_low,
        "sipas_high": sipas_high,
        "no_dissatisfied_pct": no_dissatisfied,
    }
    element_low, element_high = intervals.normal_interval(ratios.part_estimate, ratios.part_se, confidence)
    element_table = {
        "element": np.tile(np.asarray(element_names, dtype=object), n_groups),
        "index": ratios.part_estimate,
        "low": element_low,
        "high": element_high,
    }
    criterion_table = _criterion_measures(counts, codes, [criteria[c] for c in codes], confidence)
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


def answers_frame(
    answers: Iterable[Mapping[str, object]],
    criteria: Mapping[str, str],
    extra: Iterable[Mapping[str, object]] | None = None,
) -> pd.DataFrame:
    """Turn the engine's answer dicts into a numeric responses table for ``score``.

    Args:
        answers: One mapping per response, ``{criterion code: 1..5 | "NA" | None}``; a missing code means the
            question was not asked. Codes that are not criteria are ignored.
        criteria: Criterion code -> element code, in instrument order; they become the rating columns.
        extra: Optional per-response grouping values (e.g. ``{"centre": ..., "month": ...}``), in the same
            order as ``answers``; their keys become columns placed before the rating columns.

    Returns:
        A DataFrame with one row per response: the extra columns, then one float column per criterion holding
        the rating, ``NA_CODE`` for not applicable, or NaN for skipped or not asked. Out-of-range numbers are
        kept as they are (``score`` ignores them).

    Raises:
        ValueError: If an answer is neither a number, ``"NA"`` nor ``None``, if ``extra`` does not have one
            mapping per answer, or if an extra column is also a criterion code.
    """
    answers = list(answers)
    columns = {}
    for code in criteria:
        values = pd.Series([answer.get(code) for answer in answers], dtype=object)
        columns[code], bad = _read_answers(values)
        if bad.any():
            raise ValueError(f"criterion {code!r}: answer {values[bad].iloc[0]!r} is not 1..5, 'NA' or None")
    ratings = pd.DataFrame(columns, index=pd.RangeIndex(len(answers)), columns=list(criteria), dtype=float)
    if extra is None:
        return ratings
    extra_rows = list(extra)
    if len(extra_rows) != len(answers):
        raise ValueError(f"extra has {len(extra_rows)} rows for {len(answers)} answers")
    groups = pd.DataFrame.from_records(extra_rows, index=pd.RangeIndex(len(extra_rows)))
    clash = set(groups.columns) & set(criteria)
    if clash:
        raise ValueError(f"extra columns clash with criterion codes: {sorted(clash)}")
    return pd.concat([groups, ratings], axis=1)


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


def _cell_codes(column: pd.Series) -> np.ndarray:
    """Internal int8 code of every cell of a rating column (see the module docstring for the values)."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return _codes_of_integers(column)
    if pd.api.types.is_numeric_dtype(column.dtype):
        return _codes_of_numbers(column.to_numpy(dtype=np.float64, na_value=np.nan))
    values, bad = _read_answers(column)
    return np.where(bad, _INVALID_CODE, _codes_of_numbers(values)).astype(np.int8)


def _codes_of_numbers(values: np.ndarray) -> np.ndarray:
    """Map floats to cell codes: whole 0..5 to themselves, NaN to skipped, anything else to invalid."""
    whole = (values >= 0) & (values <= 5) & (values == np.round(values))
    codes = np.where(whole, values, _INVALID_CODE).astype(np.int8)
    codes[np.isnan(values)] = _SKIPPED_CODE
    return codes


def _codes_of_integers(column: pd.Series) -> np.ndarray:
    """Cell codes of an integer column (numpy or nullable), without a float round trip.

    0..5 map to themselves, a missing value (pd.NA) to skipped, anything else to invalid.
    """
    dtype = np.dtype(getattr(column.dtype, "numpy_dtype", column.dtype))
    values = column.to_numpy(dtype=dtype, na_value=0)
    if dtype.itemsize == 1:  # bytes (packed ratings): one table lookup; negative int8 read as 128..255
        codes = np.take(_BYTE_CODES, values.view(np.uint8), mode="clip")
    else:
        codes = np.where((values >= 0) & (values <= 5), values, _INVALID_CODE).astype(np.int8)
    missing = column.isna().to_numpy()
    if missing.any():
        codes[missing] = _SKIPPED_CODE
    return codes


def _read_answers(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Read an object or string column as floats, converting only its few distinct values; flag unreadable."""
    try:
        labels, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts): read cell by cell
        return _read_values(column)
    values, bad = _read_values(np.asarray(uniques, dtype=object))
    return np.append(values, np.nan)[labels], np.append(bad, False)[labels]  # label -1 (null) -> NaN


def _read_values(values) -> tuple[np.ndarray, np.ndarray]:
    """Read answers one by one as floats ("NA" -> NA_CODE, null/empty -> NaN); flag the unreadable ones."""
    out = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for position, value in enumerate(values):  # one pass over distinct values (score) or answers (frame)
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, str):
            text = value.strip()
            if text.upper() == NOT_APPLICABLE.upper():
                out[position] = NA_CODE
            elif text:
                try:
                    out[position] = float(text)
                except ValueError:
                    bad[position] = True
        elif isinstance(value, numbers.Real | Decimal | np.bool_):  # bools: pandas cannot tell True from 1
            out[position] = float(value)
        else:
            bad[position] = True
    return out, bad


def _criterion_measures(
    counts: np.ndarray, codes: list[str], elements: list[str], confidence: float
) -> dict[str, np.ndarray]:
    """Per group x criterion measures from the (groups, criteria, cell code) count table."""
    n_groups = counts.shape[0]
    ratings = counts[:, :, 1:6]
    n = ratings.sum(axis=2)
    satisfied = ratings[:, :, 3:5].sum(axis=2)
    low, high = intervals.wilson_interval(satisfied, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, 100.0 / n, np.nan)
        mean = np.where(n > 0, (ratings * np.arange(1, 6)).sum(axis=2) / n, np.nan)
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
        "skipped_n": counts[:, :, _SKIPPED_CODE].copy(),
    }


def _with_keys(keys: pd.DataFrame, repeat: int, table: dict[str, np.ndarray]) -> pd.DataFrame:
    """The group keys, each repeated ``repeat`` times, followed by the measure columns."""
    repeated = keys.iloc[np.repeat(np.arange(len(keys)), repeat)].reset_index(drop=True)
    measures = pd.DataFrame(table, index=repeated.index)
    return pd.concat([repeated, measures], axis=1)
