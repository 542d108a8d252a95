"""`GET /healthz` and the instrument catalogue `GET /api/instruments[/{id}]`."""

from __future__ import annotations

from aiohttp import web

from bot.http.keys import INSTRUMENTS
from bot.survey.redemptions import PROCESS_GUARD
from surveys.instrument import Instrument


async def health(request: web.Request) -> web.Response:
    # The code-guessing counters of this process (bot/survey/redemptions.py): a rising failed_total is an attack.
    return web.json_response({"status": "ok", "instruments": len(request.app[INSTRUMENTS]),
                              "redemptions": PROCESS_GUARD.metrics()})


def _describe(instrument: Instrument) -> dict:
    return {
        "id": instrument.id,
        "version": instrument.version,
        "title": dict(instrument.title.by_language),
        "languages": list(instrument.languages),
        "criteria": instrument.criteria(),
        "optional_sections": list(instrument.optional_sections()),
    }


async def list_instruments(request: web.Request) -> web.Response:
    return web.json_response([_describe(i) for i in request.app[INSTRUMENTS].values()])


async def get_instrument(request: web.Request) -> web.Response:
    instrument = request.app[INSTRUMENTS].get(request.match_info["instrument_id"])
    if instrument is None:
        raise web.HTTPNotFound(reason="unknown instrument")
    return web.json_response(_describe(instrument))


ROUTES = [web.get("/healthz", health), web.get("/api/instruments", list_instruments),
          web.get("/api/instruments/{instrument_id}", get_instrument)]
