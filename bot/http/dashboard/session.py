"""Who is logged in to the dashboard: a signed session cookie, CSRF tokens, and the login and logout pages.

The cookie holds the API key's id, an expiry and a random nonce, signed with HMAC-SHA256 under the service's
secret key; it is HttpOnly, SameSite=Strict, and Secure when the public URL is https. Every request checks the key
again, so revoking the key (`sipas-bot apikey revoke`) ends its sessions at once. A form's CSRF token is an HMAC of
the cookie it goes with (before login, of a random pre-login cookie): another site can neither read nor make one.
"""

from __future__ import annotations

import hmac
import secrets
import time

from aiohttp import web

from bot.http.dashboard.render import page, redirect
from bot.http.keys import SERVICES, SETTINGS
from bot.survey.api_keys import Caller, caller_of
from bot.survey.login_links import caller_by_id, redeem_link_token

COOKIE = "sipas_dash"
PRE_LOGIN = "sipas_dash_pre"  # a random value the login forms' CSRF token is bound to
SESSION_SECONDS = 12 * 3600
BASE = "/dashboard"
CALLER = web.RequestKey("dashboard_caller", Caller)
_PRE = web.RequestKey("dashboard_pre_login", str)  # the pre-login value a page just set


def _sign(request: web.Request, text: str) -> str:
    return hmac.new(request.app[SERVICES].secret_key, f"dashboard\0{text}".encode(), "sha256").hexdigest()


def _secure(request: web.Request) -> bool:
    return (request.app[SETTINGS].public_url or "").lower().startswith("https://")


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=BASE, httponly=True, samesite="Strict",
                        secure=_secure(request))


def session_value(request: web.Request, key_id: int, now: float | None = None) -> str:
    body = f"{key_id}.{int((now or time.time()) + SESSION_SECONDS)}.{secrets.token_hex(8)}"
    return body + "." + _sign(request, "session\0" + body)


def _session_key_id(request: web.Request) -> int | None:
    """The key id of a valid, unexpired session cookie, else None (forged, expired or missing)."""
    body, _, signature = request.cookies.get(COOKIE, "").rpartition(".")
    parts = body.split(".")
    if len(parts) != 3 or not hmac.compare_digest(_sign(request, "session\0" + body), signature):
        return None
    key_id, expires, _nonce = parts
    if not (key_id.isdigit() and expires.isdigit()) or int(expires) <= time.time():
        return None
    return int(key_id)


async def current_caller(request: web.Request) -> Caller | None:
    """The logged-in caller; None without a valid session or when its key was revoked since."""
    key_id = _session_key_id(request)
    if key_id is None:
        return None
    async with request.app[SERVICES].db.reading() as session:
        return await caller_by_id(session, key_id)


def csrf_token(request: web.Request) -> str:
    """The token the forms of this page carry: bound to the session cookie, or to the pre-login cookie."""
    bound = request.cookies.get(COOKIE) or request.get(_PRE) or request.cookies.get(PRE_LOGIN, "")
    return _sign(request, "csrf\0" + bound)[:32]


async def check_csrf(request: web.Request) -> web.Response | None:
    """None when the posted form's CSRF token fits this browser's cookie, else the 403 page."""
    form = await request.post()
    bound = request.cookies.get(COOKIE) or request.cookies.get(PRE_LOGIN)
    token = str(form.get("csrf", ""))
    if bound and token and hmac.compare_digest(_sign(request, "csrf\0" + bound)[:32], token):
        return None
    return page(request, "message.html", status=403, heading="forbidden", lines=["csrf_failed"])


def _login_page(request: web.Request, template: str, status: int = 200, **context) -> web.Response:
    """A login form, with a fresh pre-login cookie for its CSRF token when the browser has none."""
    pre = request.cookies.get(PRE_LOGIN) or secrets.token_urlsafe(16)
    request[_PRE] = pre
    response = page(request, template, status=status, csrf=csrf_token(request), **context)
    _set_cookie(request, response, PRE_LOGIN, pre, 3600)
    return response


def _logged_in(request: web.Request, key_id: int) -> web.Response:
    response = redirect(BASE)
    _set_cookie(request, response, COOKIE, session_value(request, key_id), SESSION_SECONDS)
    response.del_cookie(PRE_LOGIN, path=BASE)
    return response


async def login_form(request: web.Request) -> web.Response:
    return _login_page(request, "login.html", error=None)


async def login_with_key(request: web.Request) -> web.Response:
    refused = await check_csrf(request)
    if refused:
        return refused
    secret = str((await request.post()).get("key", "")).strip()
    found = None
    if secret:
        async with request.app[SERVICES].db.reading() as session:
            found = await caller_of(session, secret)
    if found is None:
        return _login_page(request, "login.html", status=401, error="bad_key")
    return _logged_in(request, found.key_id)


async def link_form(request: web.Request) -> web.Response:
    """The page a login link opens: one button that uses the link (a GET changes nothing, so a link preview in a
    chat does not use it up)."""
    return _login_page(request, "login_link.html", token=request.match_info["token"])


async def login_with_link(request: web.Request) -> web.Response:
    refused = await check_csrf(request)
    if refused:
        return refused
    async with request.app[SERVICES].db.transaction() as session:
        found = await redeem_link_token(session, request.match_info["token"])
    if found is None:
        return _login_page(request, "login.html", status=401, error="bad_link")
    return _logged_in(request, found.key_id)


async def logout(request: web.Request) -> web.Response:
    refused = await check_csrf(request)
    if refused:
        return refused
    response = redirect(f"{BASE}/login")
    response.del_cookie(COOKIE, path=BASE)
    return response


def require_login(handler):
    """The page for a logged-in caller (in request[CALLER]); the login form for anyone else."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        found = await current_caller(request)
        if found is None:
            response = redirect(f"{BASE}/login")
            if request.cookies.get(COOKIE):  # expired, forged, or its key revoked: forget it
                response.del_cookie(COOKIE, path=BASE)
            return response
        request[CALLER] = found
        return await handler(request)

    return guarded
