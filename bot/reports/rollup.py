"""Roll-ups: centres under a parent (commune centres under the province's) reported together (`--by parent`),
and the province total (`--total`), each response counted once.

The parent dimension's key is the top ancestor of the response's centre: follow `Centre.parent_id` up to a
centre without a parent (a centre without a parent is its own top). `centre set --parent` refuses a parent that
would make a loop, so the walk always ends (`bot.reports.centre_tree`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.dataset import RatingArrays
from bot.reports.participation import COUNTS, load_participation
from bot.reports.request import ReportRequest, participation_keys

TOTAL_LABEL = "Toàn tỉnh"


@dataclass(frozen=True)
class RolledUp(RatingArrays):
    """Rating arrays with each response's top centre id (``top_id``), the key of the "parent" dimension."""

    top_id: np.ndarray | None = None

    def only(self, keep: np.ndarray) -> RolledUp:
        return replace(super().only(keep), top_id=self.top_id[keep])


def with_tops(arrays: RatingArrays, tops: dict[int, int]) -> RolledUp:
    """The arrays with the top centre of every response (``tops``: centre id -> its top's, `top_ancestors`; one
    lookup array, no Python per response)."""
    lookup = np.zeros(max([*tops, *arrays.centres, 0]) + 1, dtype=np.int64)
    lookup[list(tops)] = list(tops.values())
    fields = {name: getattr(arrays, name) for name in RatingArrays.__dataclass_fields__}
    return RolledUp(**fields, top_id=np.take(lookup, arrays.centre_id, mode="clip"))


async def participation_of(session: AsyncSession, survey: str, request: ReportRequest, timezone: str,
                           tops: dict[int, int], load=load_participation) -> pd.DataFrame | None:
    """Invitation counts as the report groups them (`load_participation`, or ``load``: the same from memory); by
    parent, each centre's (and service's) counted, then summed to its top centre."""
    keys = participation_keys(request)
    if keys is None or "parent" not in keys:
        return await load(session, survey, request, timezone)
    by_centre = replace(request, by=("centre", *(d for d in keys if d == "service")))
    frame = await load(session, survey, by_centre, timezone)
    if frame is None:
        return None
    frame = frame.assign(parent_id=[tops.get(c, c) for c in frame["centre_id"].tolist()])
    return frame.groupby([*(f"{k}_id" for k in keys), "period"])[list(COUNTS)].sum().reset_index()


def with_totals(rows: list[dict], totals: list[dict], by: tuple[str, ...]) -> list[dict]:
    """The ordered rows with each period's total row just before the first row of that period (unranked)."""
    first: dict[str, int] = {}
    for position, row in enumerate(rows):
        first.setdefault(row["period"], position)
    placed: dict[int, list[dict]] = {}
    trailing = []
    for total in totals:
        marked = {**dict.fromkeys(by), "total": True, **total}  # unranked: bot.reports.ranks skips it
        position = first.get(total["period"])
        (trailing if position is None else placed.setdefault(position, [])).append(marked)
    out = []
    for position, row in enumerate(rows):
        out += placed.get(position, [])
        out.append(row)
    return out + trailing
