"""Targets: a centre's (or the province's) aim for a year, for SIPAS and for each element index (`sipas-bot
target set`), and what a report says about them: the gap (target − estimate) and the probability that the centre
is above its target already, from the estimate's interval (`surveys.spread.probability_above`).

A row meets its centre's target of year Y when its period lies in Y: the year itself, or one of its months,
quarters or weeks (the period key starts with Y); for ``--period all`` when both --from and --to lie in Y. The
province's targets are met the same way by the "Toàn tỉnh" rows of ``--total``.
"""

from __future__ import annotations

import re

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.reports.request import ReportRequest
from bot.storage.models import Centre, ProvinceTarget, Target
from surveys.ceiling import equal_tailed_high
from surveys.scoring import Scores
from surveys.spread import probability_above

SIPAS = "sipas"
ELEMENTS = ("access", "procedure", "staff", "result", "feedback")  # docs/sipas.md, "The model"
FIRST_YEAR, LAST_YEAR = 2000, 2100
_ELEMENT = re.compile(r"^\s*([A-Za-z_]+)\s*=\s*(\S+)\s*$")

Goals = dict[tuple[str, int], dict[str, float]]  # (centre code, year) -> {measure: target}


def parse_goals(year: int, sipas: float | None, elements: tuple[str, ...]) -> dict[str, float]:
    """The measures of `target set`: --sipas and each --element CODE=VALUE; a UserError for a bad one."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UserError.say("admin.target_bad_year", year=year, first=FIRST_YEAR, last=LAST_YEAR)
    goals = {} if sipas is None else {SIPAS: _percent(sipas, "--sipas")}
    for item in elements:
        found = _ELEMENT.match(item)
        code = found.group(1).lower() if found else ""
        if code not in ELEMENTS:
            raise UserError.say("admin.target_bad_element", given=item, elements=", ".join(ELEMENTS))
        try:
            value = float(found.group(2).replace(",", "."))
        except ValueError:
            raise UserError.say("admin.target_bad_value", option=f"--element {code}", value=found.group(2)) from None
        goals[code] = _percent(value, f"--element {code}")
    if not goals:
        raise UserError.say("admin.target_nothing")
    return goals


def _percent(value: float, option: str) -> float:
    if not 0.0 <= value <= 100.0:  # NaN fails too
        raise UserError.say("admin.target_bad_value", option=option, value=value)
    return float(value)


async def set_goals(session: AsyncSession, centre: Centre | None, year: int,
                    goals: dict[str, float]) -> dict[str, float]:
    """Store ``goals`` for the centre (None: the province) and year, replacing the same measures; returns all the
    year's targets of that centre or of the province."""
    if centre is None:
        await session.execute(delete(ProvinceTarget).where(ProvinceTarget.year == year,
                                                           ProvinceTarget.measure.in_(list(goals))))
        session.add_all(ProvinceTarget(year=year, measure=m, value=v) for m, v in goals.items())
    else:
        await session.execute(delete(Target).where(Target.centre_id == centre.id, Target.year == year,
                                                   Target.measure.in_(list(goals))))
        session.add_all(Target(centre_id=centre.id, year=year, measure=m, value=v) for m, v in goals.items())
    await session.flush()
    return (await load_goals(session)).get((centre and centre.code, year), {})


async def remove_goals(session: AsyncSession, centre: Centre | None, year: int) -> int:
    """Delete every target of the centre (None: the province) for the year; how many there were."""
    if centre is None:
        result = await session.execute(delete(ProvinceTarget).where(ProvinceTarget.year == year))
    else:
        result = await session.execute(delete(Target).where(Target.centre_id == centre.id, Target.year == year))
    return result.rowcount or 0


async def load_goals(session: AsyncSession) -> Goals:
    """Every target, by (centre code, year), the province's by (None, year) first; measures in the order SIPAS,
    then the elements."""
    rows = (await session.execute(select(ProvinceTarget.year, ProvinceTarget.measure, ProvinceTarget.value))).all()
    found = [(None, *row) for row in rows]
    found += (await session.execute(select(Centre.code, Target.year, Target.measure, Target.value)
                                    .join(Centre, Centre.id == Target.centre_id))).all()
    goals: Goals = {}
    order = (SIPAS, *ELEMENTS)
    for code, year, measure, value in sorted(found, key=lambda r: (r[0] is not None, r[0] or "", r[1],
                                                                   order.index(r[2]) if r[2] in order
                                                                   else len(order))):
        goals.setdefault((code, year), {})[measure] = value
    return goals


def period_year(key: str, request: ReportRequest) -> int | None:
    """The year a row's period lies in, or None (a whole range not within one year)."""
    if key != "all":
        return int(key[:4]) if key[:4].isdigit() else None
    start, end = request.date_from, request.date_to
    return start.year if start and end and start.year == end.year else None


class Aims:
    """The ``target`` of each report row (call ``of`` with the row's group number in ``scores``)."""

    def __init__(self, goals: Goals, scores: Scores, elements: list[str], request: ReportRequest) -> None:
        count = len(scores.groups)
        self.goals, self.request, self.elements = goals, request, elements
        self.sipas = [scores.groups[c].to_numpy(dtype=np.float64) for c in ("sipas", "sipas_low", "sipas_high")]
        index, low, high = (scores.elements[c].to_numpy(dtype=np.float64).reshape(count, len(elements))
                            for c in ("index", "low", "high"))
        # p_above reads the interval as equal-tailed: a one-sided upper end (surveys.ceiling) is moved to match
        one_sided = scores.elements["one_sided"].to_numpy(dtype=bool).reshape(count, len(elements))
        self.parts = [index, low, np.where(one_sided, equal_tailed_high(index, high), high)]
        self.dimension = "centre" if "centre" in request.by else "parent" if "parent" in request.by else None
        self.province = not request.by  # the --total rows: every response of the period

    def of(self, g: int, row: dict) -> dict | None:
        """``{sipas: {target, gap, p_above} | None, elements: {code: {...}}}``, or None without a target."""
        year = period_year(row["period"], self.request)
        if not (self.province or self.dimension) or year is None:
            return None
        found = self.goals.get((None if self.province else row[self.dimension], year))
        if not found:
            return None
        sipas = _aim(found[SIPAS], *(a[g] for a in self.sipas)) if SIPAS in found else None
        elements = {e: _aim(found[e], *(a[g, i] for a in self.parts))
                    for i, e in enumerate(self.elements) if e in found}
        return {"sipas": sipas, "elements": elements}


def _aim(target: float, estimate: float, low: float, high: float) -> dict:
    if np.isnan(estimate):
        return {"target": target, "gap": None, "p_above": None}
    above = probability_above(target, estimate, low, high)
    return {"target": target, "gap": target - float(estimate), "p_above": None if np.isnan(above) else float(above)}
