"""The HTTP service started by `sipas-bot serve`: an app factory with one JSON error boundary.

On start it opens the database (bringing the schema up to date), starts the channels the settings turn on (their
webhook routes were added when the app was made) and sweeps abandoned surveys and overdue invitations every few
minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket

from aiohttp import web

from bot import channels as channel_registry
from bot import logs
from bot.config import Settings
from bot.errors import UserError
from bot.http import api, dashboard, zalo_oauth
from bot.http.dashboard.reports import refresh_usual_pages, usual_requests
from bot.http.errors import json_errors
from bot.http.health import ROUTES as HEALTH_ROUTES
from bot.http.keys import CHANNELS, INSTRUMENTS, LOG, OUTBOX_HOLD, SERVICES, SETTINGS, WARM_PAGES
from bot.http.metrics import ROUTES as METRICS_ROUTES
from bot.instruments import load_instruments
from bot.reports.memory import keep_in_memory
from bot.services import open_services
from bot.survey.conversation import SurveyService
from surveys.instrument import Instrument

SWEEP_SECONDS = 300
log = logging.getLogger(__name__)

__all__ = ["create_app", "json_errors", "run_server"]


async def _service_context(app: web.Application):
    async with open_services(app[SETTINGS]) as services:
        app[SERVICES] = services
        # The dashboard's and the API's reports (bot.reports.memory); `serve` computes the usual pages at start
        # and keeps them up to date in the background.
        swept = asyncio.Event()

        async def usual_pages_after_the_first_sweep():
            # The first sweep expires overdue invitations (and so changes their days): pages computed before it
            # would be computed again by their first visitor.
            await swept.wait()
            return await usual_requests(services)
        background = [keep_in_memory(services, usual_pages_after_the_first_sweep if app[WARM_PAGES] else ())]
        if app[WARM_PAGES]:
            background.append(asyncio.create_task(refresh_usual_pages(services)))
        if app[LOG]:
            logs.install(app[SETTINGS], services.secret_key)  # from here on, no secret and no citizen in the logs
        background.append(asyncio.create_task(_sweep(SurveyService(services), swept)))
        try:
            async with channel_registry.running(services, app[CHANNELS], outbox_hold=app[OUTBOX_HOLD]):
                yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def _sweep(service: SurveyService, swept: asyncio.Event) -> None:
    while True:
        try:
            removed = await service.expire_abandoned()
            if removed:
                log.info("expired %d abandoned survey sessions", removed)
        except Exception:  # a failed sweep must not stop the service; the next one tries again
            log.exception("sweeping abandoned sessions failed")
        swept.set()
        await asyncio.sleep(SWEEP_SECONDS)


def create_app(settings: Settings, instruments: dict[str, Instrument] | None = None, *, log: bool = False,
               outbox_hold: tuple[float, float] | None = None, warm_pages: bool = False) -> web.Application:
    """The service's aiohttp app; ``outbox_hold`` shortens the random wait of alerts (tests); ``warm_pages``
    computes the dashboard's usual reports in the background at start (`sipas-bot serve`)."""
    app = web.Application(middlewares=[json_errors, api.api_errors])  # /api/v1: its own shape
    app[SETTINGS] = settings
    app[LOG] = log
    app[OUTBOX_HOLD] = outbox_hold
    app[WARM_PAGES] = warm_pages
    app[INSTRUMENTS] = instruments if instruments is not None else load_instruments(settings.instruments_dir)
    app[CHANNELS] = channel_registry.build_channels(settings)
    app.cleanup_ctx.append(_service_context)
    app.router.add_routes(HEALTH_ROUTES)
    app.router.add_routes(METRICS_ROUTES)
    app.router.add_routes(api.routes())  # /api/v1 (bot.http.api)
    for channel in app[CHANNELS]:
        app.router.add_routes(channel.routes())
    app.router.add_routes(zalo_oauth.routes(settings))  # Zalo's OAuth redirect (public URL and OA configured)
    app.router.add_routes(dashboard.routes())  # /dashboard (bot.http.dashboard)
    return app


def check_listen(host: str, port: int) -> None:
    """Refuse, before anything starts (the database, the channels), an address the server could not listen on:
    a port in use, a privileged port, a host that is not this machine's."""
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UserError.say("admin.host_unusable", host=host, reason=error.strerror) from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            # As asyncio binds: address reuse (a closed server's TIME_WAIT is no conflict), IPv6 apart from IPv4.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise _listen_error(error, host, port) from None


def _listen_error(error: OSError, host: str, port: int) -> UserError:
    if error.errno == errno.EADDRINUSE:
        return UserError.say("admin.port_in_use", host=host, port=port)
    if error.errno in (errno.EACCES, errno.EPERM):
        return UserError.say("admin.port_denied", port=port)
    return UserError.say("admin.host_unusable", host=host, reason=error.strerror or error)


def run_server(settings: Settings) -> None:
    check_listen(settings.host, settings.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic.runtime.plugins"):  # a line per Bot API call, per Alembic plugin: noise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app = create_app(settings, log=True, warm_pages=True)
    print(f"sipas-bot: serving on http://{settings.host}:{settings.port} "
          f"({len(app[INSTRUMENTS])} instruments; try `sipas-bot try` for a survey in the terminal).", flush=True)
    print(f"sipas-bot: database {settings.database_url_shown}", flush=True)
    for line in channel_registry.describe(settings):
        print(f"sipas-bot: {line}", flush=True)
    print("sipas-bot: HTTP API at /api/v1 (keys: `sipas-bot apikey create`).", flush=True)
    print("sipas-bot: dashboard at /dashboard (a login link: `sipas-bot admin login-link --role admin`).", flush=True)
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except OSError as error:  # taken between the check and the start: still one line
        if error.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise _listen_error(error, settings.host, settings.port) from None
        raise
