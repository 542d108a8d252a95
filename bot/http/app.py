"""The HTTP service started by `sipas-bot serve`: an app factory with one JSON error boundary.

On start it opens the database (bringing the schema up to date), starts the channels the settings turn on (their
webhook routes were added when the app was made) and sweeps abandoned surveys and overdue invitations every few
minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from bot import channels as channel_registry
from bot.config import Settings
from bot.http.errors import json_errors
from bot.http.health import ROUTES as HEALTH_ROUTES
from bot.http.keys import CHANNELS, INSTRUMENTS, SERVICES, SETTINGS
from bot.instruments import load_instruments
from bot.services import open_services
from bot.survey.conversation import SurveyService
from surveys.instrument import Instrument

SWEEP_SECONDS = 300
log = logging.getLogger(__name__)

__all__ = ["create_app", "json_errors", "run_server"]


async def _service_context(app: web.Application):
    async with open_services(app[SETTINGS]) as services:
        app[SERVICES] = services
        sweeper = asyncio.create_task(_sweep(SurveyService(services)))
        started = []
        try:
            for channel in app[CHANNELS]:
                await channel.start(services)
                started.append(channel)
            yield
        finally:
            for channel in reversed(started):
                await channel.stop()
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper


async def _sweep(service: SurveyService) -> None:
    while True:
        try:
            removed = await service.expire_abandoned()
            if removed:
                log.info("expired %d abandoned survey sessions", removed)
        except Exception:  # a failed sweep must not stop the service; the next one tries again
            log.exception("sweeping abandoned sessions failed")
        await asyncio.sleep(SWEEP_SECONDS)


def create_app(settings: Settings, instruments: dict[str, Instrument] | None = None) -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app[SETTINGS] = settings
    app[INSTRUMENTS] = instruments if instruments is not None else load_instruments(settings.instruments_dir)
    app[CHANNELS] = channel_registry.build_channels(settings)
    app.cleanup_ctx.append(_service_context)
    app.router.add_routes(HEALTH_ROUTES)
    for channel in app[CHANNELS]:
        app.router.add_routes(channel.routes())
    return app


def run_server(settings: Settings) -> None:
    app = create_app(settings)
    print(f"sipas-bot: serving on http://{settings.host}:{settings.port} "
          f"({len(app[INSTRUMENTS])} instruments; try `sipas-bot try` for a survey in the terminal).", flush=True)
    print(f"sipas-bot: database {settings.resolved_database_url}", flush=True)
    for line in channel_registry.describe(settings):
        print(f"sipas-bot: {line}", flush=True)
    print("sipas-bot: not built yet: the Zalo and web survey channels and the admin HTTP API.", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
