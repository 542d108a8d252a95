"""Checking one OA webhook call before anything of it is kept (../shared/docs/platforms.md §A.4, §A.5).

In this order: the body's size (413); the signature `X-ZEvent-Signature` = sha256 hex of app id + the raw body +
the body's `timestamp` + the OA secret key, with or without "mac=", compared in constant time (401: a body whose
timestamp cannot even be read cannot be signed either); the timestamp's age, both ways (a replay, 400); the
event's shape (400). Events we never act on (delivery and read receipts, the OA's own echoes, unknown names) are
acknowledged and not kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from adapters.zalo_oa.events import ACTED, event_key, user_of

SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_BODY = 64 * 1024  # Zalo's events are a few hundred bytes


@dataclass(frozen=True)
class Verdict:
    """What to do with a call: ``status`` 200 with ``keep`` (store it under ``key`` for ``user``), 200 without
    (acknowledge and forget), or an error status with its ``reason``."""

    status: int
    reason: str = ""
    keep: bool = False
    key: str = ""
    user: str | None = None
    text: str = ""  # the body as text, as stored


def expected_mac(app_id: str, raw: bytes, timestamp: str, oa_secret: str) -> str:
    """The signature Zalo sends for ``raw``: sha256(app id + body + timestamp + OA secret key), lowercase hex."""
    return hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret.encode()).hexdigest()


def signature_ok(header: str | None, app_id: str, raw: bytes, timestamp: str, oa_secret: str) -> bool:
    """Whether ``header`` ("mac=<hex>" or bare hex, any case) signs ``raw``; constant time."""
    given = (header or "").strip()
    given = given[4:] if given[:4].lower() == "mac=" else given
    expected = expected_mac(app_id, raw, timestamp, oa_secret)
    return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))


def check(raw: bytes, header: str | None, *, app_id: str, oa_secret: str, max_age_seconds: int,
          now_ms: int) -> Verdict:
    """The verdict on one webhook call whose body is ``raw`` (already within `MAX_BODY`)."""
    if not header:
        return Verdict(401, "missing signature")
    try:
        text = raw.decode("utf-8")
        body = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return Verdict(401, "bad signature")
    timestamp = body.get("timestamp") if isinstance(body, dict) else None
    if isinstance(timestamp, bool) or not isinstance(timestamp, str | int):
        return Verdict(401, "bad signature")
    if not signature_ok(header, app_id, raw, str(timestamp), oa_secret):
        return Verdict(401, "bad signature")
    try:
        sent_ms = int(timestamp)
    except ValueError:
        return Verdict(400, "malformed event: timestamp")
    if abs(now_ms - sent_ms) > max_age_seconds * 1000:
        return Verdict(400, "stale event: its timestamp is too old or in the future (a replay?)")
    name = body.get("event_name")
    if not isinstance(name, str) or not name:
        return Verdict(400, "malformed event: event_name")
    if name not in ACTED:
        return Verdict(200)
    user = user_of(body)
    if user is None and name != "user_feedback":
        return Verdict(400, "malformed event: no user id")
    message = body.get("message")
    if name == "user_send_text" and not (isinstance(message, dict) and isinstance(message.get("text"), str)):
        return Verdict(400, "malformed event: message.text")
    return Verdict(200, keep=True, key=event_key(body), user=user, text=text)
