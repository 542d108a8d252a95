"""Zalo OA webhook calls as Zalo makes them: the event JSON (from tests/fixtures/zalo_oa/, one file per event
kind) and its signature, POSTed to the bot's webhook.

The signature, written here from the official and the reference code rather than from our adapter:
  * zaloplatform/ZaloDotNetSDK `src/sdk/utils/MacUtils.cs` (Zalo's official .NET SDK): `buildMac(value)` is
    `SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes(value))` written out byte by byte as
    `ToString("X2").ToLower()`: plain SHA-256 (not HMAC) of the UTF-8 string, lowercase hex;
  * chatwoot/chatwoot `app/jobs/webhooks/zalo_events_job.rb#validate_signature`: the value hashed is
    `"#{app_id}#{post_body}#{timestamp}#{oa_secret_key}"` (app id, the raw POST body, the body's `timestamp`, the
    OA secret key) and the header `X-ZEvent-Signature` must equal `"mac=#{hash}"`; a chatwoot-derived
    `app/controllers/webhooks/zalo_oa_controller.rb` hashes the same and accepts the header with `mac=` removed
    (`delete_prefix('mac=')`, `secure_compare`).
See also ../shared/docs/platforms.md §A.5.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from pathlib import Path

from aiohttp import ClientSession

FIXTURES = Path(__file__).parent / "fixtures" / "zalo_oa"
APP_ID, OA_SECRET, OA_ID = "2553928453557884079", "oa-Secret-Key-9f8e7d", "3662729599332560487"
SIGNATURE_HEADER = "X-ZEvent-Signature"
_msg_ids = itertools.count(1)


def zalo_mac(raw: bytes, *, app_id: str = APP_ID, oa_secret: str = OA_SECRET) -> str:
    """MacUtils.buildMac(app id + body + the body's timestamp + OA secret key): UTF-8, SHA-256, lowercase hex."""
    value = app_id + raw.decode("utf-8") + str(json.loads(raw)["timestamp"]) + oa_secret
    return "".join(f"{byte:02X}".lower() for byte in hashlib.sha256(value.encode("utf-8")).digest())


def signature_header(raw: bytes, **keys: str) -> str:
    """The header's value as Zalo sends it: "mac=<hex>"."""
    return f"mac={zalo_mac(raw, **keys)}"


def now_ms() -> int:
    return int(time.time() * 1000)


def event(kind: str, user: str = "", *, text: str = "", msg_id: str | None = None, timestamp: int | None = None,
          tracking_id: str = "", app_id: str = APP_ID) -> bytes:
    """The body of one event of ``kind`` (a fixture's name) as Zalo sends it: compact JSON, UTF-8, ids as
    strings, the timestamp in epoch milliseconds as a string."""
    values = {"$APP_ID": app_id, "$OA_ID": OA_ID, "$USER": user, "$TEXT": text,
              "$MSG_ID": msg_id or f"{next(_msg_ids):020x}", "$TIMESTAMP": str(timestamp or now_ms()),
              "$TRACKING_ID": tracking_id}
    body = _fill(json.loads((FIXTURES / f"{kind}.json").read_text(encoding="utf-8")), values)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _fill(value, values: dict[str, str]):
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return values.get(value, value) if isinstance(value, str) else value


async def post(url: str, raw: bytes, signature: str | None = "sign") -> tuple[int, dict]:
    """POST ``raw`` to the webhook ``url``, signed ("sign"), with a given header value, or none (None)."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature_header(raw) if signature == "sign" else signature
    async with ClientSession() as http, http.post(url, data=raw, headers=headers) as response:
        return response.status, await response.json(content_type=None)
