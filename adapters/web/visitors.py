"""Who is on the other end of a web request: the browser (a random cookie), its CSRF token and its client address,
and a per-address limit on how fast it may post.

The browser's cookie is the web's chat id: the service keys the survey session on a hash of it, so closing the tab
and opening the link again continues, and another browser is told the survey is in use. The client address counts
for the limits on guessing codes and on open surveys; behind a reverse proxy it is read from X-Forwarded-For only
when the request comes from a proxy named in SIPAS_TRUSTED_PROXIES (anyone can send that header).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from aiohttp import web

COOKIE = "sipas_b"
COOKIE_DAYS = 7  # longer than a survey may stay open (48 h) and than the daily limit of open surveys
_BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
POSTS_PER_MINUTE = 60  # one address: far more than a person answering, far less than a script
MAX_ADDRESSES = 100_000

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def browser_of(request: web.Request) -> str | None:
    """The browser id from its cookie, or None when it has none (or a forged one)."""
    value = request.cookies.get(COOKIE, "")
    return value if _BROWSER_ID.match(value) else None


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)


def set_browser_cookie(response: web.StreamResponse, browser: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, browser, max_age=COOKIE_DAYS * 86_400, path="/", httponly=True, samesite="Lax",
                        secure=secure)


def csrf_token(secret_key: bytes, browser: str) -> str:
    """The token every form of this browser carries: bound to its cookie, so another site cannot post for it."""
    return hmac.new(secret_key, f"csrf\0{browser}".encode(), "sha256").hexdigest()[:32]


def csrf_ok(secret_key: bytes, browser: str | None, token: str) -> bool:
    return browser is not None and hmac.compare_digest(csrf_token(secret_key, browser), token)


def client_address(request: web.Request, trusted: Sequence[Network]) -> str:
    """The client's address: the peer's, or from X-Forwarded-For when the peer is a trusted proxy (the right-most
    address that is not itself a trusted proxy)."""
    peer = request.remote or ""
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for header in request.headers.getall("X-Forwarded-For", []) for hop in header.split(",")]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: believe nothing of it
        if not _within(hop, trusted):
            return hop
    return peer


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


class PostLimiter:
    """At most POSTS_PER_MINUTE posts a minute from one address (in memory, per process)."""

    def __init__(self, per_minute: int = POSTS_PER_MINUTE, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self.seen: OrderedDict[str, deque[float]] = OrderedDict()
        self.refused_total = 0

    def allow(self, address: str) -> bool:
        now = self.clock()
        times = self.seen.pop(address, None) or deque()
        self.seen[address] = times
        while len(self.seen) > MAX_ADDRESSES:
            self.seen.popitem(last=False)
        while times and times[0] <= now - 60:
            times.popleft()
        if len(times) >= self.per_minute:
            self.refused_total += 1
            return False
        times.append(now)
        return True
