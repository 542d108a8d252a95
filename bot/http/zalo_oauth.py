"""`GET /zalo/oauth/callback?code=..&state=..&oa_id=..`: where Zalo sends the OA admin after they allowed access
(the redirect of `sipas-bot zalo authorize`). The code is exchanged for the first token pair, as
`sipas-bot zalo authorize --code` does, and a small page (or JSON, when asked for) says how it went.

Served only when SIPAS_PUBLIC_URL is set and the OA is configured: without a public address Zalo cannot reach it.
"""

from __future__ import annotations

import html
import logging

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.errors import UserError
from bot.http.keys import SERVICES, SETTINGS
from bot.texts import say
from bot.zalo import oauth

log = logging.getLogger(__name__)
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em">
<h1 style="font-size:1.3em">{title}</h1><p>{message}</p></body></html>
"""


def routes(settings: Settings) -> list[web.RouteDef]:
    """The callback route, when this service has a public address and a configured OA; else none."""
    if not (settings.public_url and settings.zalo_oa_enabled):
        return []
    return [web.get(oauth.CALLBACK_PATH, callback)]


async def callback(request: web.Request) -> web.Response:
    language = request.app[SETTINGS].admin_language
    code, state = request.query.get("code", ""), request.query.get("state", "")
    if not code or not state:
        return _answer(request, 400, say("admin.zalo_callback_failed", language,
                                         reason=say("admin.zalo_callback_no_code", language)))
    try:
        async with aiohttp.ClientSession() as http:
            pair = await oauth.exchange(request.app[SERVICES], http, code, state)
    except UserError as error:
        log.warning("zalo: the OAuth callback failed: %s", error)
        return _answer(request, error.status,
                       say("admin.zalo_callback_failed", language, reason=error.text(language)))
    return _answer(request, 200, say("admin.zalo_callback_ok", language,
                                     until=oauth.valid_until(pair.expires_at, request.app[SETTINGS])))


def _answer(request: web.Request, status: int, message: str) -> web.Response:
    language = request.app[SETTINGS].admin_language
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return web.json_response({"ok": status == 200, "message": message}, status=status)
    page = PAGE.format(lang=language, title=html.escape(say("admin.zalo_callback_title", language)),
                       message=html.escape(message))
    return web.Response(text=page, status=status, content_type="text/html")
