"""The league table as a picture: SIPAS with its 95% interval per group, best lower bound on top.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state, safe in a worker thread).
DejaVu Sans, bundled with matplotlib, has every Vietnamese letter. With several periods only the latest is drawn:
a league table compares groups within one period.
"""

from __future__ import annotations

from typing import BinaryIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.reports.build import Report
from bot.reports.render import WITHHELD, key_label, suppressed_label, vi_number
from bot.reports.request import period_label
from bot.reports.rollup import TOTAL_LABEL

MAX_BARS = 120
_FONT = "DejaVu Sans"


def chart_rows(report: Report) -> list[dict]:
    """The rows drawn: those of the latest period, in report order (suppressed last)."""
    if not report.rows:
        return []
    latest = max(row["period"] for row in report.rows)
    return [row for row in report.rows if row["period"] == latest]


def draw_chart(report: Report, target: str | BinaryIO) -> bool:
    """Write the PNG to a path or binary file; False (nothing written) when there are no rows."""
    rows = chart_rows(report)
    if not rows:
        return False
    shown = rows[:MAX_BARS]
    figure = Figure(figsize=(10, 1.6 + 0.3 * len(shown)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(shown)))[::-1]  # first row on top
    measured = [(y, row) for y, row in zip(positions, shown, strict=True)
                if not row["suppressed"] and row["sipas"] is not None]
    lows = [row["sipas_ci"][0] for _, row in measured if row["sipas_ci"][0] is not None]
    left = max(0.0, min([*lows, *(row["sipas"] for _, row in measured)], default=50.0) - 5.0)
    # One collection for the bars and one line for the points: an artist per group draws 100 groups in seconds.
    bars = [(y, row["sipas_ci"]) for y, row in measured if row["sipas_ci"][0] is not None]
    axes.hlines([y for y, _ in bars], [ci[0] for _, ci in bars], [ci[1] for _, ci in bars], color="#4c72b0",
                linewidth=2.5)
    axes.plot([row["sipas"] for _, row in measured], [y for y, _ in measured], "o", color="#1f3b73", markersize=5,
              linestyle="none")
    for y, row in measured:
        low, high = row["sipas_ci"]
        axes.annotate(vi_number(row["sipas"]), (high if low is not None else row["sipas"], y), xytext=(4, 0),
                      textcoords="offset points", va="center", fontsize=7, family=_FONT)
    for y, row in zip(positions, shown, strict=True):
        if row["suppressed"] or row["sipas"] is None:
            # SIPAS withheld in a published group (bot.reports.suppression), or no criterion answered at all
            why = suppressed_label(row) if row["suppressed"] else WITHHELD if (row.get("withheld") or {}).get(
                "sipas") else "–"
            axes.annotate(f"{why} (n = {row['n']})", (left, y), xytext=(4, 0), textcoords="offset points",
                          va="center", fontsize=8, color="#777777", family=_FONT)
    axes.set_yticks(positions, [_label(report, row) for row in shown], fontsize=8, family=_FONT)
    axes.set_xlim(left, 100.0)
    axes.set_ylim(-0.8, len(shown) - 0.2)
    axes.set_xlabel("Chỉ số SIPAS (% hài lòng), khoảng tin cậy 95%", family=_FONT)
    axes.grid(axis="x", color="#dddddd")
    title = f"Chỉ số SIPAS – {period_label(rows[0]['period'], report.request)} – {report.request.survey}"
    if len(rows) > len(shown):
        title += f" ({len(shown)}/{len(rows)} nhóm đầu)"
    axes.set_title(title, family=_FONT, fontsize=11)
    figure.tight_layout()
    figure.savefig(target, format="png")
    return True


def _label(report: Report, row: dict) -> str:
    if row.get("total"):
        return TOTAL_LABEL
    return " · ".join(key_label(report, d, row[d], width=45) for d in report.request.by)
