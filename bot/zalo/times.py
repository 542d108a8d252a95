"""Zalo's times: milliseconds since the epoch, as a number or a string."""

from __future__ import annotations

import datetime as dt


def from_ms(value: object) -> dt.datetime | None:
    """A Zalo time as a UTC datetime, or None when it is missing or not a number."""
    try:
        return dt.datetime.fromtimestamp(int(str(value).strip()) / 1000, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
