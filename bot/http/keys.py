"""The typed keys of the aiohttp application, in one place."""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.services import Services
from surveys.instrument import Instrument

INSTRUMENTS = web.AppKey("instruments", dict[str, Instrument])
SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
CHANNELS = web.AppKey("channels", list)
LOG = web.AppKey("log", bool)  # serve: configure logging and redact it
OUTBOX_HOLD = web.AppKey("outbox_hold", object)  # None: the outbox worker's own random wait
WARM_PAGES = web.AppKey("warm_pages", bool)  # compute the dashboard's usual reports at start (`serve`)
