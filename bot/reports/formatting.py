"""Numbers for people: Vietnamese uses a decimal comma (83,94%), English a decimal point."""

from __future__ import annotations

import math


def format_pct(value: float | None, language: str, digits: int = 2, none: str = "–") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return none
    text = f"{value:.{digits}f}"
    return (text.replace(".", ",") if language == "vi" else text) + "%"
