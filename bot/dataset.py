"""Stored responses as a scoring table: one row per response, one column per criterion, plus the keys reports
group by. The one place that reads answers out of the database in bulk."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Centre, Response, Service
from bot.packing import unpack_ratings
from surveys.instrument import Instrument

KEY_COLUMNS = ("centre", "service", "channel", "submitted_on")


async def load_ratings(session: AsyncSession, instrument: Instrument, date_from: dt.date | None = None,
                       date_to: dt.date | None = None) -> pd.DataFrame:
    """Responses to ``instrument`` submitted between the dates (inclusive) as a frame for `surveys.scoring`.

    Columns: centre (code), service (code or None), channel, submitted_on (datetime64), then one column per
    criterion in instrument order (1..5, 0 = not applicable, NaN = no answer).
    """
    query = (
        select(Centre.code, Service.code, Response.channel, Response.submitted_on, Response.ratings)
        .join(Centre, Response.centre_id == Centre.id)
        .outerjoin(Service, Response.service_id == Service.id)
        .where(Response.instrument == instrument.id)
    )
    if date_from is not None:
        query = query.where(Response.submitted_on >= date_from)
    if date_to is not None:
        query = query.where(Response.submitted_on <= date_to)
    rows = (await session.execute(query)).all()
    criteria = list(instrument.criteria())
    keys = pd.DataFrame(
        [row[:4] for row in rows], columns=list(KEY_COLUMNS)
    ) if rows else pd.DataFrame({column: pd.Series(dtype=object) for column in KEY_COLUMNS})
    keys["submitted_on"] = pd.to_datetime(keys["submitted_on"])
    ratings = pd.DataFrame(unpack_ratings((row[4] for row in rows), len(criteria)) if rows else None,
                           columns=criteria, dtype="float32")
    return pd.concat([keys, ratings], axis=1)
