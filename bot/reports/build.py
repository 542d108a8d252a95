"""SIPAS reports from stored responses: one row per group (centre, service, channel, origin as asked, and period).

`build_report` is the one entry point for every surface (CLI today, the HTTP API later): it reads in one
snapshot, then scores in a worker thread so the event loop stays free. The rows are JSON-ready dicts (the
`--format json` contract); the renderers in `bot.reports.render`, `bot.reports.xlsx` and `bot.reports.chart` only
format them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy import select

from bot.errors import UserError
from bot.reports.cases import add_case_figures
from bot.reports.centre_tree import load_parents, top_ancestors
from bot.reports.compare import compare_rows
from bot.reports.dataset import RatingArrays, load_arrays
from bot.reports.participation import COUNTS, load_participation
from bot.reports.priority import add_priorities, drivers_per_group
from bot.reports.quality import group_of, group_quality
from bot.reports.ranks import rank_rows
from bot.reports.request import (
    ORIGINS,
    ReportRequest,
    participation_keys,
    period_index,
    period_key,
)
from bot.reports.rollup import participation_of, with_tops, with_totals
from bot.reports.selection import choose, flagged_per_group
from bot.reports.suppression import publish, withhold
from bot.reports.targets import Aims, Goals, load_goals
from bot.reports.weighting import volume_weights
from bot.reports.window import loading_from, rolling
from bot.services import Services
from bot.storage.models import Centre, Service
from surveys.instrument import Instrument
from surveys.scoring import Scores, score

CRITERION_MEASURES = ("n", "satisfied_pct", "neutral_pct", "dissatisfied_pct", "mean")
# Instruments that are not SIPAS (docs/sipas.md, "Other instruments"): their criteria's satisfied share and mean
# are reported, never a SIPAS index or element indices.
NOT_SIPAS = frozenset({"zns-rating"})


def is_sipas(instrument: Instrument) -> bool:
    """Whether the report of ``instrument`` carries a SIPAS index (its elements' and the overall one)."""
    return instrument.id not in NOT_SIPAS


@dataclass(frozen=True)
class Report:
    request: ReportRequest  # with the survey id resolved
    instrument: Instrument
    rows: list[dict]
    centre_names: dict[str, str]
    service_names: dict[str, str]
    flagged_included: int = 0  # flagged responses counted in the figures (each row says how many of its n)
    flagged_excluded: int = 0  # flagged responses left out (--exclude-flagged)

    @property
    def sipas(self) -> bool:
        return is_sipas(self.instrument)

    @property
    def elements(self) -> list[str]:
        """The element codes with an index in the rows (none for an instrument that is not SIPAS)."""
        return list(dict.fromkeys(self.instrument.criteria().values())) if self.sipas else []

    def as_json(self) -> dict:
        request = self.request
        return {
            "survey": request.survey, "period": request.period, "by": list(request.by), "min_n": request.min_n,
            "from": request.date_from.isoformat() if request.date_from else None,
            "to": request.date_to.isoformat() if request.date_to else None,
            "origin": list(request.origins) if request.origins is not None else None,
            "exclude_flagged": request.exclude_flagged, "weight": request.weight,
            "flagged": {"included": self.flagged_included, "excluded": self.flagged_excluded},
            "rows": _settled(self.rows),
        }


# Sums of floats depend on the order rows arrive in, which differs between SQLite and PostgreSQL (and between
# runs): the last bits of an interval differ. Nine decimals of a percentage is far beyond what is meaningful and
# makes the JSON the same for the same data on either backend.
JSON_DECIMALS = 9


def _settled(value):
    if isinstance(value, float):
        return round(value, JSON_DECIMALS) + 0.0  # + 0.0: a -0.0 (a tiny negative rounded) prints as 0.0
    if isinstance(value, dict):
        return {key: _settled(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_settled(item) for item in value]
    return value


async def build_report(services: Services, request: ReportRequest, memory=None) -> Report:
    """Read, score and order; raises UserError for an unknown survey or answers stored in another layout.

    ``memory`` (default ``services.reports``, which the long-running server sets): a `bot.reports.memory`
    ReportMemory that keeps the responses and the reports' periods in memory; None reads everything afresh."""
    memory = memory if memory is not None else getattr(services, "reports", None)
    if memory is not None:
        return await memory.report(services, request)
    return await compute_report(services, request)


async def compute_report(services: Services, request: ReportRequest, memory=None) -> Report:
    """`build_report`'s work, with the responses from ``memory`` when given (and its base report through it)."""
    instrument = services.instrument(request.survey)
    request = replace(request, survey=instrument.id)
    read = memory.arrays if memory is not None else load_arrays
    async with services.db.reading() as session:
        try:
            arrays = await read(session, instrument, loading_from(request), request.date_to,
                                service="service" in request.by or request.weight is not None,
                                channel="channel" in request.by)
        except ValueError as error:
            raise UserError(f"the stored answers to '{instrument.id}' do not fit its {len(instrument.criteria())} "
                            f"criteria ({error}); were they recorded with another version?") from error
        chosen = await asyncio.to_thread(choose, arrays, request)  # copies the arrays when it leaves rows out
        arrays = await asyncio.to_thread(rolling, chosen.arrays, request)  # --window: a copy per period counted in
        # Each centre's top centre: the key of --by parent, and the roll-ups a report by centre must not give away.
        tops = top_ancestors(await load_parents(session)) if {"parent", "centre"} & set(request.by) else {}
        if "parent" in request.by:  # the top centre of every response (bot.reports.rollup)
            arrays = with_tops(arrays, tops)
        goals = await load_goals(session)
        weights = await volume_weights(session, instrument.id, arrays, request, services.settings.timezone) \
            if request.weight else None
        whole = replace(request, by=())  # the province total: every response, per period
        totals = asyncio.ensure_future(asyncio.to_thread(score_arrays, arrays, instrument, whole, weights)) \
            if request.total else None
        # Score in a worker thread while SQLite counts the invitations in the driver's: same snapshot, two cores.
        scoring = asyncio.ensure_future(asyncio.to_thread(score_arrays, arrays, instrument, request, weights))
        try:
            count = memory.participation if memory is not None else load_participation
            participation = await participation_of(session, instrument.id, request, services.settings.timezone,
                                                   tops, count) if len(arrays) else None
            centre_names = dict((await session.execute(select(Centre.code, Centre.name))).all())
            service_names = dict((await session.execute(select(Service.code, Service.name))).all())
            whole_participation = await count(session, instrument.id, whole, services.settings.timezone) \
                if totals and len(arrays) else None
        finally:
            scores = await scoring
            total_scores = await totals if totals else None
    rows = await asyncio.to_thread(report_rows, scores, arrays, participation, instrument, request, goals, tops)
    if total_scores is not None:
        whole_rows = await asyncio.to_thread(report_rows, total_scores, arrays, whole_participation, instrument, whole,
                                             goals)  # the province's targets
        rows = with_totals(rows, whole_rows, request.by)
    await asyncio.to_thread(rank_rows, rows, request.by)
    await compare_rows(request, rows, lambda base: build_report(services, base, memory))  # --compare: the base
    add_priorities(rows, request.by, instrument.criteria(), is_sipas(instrument))
    await add_case_figures(services, request, rows)  # --by centre: the follow-up cases (bot.reports.cases)
    return Report(request, instrument, rows, centre_names, service_names, chosen.flagged_included,
                  chosen.flagged_excluded)


def score_arrays(arrays: RatingArrays, instrument: Instrument, request: ReportRequest,
                 weights: np.ndarray | None = None) -> Scores | None:
    """The SIPAS measures of every group (CPU-bound: call it off the event loop); None without responses.
    ``weights``: one per response (--weight volume), or None to count each response once."""
    if not len(arrays):
        return None
    criteria = instrument.criteria()
    frame = pd.DataFrame({**group_keys(arrays, request), **_rating_columns(arrays.codes, list(criteria))})
    return score(frame, criteria, by=[*request.by, "period"], min_n=request.min_n, weights=weights)


def group_keys(arrays: RatingArrays, request: ReportRequest) -> dict[str, np.ndarray]:
    """The raw key of every response per dimension asked for, and its period index."""
    keys = {"centre": arrays.centre_id, "service": arrays.service_id, "channel": arrays.channel,
            "origin": arrays.origin, "parent": getattr(arrays, "top_id", None)}
    return {**{d: keys[d] for d in request.by}, "period": period_index(arrays.day, request.period)}


def report_rows(scores: Scores | None, arrays: RatingArrays, participation: pd.DataFrame | None,
                instrument: Instrument, request: ReportRequest, goals: Goals | None = None,
                tops: dict[int, int] | None = None) -> list[dict]:
    """The ordered JSON rows."""
    if scores is None:
        return []
    criteria = instrument.criteria()
    groups = scores.groups
    count, codes = len(groups), list(criteria)
    elements = list(dict.fromkeys(criteria.values()))
    element_index = _listed(scores.elements["index"], (count, len(elements)))
    element_low, element_high = (_listed(scores.elements[c], (count, len(elements))) for c in ("low", "high"))
    one_sided = scores.elements["one_sided"].to_numpy(dtype=bool).reshape(count, len(elements))
    no_dissatisfied_low, no_dissatisfied_high = (_listed(groups[c], (count,)) for c in ("no_dissatisfied_low",
                                                                                         "no_dissatisfied_high"))
    measures = [_listed(scores.criteria[name], (count, len(codes))) for name in (*CRITERION_MEASURES, "ci_low",
                                                                                   "ci_high")]
    counts = _participation_lookup(participation)
    id_columns = {d: groups[d].to_numpy().tolist() for d in request.by}
    periods = groups["period"].to_numpy().tolist()
    keys = group_keys(arrays, request)
    group = group_of(keys, groups)  # each response's group: for the key drivers and the data quality
    flagged = flagged_per_group(keys, arrays.flagged) if arrays.flagged.any() else {}
    names = {"centre": arrays.centres, "service": arrays.services, "parent": arrays.centres}
    sipas_index = is_sipas(instrument)
    # Where to act first (bot.reports.priority, bot.reports.targets): drivers per group, targets per centre row.
    drivers = drivers_per_group(group, arrays.codes, codes, request.min_n, count) if sipas_index else None
    aims = Aims(goals, scores, elements, request) if goals and sipas_index else None
    parts = [elements.index(criteria[code]) for code in codes]
    criterion_n = scores.criteria["n"].to_numpy().reshape(count, len(codes))
    withheld = withhold(groups, criterion_n, parts, request.by, request.min_n, sipas_index, tops)
    rows = []
    for g, (n, suppressed, sipas, low, high, no_dissatisfied) in enumerate(zip(
            groups["n"].tolist(), withheld.suppressed, *(_listed(groups[c], (count,)) for c in (
                "sipas", "sipas_low", "sipas_high", "no_dissatisfied_pct")), strict=True)):
        row: dict = {}
        for d in request.by:
            raw = id_columns[d][g]
            row[d] = arrays.channels[raw] if d == "channel" else ORIGINS[raw] if d == "origin" else names[d].get(raw)
        row["period"] = period_key(periods[g], request.period)
        key = (*(id_columns[d][g] for d in request.by), periods[g])
        row.update(n=n, suppressed=suppressed, suppressed_reason=withheld.reason[g], flagged=flagged.get(key, 0),
                   sipas=None, sipas_ci=None, no_dissatisfied_pct=None, elements=None, criteria=None)
        if not suppressed and sipas_index:
            row.update(sipas=sipas, sipas_ci=[low, high], no_dissatisfied_pct=no_dissatisfied,
                       elements=dict(zip(elements, element_index[g], strict=True)))
        # their intervals, null where the measures are; the elements whose upper end is one-sided (surveys.ceiling)
        row.update(no_dissatisfied_ci=None, elements_ci=None, elements_one_sided=None)
        if not suppressed and sipas_index:
            row.update(no_dissatisfied_ci=[no_dissatisfied_low[g], no_dissatisfied_high[g]],
                       elements_ci={e: [lo, hi] for e, lo, hi in zip(elements, element_low[g], element_high[g],
                                                                     strict=True)},
                       elements_one_sided=[e for e, flag in zip(elements, one_sided[g], strict=True) if flag])
        if not suppressed:
            row.update(criteria={code: {"n": int(c_n), "satisfied_pct": sat, "neutral_pct": neutral,
                                        "dissatisfied_pct": dis, "mean": mean, "ci": [c_low, c_high]}
                                 for code, c_n, sat, neutral, dis, mean, c_low, c_high in zip(
                                     codes, *(m[g] for m in measures), strict=True)})
        published = not suppressed and sipas_index
        row.update(drivers=drivers[g] if published else None, priority=None,
                   target=aims.of(g, row) if aims and published else None)
        invited = "origin" not in request.by or row["origin"] == "invited"  # open and paper ones had no invitation
        row["participation"] = _participation(counts, request, id_columns, g, periods[g]) if invited else None
        rows.append(row)
    publish(rows, withheld, codes, elements)  # what would give a suppressed figure away (bot.reports.suppression)
    quality = group_quality(groups, scores.criteria, group, arrays, codes)
    for row, measures_of_data in zip(rows, quality, strict=True):
        row["quality"] = None if row["suppressed"] else measures_of_data
    rows.sort(key=lambda r: _order(r, request.by))
    return rows


def _rating_columns(codes: np.ndarray, criteria: list[str]) -> dict[str, pd.api.extensions.ExtensionArray]:
    """Packed bytes as nullable integer columns: 0..5 as stored, "no answer" (255) as missing."""
    columns = np.ascontiguousarray(codes.T)
    return {c: pd.arrays.IntegerArray(columns[i], columns[i] == 255) for i, c in enumerate(criteria)}


def _listed(column: pd.Series, shape: tuple[int, ...]) -> list:
    """Floats as (nested) Python lists with None for NaN, converted in one numpy pass (JSON has no NaN)."""
    values = column.to_numpy(dtype=np.float64).reshape(shape)
    return np.where(np.isnan(values), None, values).tolist()


def _participation_lookup(frame: pd.DataFrame | None) -> dict[tuple, tuple[int, ...]]:
    if frame is None or frame.empty:
        return {}
    keys = [c for c in frame.columns if c not in COUNTS]
    return dict(zip(frame[keys].itertuples(index=False, name=None),
                    frame[list(COUNTS)].itertuples(index=False, name=None), strict=True))


def _participation(counts: dict, request: ReportRequest, ids: dict[str, list], g: int, period: int) -> dict | None:
    keys = participation_keys(request)
    if keys is None:
        return None
    found = counts.get((*(ids[k][g] for k in keys), period))
    if not found or not found[0]:
        return None
    out = dict(zip(COUNTS, (int(v) for v in found), strict=True))
    if not out["zns"]:  # the key only where ZNS messages (paid) were sent: other reports keep their shape
        del out["zns"]
    out["response_rate"] = 100 * out["completed"] / out["issued"]  # on 0-100, as every percentage
    return out


def _order(row: dict, by: tuple[str, ...]) -> tuple:
    """Period by period (in time order), and within each: highest lower bound first, then rows without one,
    suppressed last; ties by the keys (None last). A league table never mixes periods."""
    # Rounded as in the JSON: equal bounds whose last bits differ (order of summation) must tie, on every backend.
    low = row["sipas_ci"][0] if row["sipas_ci"] else None
    low = None if low is None else round(low, JSON_DECIMALS)
    keys = tuple((row[d] is None, row[d] or "") for d in by)
    return (row["period"], row["suppressed"], low is None, -(low or 0.0), *keys)
