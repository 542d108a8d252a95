"""`report --weight volume`: responses weighted to the transaction mix (post-stratification on invitations).

People who answer are self-selected, and some services' citizens answer far more often than others': a centre
where birth registrations answer three times as often as land dossiers reports mostly on birth registrations.
With `--weight volume` each response of a cell (centre x service x period of the report) weighs

    w = N_c / n_c

where N_c counts the invitations issued in the cell (our best count of its transactions) and n_c the responses
of the report in it. A cell with responses but no invitation counted (open surveys, paper forms, a service the
counter never invited for) gets the report's overall ratio sum N / sum n of the cells that have both, as if its
citizens answered at the average rate, and with no invitation anywhere every weight is 1. Weights are scaled to
average 1, so they only move groups' figures, never their n. Scoring then weights every share and index, and the
intervals use the weighted linearisation with Kish's effective n (``surveys.scoring.score``, ``weights=``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.dataset import RatingArrays
from bot.reports.participation import load_participation
from bot.reports.request import ReportRequest, period_index

WEIGHTS = ("volume",)


async def volume_weights(session: AsyncSession, survey: str, arrays: RatingArrays, request: ReportRequest,
                         timezone: str) -> np.ndarray:
    """The weight of every response (``arrays`` needs its service ids loaded)."""
    cells = replace(request, by=("centre", "service"))  # invitations per centre x service x period of the report
    issued = await load_participation(session, survey, cells, timezone)
    return weights_for(arrays.centre_id, arrays.service_id, period_index(arrays.day, request.period), issued)


def weights_for(centre: np.ndarray, service: np.ndarray, period: np.ndarray, issued: pd.DataFrame | None
                ) -> np.ndarray:
    """N_c / n_c per response of each cell, the overall ratio where N_c is unknown, scaled to average 1."""
    if not len(centre):
        return np.zeros(0)
    frame = pd.DataFrame({"centre_id": centre, "service_id": service, "period": period})
    answered = frame.groupby(["centre_id", "service_id", "period"]).size().rename("answered")
    cell = frame.join(answered, on=["centre_id", "service_id", "period"])
    if issued is not None and len(issued):
        counts = issued.set_index(["centre_id", "service_id", "period"])["issued"]
        cell = cell.join(counts, on=["centre_id", "service_id", "period"])
    else:
        cell["issued"] = np.nan
    known = cell["issued"].to_numpy(dtype=np.float64)
    responses = cell["answered"].to_numpy(dtype=np.float64)
    has = known > 0
    # Per response, so each cell counts its N and n once over its responses: sums of N/n and of 1.
    ratio = float(np.sum(known[has] / responses[has]) / has.sum()) if has.any() else 1.0
    weights = np.where(has, known / responses, ratio)
    return weights / weights.mean()
