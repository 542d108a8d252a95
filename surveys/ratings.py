"""The rating cells of a responses table: what each value means, read fast (pandas and numpy, no I/O).

A responses table is a pandas DataFrame with one row per response and one column per criterion code, plus any
grouping columns (centre, period, ...). ``surveys.scoring.score`` computes the SIPAS measures of such a table;
this module says how it reads the cells, and builds the table from the engine's answers (``answers_frame``).

Data convention:
    A rating cell holds:

    * 1..5: a valid answer (4-5 satisfied, 3 neutral, 1-2 dissatisfied);
    * ``NA_CODE`` (0): "not applicable" (Không áp dụng);
    * NaN: skipped, or never asked (``surveys.instrument.SKIPPED`` and a missing answer both become NaN).

    Columns of object or string dtype are converted: the string ``"NA"`` in any case (surrounding blanks
    ignored) is not applicable; ``None``/NaN/``pd.NA`` and the empty string are skipped; numbers and numeric
    text (``"4"``, ``Decimal``) are read as numbers (booleans as 1 and 0, as pandas compares them). Anything
    else (7, -1, 2.5, ``"x"``) is invalid and counts nowhere: not as an answer, not as skipped, not as not
    applicable. A criterion with no column in the table is treated as never asked.

Cell codes:
    ``cell_codes`` turns a column into one int8 code per cell: 0 = not applicable, 1..5 = the rating,
    ``SKIPPED_CODE``, ``INVALID_CODE``; ``N_CODES`` codes in all. ``OUTCOME`` maps each code to its outcome in
    ``surveys.intervals`` (satisfied, not satisfied, no answer).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from decimal import Decimal

import numpy as np
import pandas as pd

from surveys import intervals
from surveys.instrument import NOT_APPLICABLE

NA_CODE = 0
"""The number standing for "not applicable" in a rating column."""

SKIPPED_CODE = 6
"""Cell code of a skipped (or never asked) answer."""
INVALID_CODE = 7
"""Cell code of a value that is no answer at all (7, -1, 2.5, "x")."""
N_CODES = 8
"""How many cell codes there are (0..7)."""

_NO, _NOT, _YES = intervals.NO_ANSWER, intervals.NOT_SATISFIED, intervals.SATISFIED
OUTCOME = np.array([_NO, _NOT, _NOT, _NOT, _YES, _YES, _NO, _NO], dtype=np.int8)
"""The ``surveys.intervals`` outcome of each cell code (indexed by the code)."""
_BYTE_CODES = np.array([0, 1, 2, 3, 4, 5] + [INVALID_CODE] * 250, dtype=np.int8)  # cell code of each byte


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


def cell_codes(column: pd.Series) -> np.ndarray:
    """Read a rating column as one cell code per cell.

    Args:
        column: A rating column of any dtype (see the module docstring for the values it may hold).

    Returns:
        An int8 array of the same length: 0..5 for not applicable and the ratings, ``SKIPPED_CODE`` or
        ``INVALID_CODE``.
    """
    if pd.api.types.is_integer_dtype(column.dtype):
        return _codes_of_integers(column)
    if pd.api.types.is_numeric_dtype(column.dtype):
        return _codes_of_numbers(column.to_numpy(dtype=np.float64, na_value=np.nan))
    values, bad = _read_answers(column)
    return np.where(bad, INVALID_CODE, _codes_of_numbers(values)).astype(np.int8)


def _codes_of_numbers(values: np.ndarray) -> np.ndarray:
    """Map floats to cell codes: whole 0..5 to themselves, NaN to skipped, anything else to invalid."""
    whole = (values >= 0) & (values <= 5) & (values == np.round(values))
    codes = np.where(whole, values, INVALID_CODE).astype(np.int8)
    codes[np.isnan(values)] = SKIPPED_CODE
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
        codes = np.where((values >= 0) & (values <= 5), values, INVALID_CODE).astype(np.int8)
    missing = column.isna().to_numpy()
    if missing.any():
        codes[missing] = SKIPPED_CODE
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
