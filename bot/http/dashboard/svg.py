"""The geometry of the dashboard's inline SVG charts (the templates draw it): an interval bar per row of a table,
and a centre's monthly trend with its 95% band and the months whose change from the month before is significant.

Only numbers are computed here; every label is text the template writes (and escapes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BAR_WIDTH = 200  # the bar's viewBox: 0..200 across, 0..16 high
TREND_WIDTH, TREND_HEIGHT = 340, 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 18, 12, 30  # the trend's margins: y labels left, month labels below


@dataclass(frozen=True)
class Axis:
    """A scale from ``low`` to ``high`` (percent) onto 0..``width``."""

    low: float
    high: float
    width: float = BAR_WIDTH

    def x(self, value: float) -> float:
        share = (min(max(value, self.low), self.high) - self.low) / (self.high - self.low)
        return round(share * self.width, 2)


def bar_axis(values: list[float | None]) -> Axis:
    """From a round ten below the lowest value to 100 (at least 20 wide): the bars of close centres still differ.
    The pages say where the axis starts."""
    known = [v for v in values if v is not None]
    low = math.floor((min(known, default=50.0) - 2) / 10) * 10
    return Axis(float(max(0, min(low, 80))), 100.0)


def bar(axis: Axis, value: float | None, interval, target: float | None = None) -> dict | None:
    """The bar of one estimate: the interval as a band, the estimate as a mark, the target as a tick."""
    if value is None:
        return None
    low, high = interval if interval and None not in interval else (value, value)
    start, end = axis.x(low), axis.x(high)
    return {"x": start, "width": round(max(end - start, 1.5), 2), "mark": axis.x(value),
            "target": axis.x(target) if target is not None else None}


@dataclass(frozen=True)
class TrendPoint:
    x: float
    y: float
    low: float
    high: float
    significant: str | None  # "up", "down" or None: the change from the month before


def trend(points: list[tuple[str, float | None, list | None, dict | None]]) -> dict | None:
    """The chart of (month key, SIPAS, interval, change) in time order; None with fewer than one published month.
    Months without a published SIPAS break the line (and have no point)."""
    known = [(v, ci) for _, v, ci, _ in points if v is not None]
    if not known:
        return None
    lows = [ci[0] if ci and ci[0] is not None else v for v, ci in known]
    highs = [ci[1] if ci and ci[1] is not None else v for v, ci in known]
    low = max(0.0, math.floor((min(lows) - 1) / 5) * 5)
    high = min(100.0, math.ceil((max(highs) + 1) / 5) * 5)
    if high - low < 10:
        low = max(0.0, high - 10)
    inner_w, inner_h = TREND_WIDTH - _LEFT - _RIGHT, TREND_HEIGHT - _TOP - _BOTTOM
    step = inner_w / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return round(_TOP + inner_h * (high - value) / (high - low), 2)

    runs: list[list[TrendPoint]] = [[]]
    labels = []
    for i, (key, value, ci, change) in enumerate(points):
        x = round(_LEFT + (step * i if len(points) > 1 else inner_w / 2), 2)
        labels.append({"x": x, "key": key})
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        band = ci if ci and None not in ci else (value, value)
        moved = (change or {}).get("sipas") or {}
        significant = ("up" if moved["change"] > 0 else "down") if moved.get("significant") else None
        runs[-1].append(TrendPoint(x, y(value), y(band[0]), y(band[1]), significant))
    runs = [run for run in runs if run]
    ticks = [{"y": y(v), "value": v} for v in range(int(low), int(high) + 1, 5 if high - low <= 30 else 10)]
    return {
        "width": TREND_WIDTH, "height": TREND_HEIGHT, "left": _LEFT, "right": TREND_WIDTH - _RIGHT,
        "bottom": TREND_HEIGHT - _BOTTOM, "ticks": ticks, "labels": labels,
        "lines": [" ".join(f"{p.x},{p.y}" for p in run) for run in runs],
        "bands": [" ".join([*(f"{p.x},{p.high}" for p in run), *(f"{p.x},{p.low}" for p in reversed(run))])
                  for run in runs],
        "points": [p for run in runs for p in run],
    }
