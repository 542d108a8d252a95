"""The CSV columns of "where to act first" (`bot.reports.priority`, `surveys.drivers`, `bot.reports.targets`): the
top priorities and their gains, each criterion's key driver r, the targets with their gaps and probabilities, and
"total" for the province rows."""

from __future__ import annotations

from bot.reports.build import Report
from bot.reports.priority import TOP
from bot.reports.targets import ELEMENTS as TARGET_ELEMENTS


def act_headers(report: Report) -> list[str]:
    """CSV columns of "where to act first": top priorities and their gains, key drivers, targets; and "total"."""
    if not report.sipas:
        return ["total"] if report.request.total else []
    top = [f"priority_{i}" for i in range(1, TOP + 1)] + [f"priority_{i}_gain" for i in range(1, TOP + 1)]
    aims = [f"target_{m}{part}" for m in ("sipas", *TARGET_ELEMENTS) for part in ("", "_gap", "_p_above")]
    return [*top, *(f"{c}_driver_r" for c in report.instrument.criteria()), *aims,
            *(["total"] if report.request.total else [])]


def act_cells(report: Report, row: dict) -> list:
    total = ["true" if row.get("total") else "false"] if report.request.total else []
    if not report.sipas:
        return total
    priority = (row.get("priority") or [])[:TOP]
    cells = [item["code"] for item in priority] + [None] * (TOP - len(priority))
    cells += [_r(item["gain"]) for item in priority] + [None] * (TOP - len(priority))
    drivers = row.get("drivers") or {}
    cells += [_r((drivers.get(c) or {}).get("r")) for c in report.instrument.criteria()]
    target = row.get("target") or {}
    for measure in ("sipas", *TARGET_ELEMENTS):
        aim = (target.get("sipas") if measure == "sipas" else (target.get("elements") or {}).get(measure)) or {}
        p_above = aim.get("p_above")
        cells += [aim.get("target"), _r(aim.get("gap")), None if p_above is None else round(p_above, 4)]
    return cells + total


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
