"""The HTTP service started by `sipas-bot serve`: an app factory with one JSON error boundary.

On start it opens the database (bringing the schema up to date) and sweeps abandoned surveys and overdue
invitations every few minutes. For now it serves a health check and the instrument catalogue; webhooks and the
admin API join it later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from bot.config import Settings
from bot.services import open_services
from bot.survey.conversation import SurveyService
from bot.survey.instruments import load_instruments
from surveys.instrument import Instrument

INSTRUMENTS = web.AppKey("instruments", dict[str, Instrument])
SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", SurveyService)
TELEGRAM = web.AppKey("telegram", object)
SWEEP_SECONDS = 300
log = logging.getLogger(__name__)


async def _service_context(app: web.Application):
    async with open_services(app[SETTINGS]) as composed:
        service = SurveyService(composed)
        app[SERVICE] = service
        sweeper = asyncio.create_task(_sweep(service))
        telegram = None
        if app[SETTINGS].telegram_token is not None:
            from adapters.telegram.channel import TelegramChannel

            telegram = TelegramChannel(app[SETTINGS], service)
            app[TELEGRAM] = telegram
            await telegram.start()
        try:
            yield
        finally:
            if telegram is not None:
                await telegram.stop()
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper


async def telegram_webhook(request: web.Request) -> web.Response:
    channel = request.app.get(TELEGRAM)
    if channel is None:
        raise web.HTTPServiceUnavailable(reason="the Telegram channel is not running")
    return await channel.handle_webhook(request)


async def _sweep(service: SurveyService) -> None:
    while True:
        try:
            removed = await service.expire_abandoned()
            if removed:
                log.info("expired %d abandoned survey sessions", removed)
        except Exception:  # a failed sweep must not stop the service; the next one tries again
            log.exception("sweeping abandoned sessions failed")
        await asyncio.sleep(SWEEP_SECONDS)


@web.middleware
async def json_errors(request: web.Request, handler):
    """Every error leaves as JSON {"error": ..., "status": ...}; internals are never shown."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return web.json_response({"error": error.reason, "status": error.status}, status=error.status)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "instruments": len(request.app[INSTRUMENTS])})


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


def create_app(settings: Settings, instruments: dict[str, Instrument] | None = None) -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app[SETTINGS] = settings
    app[INSTRUMENTS] = instruments if instruments is not None else load_instruments(settings.instruments_dir)
    app.cleanup_ctx.append(_service_context)
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/instruments", list_instruments)
    app.router.add_get("/api/instruments/{instrument_id}", get_instrument)
    if settings.telegram_token is not None and settings.public_url:
        app.router.add_post("/webhooks/telegram", telegram_webhook)
    return app


def run_server(settings: Settings) -> None:
    app = create_app(settings)
    print(f"sipas-bot: serving on http://{settings.host}:{settings.port} "
          f"({len(app[INSTRUMENTS])} instruments; try `sipas-bot try` for a survey in the terminal).", flush=True)
    print(f"sipas-bot: database {settings.resolved_database_url}", flush=True)
    if settings.telegram_token is None:
        print("sipas-bot: Telegram is off (no SIPAS_TELEGRAM_TOKEN).", flush=True)
    else:
        mode = "webhook" if settings.public_url else "long polling"
        print(f"sipas-bot: Telegram on ({mode}).", flush=True)
    print("sipas-bot: not built yet: the Zalo and web survey channels and the admin HTTP API.", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
