"""ZNS over HTTP (../shared/docs/platforms.md §B): sending an outbox row's template message to a phone, and reading
star ratings back.

`ZNSSender.send(chat_id, text)` is the outbox sender of platform "zns": ``chat_id`` is the phone (84…), ``text``
the JSON payload `bot.zalo.zns` wrote ({template_id, template_data, tracking_id}). The ``tracking_id`` (our
invitation id) goes with every attempt, so a retry after an answer was lost names the same message. A refusal no
retry can fix raises `PermanentFailure` (the outbox gives the row up); anything else raises and is retried.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any

from adapters.zalo_oa.api import OAApi, ZaloAPIError
from bot.survey.outbox import PermanentFailure
from bot.zalo.times import from_ms

log = logging.getLogger(__name__)
# Invalid phone, no Zalo account, template not approved / not found, template data invalid (§B.1, [U]).
PERMANENT_CODES = frozenset({-108, -118, -131, -132, -133, -139})
PAGE = 100


class ZNSSender:
    """Sends ZNS template messages through ``api`` (an `OAApi` with the OA's tokens); ``on_sent(tracking_id,
    msg_id)`` (sync or async) records Zalo's message id after each accepted message."""

    def __init__(self, settings: Any, api: OAApi, on_sent: Callable[[str, str], Any] | None = None) -> None:
        self.url = settings.zalo_zns_api_url.rstrip("/") + "/message/template"
        self.api, self.on_sent = api, on_sent

    async def send(self, chat_id: str, text: str) -> None:
        try:
            payload = json.loads(text)
            body = {"phone": chat_id, "template_id": str(payload["template_id"]),
                    "template_data": dict(payload["template_data"]), "tracking_id": str(payload["tracking_id"])}
        except (ValueError, KeyError, TypeError) as error:
            raise PermanentFailure(f"not a ZNS payload: {type(error).__name__}") from error
        try:
            data = await self.api.call("POST", self.url, json=body)
        except ZaloAPIError as error:
            if error.code in PERMANENT_CODES:
                raise PermanentFailure(str(error)) from error
            raise
        msg_id = str(data.get("msg_id") or "")
        if self.on_sent is not None and msg_id:
            try:
                done = self.on_sent(body["tracking_id"], msg_id)
                if inspect.isawaitable(done):
                    await done
            except Exception:  # delivered all the same: a retry would only send it again
                log.exception("zns: message sent, its id not recorded")


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


async def fetch_ratings(api: OAApi, settings: Any, template_id: str, since: dt.datetime,
                        until: dt.datetime) -> list[dict]:
    """Every rating of ``template_id`` submitted between ``since`` and ``until``, page by page, as
    {msg_id, tracking_id, rate, note, feedbacks, submitted_at} (the API's rows are camelCase)."""
    url = settings.zalo_zns_api_url.rstrip("/") + "/rating/get"
    ratings: list[dict] = []
    offset = 0
    while True:
        data = await api.call("GET", url, params={"template_id": str(template_id), "from_time": str(_ms(since)),
                                                  "to_time": str(_ms(until)), "offset": str(offset),
                                                  "limit": str(PAGE)})
        rows = data.get("data") or []
        for row in rows:
            if isinstance(row, dict):
                ratings.append({"msg_id": row.get("msgId"), "tracking_id": row.get("trackingId"),
                                "rate": row.get("rate"), "note": row.get("note"),
                                "feedbacks": row.get("feedbacks") or [],
                                "submitted_at": from_ms(row.get("submitDate"))})
        offset += len(rows)
        total = data.get("total")
        if not rows or (isinstance(total, int) and offset >= total):
            return ratings
