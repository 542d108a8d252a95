"""OAuth v4 of the Zalo OA (platforms.md §A.6): the authorization URL with PKCE, the code exchanged for the first
token pair, and the token endpoint's refresh call that `bot/zalo/tokens.py` makes under its lock.

The PKCE verifier and the redirect address of an authorization that was started live in `app_state` under
"zalo_oauth:<state>" until the code comes back (the CLI process that printed the URL has ended by then, and the
code may come back to the HTTP service instead). The app secret travels in a `secret_key` header, never in a URL.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import delete, select

from bot.config import Settings
from bot.errors import UserError
from bot.services import Services
from bot.storage.models import AppState, ZaloToken, utcnow

log = logging.getLogger(__name__)
ROW = "oa"
PENDING = "zalo_oauth:"  # app_state key prefix of a started authorization
PENDING_FOR = dt.timedelta(hours=1)  # Zalo's code lasts ~10 minutes; an older started authorization is dropped
CALLBACK_PATH = "/zalo/oauth/callback"
DEFAULT_EXPIRES_IN = 90_000  # 25 h, when Zalo's answer does not say
TIMEOUT = aiohttp.ClientTimeout(total=15)
# A refresh runs holding the token row's lock (SQLite: the database's write lock): short.
REFRESH_TIMEOUT = aiohttp.ClientTimeout(total=8, connect=4)
MAX_CODE = 2_000


class OAuthRefused(UserError):
    """Zalo's token endpoint answered with an error body (a bad, used or expired code or refresh token)."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class OAuthUnreachable(UserError):
    """The token endpoint could not be reached or did not answer as OAuth does (transient: try again later)."""

    status = 502


@dataclass(frozen=True)
class Pair:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str
    redirect_uri: str


def new_verifier() -> str:
    """A PKCE code verifier: 64 URL-safe characters (RFC 7636 wants 43 to 128)."""
    return secrets.token_urlsafe(48)


def challenge_of(verifier: str) -> str:
    """The S256 code challenge: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def callback_url(settings: Settings) -> str | None:
    """This service's own redirect address, when it has a public URL."""
    return settings.public_url.rstrip("/") + CALLBACK_PATH if settings.public_url else None


def valid_until(moment: dt.datetime, settings: Settings) -> str:
    """A moment as the admins read it: local time of the centres, with the zone's name."""
    local = aware(moment).astimezone(ZoneInfo(settings.timezone))
    return f"{local:%H:%M %d/%m/%Y} ({settings.timezone})"


def aware(moment: dt.datetime) -> dt.datetime:
    """A stored moment in UTC (SQLite gives them back without their zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _app(settings: Settings) -> tuple[str, str]:
    missing = [name for name, value in (("SIPAS_ZALO_APP_ID", settings.zalo_app_id),
                                        ("SIPAS_ZALO_APP_SECRET", settings.zalo_app_secret)) if not value]
    if missing:
        raise UserError.say("admin.zalo_app_missing", missing=", ".join(missing))
    return settings.zalo_app_id or "", settings.zalo_app_secret.get_secret_value() if settings.zalo_app_secret else ""


def _check_redirect(uri: str) -> str:
    parts = urlsplit(uri.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UserError.say("admin.zalo_redirect_bad", uri=uri)
    return uri.strip()


async def start(services: Services, redirect_uri: str | None) -> Authorization:
    """Begin an authorization: a new verifier and state kept in the database, and the URL to open."""
    settings = services.settings
    app_id, _ = _app(settings)
    redirect = redirect_uri or callback_url(settings)
    if not redirect:
        raise UserError.say("admin.zalo_redirect_needed", path=CALLBACK_PATH)
    redirect = _check_redirect(redirect)
    verifier, state, now = new_verifier(), secrets.token_urlsafe(16), utcnow()
    value = json.dumps({"verifier": verifier, "redirect_uri": redirect, "created": now.isoformat()})
    async with services.db.transaction() as session:
        await _forget_old(session, now)
        session.add(AppState(key=PENDING + state, value=value))
    query = urlencode({"app_id": app_id, "redirect_uri": redirect, "code_challenge": challenge_of(verifier),
                       "state": state})
    return Authorization(f"{settings.zalo_oauth_url.rstrip('/')}/v4/oa/permission?{query}", state, redirect)


async def _forget_old(session, now: dt.datetime) -> None:
    rows = (await session.execute(select(AppState).where(AppState.key.startswith(PENDING)))).scalars().all()
    old = [row.key for row in rows if now - dt.datetime.fromisoformat(json.loads(row.value)["created"]) > PENDING_FOR]
    if old:
        await session.execute(delete(AppState).where(AppState.key.in_(old)))


def code_and_state(code: str, state: str | None) -> tuple[str, str | None]:
    """The code (and state) as given: the bare code, or the whole address Zalo redirected to, pasted."""
    code = code.strip()
    if "?" in code and "code=" in code:
        query = parse_qs(urlsplit(code).query)
        code, state = (query.get("code") or [""])[0], state or (query.get("state") or [None])[0]
    if not code or len(code) > MAX_CODE or any(ch.isspace() for ch in code):
        raise UserError.say("admin.zalo_code_bad")
    return code, state.strip() if state else None


async def _pending(services: Services, state: str | None) -> tuple[str, dict]:
    async with services.db.reading() as session:
        if state is not None:
            row = await session.get(AppState, PENDING + state)
            rows = [row] if row is not None else []
        else:  # no state given: the newest authorization started
            rows = (await session.execute(select(AppState).where(AppState.key.startswith(PENDING)))).scalars().all()
    started = sorted(((json.loads(row.value), row.key) for row in rows), key=lambda item: item[0]["created"])
    if started and utcnow() - dt.datetime.fromisoformat(started[-1][0]["created"]) <= PENDING_FOR:
        return started[-1][1], started[-1][0]
    if state is not None:
        raise UserError.say("admin.zalo_state_unknown", state=state)
    raise UserError.say("admin.zalo_nothing_started")


async def exchange(services: Services, http: aiohttp.ClientSession, code: str, state: str | None) -> Pair:
    """Exchange the code Zalo sent to the redirect for the first token pair and store it (replacing any pair
    held before). The started authorization is used up only when Zalo accepted the code."""
    app_id, _ = _app(services.settings)
    code, state = code_and_state(code, state)
    key, started = await _pending(services, state)
    try:
        pair = await token_call(services.settings, http, {"app_id": app_id, "grant_type": "authorization_code",
                                                          "code": code, "code_verifier": started["verifier"]})
    except OAuthRefused as error:
        raise UserError.say("admin.zalo_code_refused", reason=error.reason) from None
    async with services.db.transaction() as session:
        row = await session.get(ZaloToken, ROW, with_for_update=True)
        if row is None:
            session.add(ZaloToken(name=ROW, access_token=pair.access_token, refresh_token=pair.refresh_token,
                                  expires_at=pair.expires_at, refreshed_at=utcnow(), refreshes=0))
        else:
            row.access_token, row.refresh_token = pair.access_token, pair.refresh_token
            row.expires_at, row.refreshed_at = pair.expires_at, utcnow()
        await session.execute(delete(AppState).where(AppState.key == key))
    log.info("zalo: the OA was authorized; the access token is valid until %s", pair.expires_at.isoformat())
    return pair


async def refresh(settings: Settings, http: aiohttp.ClientSession, refresh_token: str, *,
                  timeout: aiohttp.ClientTimeout = TIMEOUT) -> Pair:
    """Spend ``refresh_token`` for a new pair (the refresh token is single-use: the answer holds its successor)."""
    app_id, _ = _app(settings)
    return await token_call(settings, http, {"app_id": app_id, "grant_type": "refresh_token",
                                             "refresh_token": refresh_token}, timeout=timeout)


async def token_call(settings: Settings, http: aiohttp.ClientSession, form: dict[str, str], *,
                     timeout: aiohttp.ClientTimeout = TIMEOUT) -> Pair:
    """One POST to the token endpoint: form-encoded, the app secret in the `secret_key` header; the answer is
    the pair at the top level (`expires_in` a string of seconds) or an error body."""
    _, secret = _app(settings)
    url = f"{settings.zalo_oauth_url.rstrip('/')}/v4/oa/access_token"
    try:
        async with http.post(url, data=form, headers={"secret_key": secret}, timeout=timeout) as response:
            if response.status >= 500:
                raise OAuthUnreachable.say("admin.zalo_unreachable", url=url, reason=f"HTTP {response.status}")
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise OAuthUnreachable.say("admin.zalo_unreachable", url=url,
                                   reason=f"{type(error).__name__}: {error}".rstrip(": ")) from None
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "access_token" in body["data"]:
        body = body["data"]  # one integration reads the pair under "data" (platforms.md §A.6): accepted too
    if isinstance(body, dict) and body.get("access_token") and body.get("refresh_token"):
        return Pair(str(body["access_token"]), str(body["refresh_token"]),
                    utcnow() + dt.timedelta(seconds=_seconds(body.get("expires_in"))))
    if isinstance(body, dict) and body.get("error"):
        reason = str(body.get("error_description") or body.get("error_name") or body.get("message") or "")
        reason = f"{reason} ({body['error']})" if reason else str(body["error"])
        raise OAuthRefused(f"Zalo refused: {reason}", reason)
    raise OAuthUnreachable.say("admin.zalo_unreachable", url=url, reason="not an OAuth answer")


def _seconds(value: object) -> int:
    try:
        seconds = int(str(value))
    except ValueError:
        log.warning("zalo: the token answer's expires_in is %r; taking %d s", value, DEFAULT_EXPIRES_IN)
        return DEFAULT_EXPIRES_IN
    return seconds if seconds > 0 else DEFAULT_EXPIRES_IN
