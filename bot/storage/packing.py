"""Ratings packed one byte per scored criterion, in instrument order, so that a report reads a million responses
as one column of short byte strings and decodes them with one numpy call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from surveys.instrument import NOT_APPLICABLE, AnswerValue, Instrument

NA_BYTE = 0  # "Không áp dụng"
NO_ANSWER = 255  # skipped, or never shown


def pack_ratings(instrument: Instrument, answers: Mapping[str, AnswerValue]) -> bytes:
    """The scored answers of one response as bytes: 1..5, 0 for not applicable, 255 for no answer."""
    out = bytearray()
    for code in instrument.criteria():
        value = answers.get(code)
        if value == NOT_APPLICABLE:
            out.append(NA_BYTE)
        elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
            out.append(value)
        else:
            out.append(NO_ANSWER)
    return bytes(out)


def unpack_ratings(blobs: Iterable[bytes], width: int) -> np.ndarray:
    """Many packed rows as a float matrix in the scoring convention: 1..5, 0 = not applicable, NaN = no answer.

    Rows of another width (an instrument version with other criteria) raise ValueError.
    """
    joined = b"".join(blobs)
    if width == 0 or len(joined) % width:
        raise ValueError(f"packed ratings do not come in rows of {width} bytes")
    codes = np.frombuffer(joined, dtype=np.uint8).reshape(-1, width)
    matrix = codes.astype(np.float32)
    matrix[codes == NO_ANSWER] = np.nan
    return matrix
