"""A wire-compatible fake of ZNS (../shared/docs/platforms.md §B, §E) for tests: aiohttp on 127.0.0.1.

- ``POST /message/template`` (header ``access_token``): checks the token (-124), the phone (84 + 9 digits, else
  -108) and the template id (-132); answers ``data.msg_id``. A ``tracking_id`` seen before is not billed again and
  gets the same ``msg_id`` back (what makes a retry after a lost answer safe).
- ``GET /rating/get?template_id&from_time&to_time&offset&limit``: camelCase rows, paged, in
  ``{"error":0,"data":{"total":N,"data":[...]}}``.
- Error injection, in order, for the next sends: ``inject("http500")`` (refused before anything happens),
  ``inject("lost")`` (recorded and billed, then HTTP 500: the answer was lost), ``inject(-108)`` (a Zalo error).

Usage::

    async with FakeZNS(access_token="tok", templates={"7001"}) as fake:
        settings = Settings(zalo_zns_api_url=fake.base_url, ...)
        ...
        assert fake.billed == 1 and fake.messages[0]["phone"] == "84912345678"
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

_PHONE = re.compile(r"^84\d{9}$")


class FakeZNS:
    def __init__(self, *, access_token: str = "zns-access", templates: set[str] | None = None) -> None:
        self.access_token = access_token
        self.templates = set(templates or {"7001"})
        self.messages: list[dict] = []  # billed messages, in order
        self.attempts: list[dict] = []  # every POST body, refused ones included
        self.rating_calls: list[dict] = []
        self.ratings: list[dict] = []
        self._by_tracking: dict[str, str] = {}
        self._injected: list[Any] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @property
    def billed(self) -> int:
        return len(self.messages)

    def inject(self, *faults: Any) -> None:
        """Faults for the next sends, one each: "http500", "lost", or a Zalo error code."""
        self._injected.extend(faults)

    def add_rating(self, *, msg_id: str, tracking_id: str, rate: int, submit_ms: int, note: str = "",
                   feedbacks: list[str] | None = None, template_id: str | None = None) -> None:
        self.ratings.append({"templateId": template_id or next(iter(self.templates)), "msgId": msg_id,
                             "trackingId": tracking_id, "rate": rate, "note": note, "feedbacks": feedbacks or [],
                             "submitDate": str(submit_ms), "oaId": "4318"})

    async def __aenter__(self) -> FakeZNS:
        app = web.Application()
        app.router.add_post("/message/template", self._send)
        app.router.add_get("/rating/get", self._ratings)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _token_ok(self, request: web.Request) -> bool:
        return request.headers.get("access_token") == self.access_token

    @staticmethod
    def _error(code: int, message: str) -> web.Response:
        return web.json_response({"error": code, "message": message})  # Zalo answers errors with HTTP 200

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.attempts.append(body)
        if not self._token_ok(request):
            return self._error(-124, "Access token is invalid")
        fault = self._injected.pop(0) if self._injected else None
        if fault == "http500":
            return web.Response(status=500, text="upstream error")
        if isinstance(fault, int):
            return self._error(fault, "injected error")
        if not _PHONE.match(str(body.get("phone", ""))):
            return self._error(-108, "Phone number is invalid")
        if str(body.get("template_id")) not in self.templates:
            return self._error(-132, "Template not found")
        if not isinstance(body.get("template_data"), dict):
            return self._error(-133, "Template data is invalid")
        tracking = str(body.get("tracking_id") or "")
        msg_id = self._by_tracking.get(tracking) if tracking else None
        if msg_id is None:
            msg_id = secrets.token_hex(10)
            if tracking:
                self._by_tracking[tracking] = msg_id
            self.messages.append({**body, "msg_id": msg_id})
        if fault == "lost":
            return web.Response(status=500, text="gateway timeout")
        return web.json_response({"error": 0, "message": "Success", "data": {
            "msg_id": msg_id, "sent_time": "1759983921893", "sending_mode": None,
            "quota": {"dailyQuota": "500", "remainingQuota": str(500 - self.billed)}}})

    async def _ratings(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.rating_calls.append(query)
        if not self._token_ok(request):
            return self._error(-124, "Access token is invalid")
        try:
            start, end = int(query["from_time"]), int(query["to_time"])
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
        except (KeyError, ValueError):
            return self._error(-201, "Parameters are invalid")
        rows = [r for r in self.ratings if r["templateId"] == query.get("template_id")
                and start <= int(r["submitDate"]) <= end]
        page = rows[offset:offset + min(limit, 10_000)]
        return web.json_response({"error": 0, "message": "Success", "data": {"total": len(rows), "data": page}})
