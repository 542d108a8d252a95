"""The benchmark's stand-in for Zalo: signing webhook bodies as Zalo does, and an OA API that answers every
consultation message after a fixed delay (a slow Zalo), recording when each citizen's survey ended."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

from aiohttp import web

APP_ID, OA_SECRET = "bench-app", "bench-oa-secret"
END_MARK = "Cảm ơn Ông/Bà đã hoàn thành khảo sát"  # the completion text's start (surveys/messages.py)


def sign(raw: bytes) -> str:
    """X-ZEvent-Signature's value without "mac=": sha256 hex of app id + body + the body's timestamp + OA secret."""
    timestamp = json.loads(raw)["timestamp"]
    return hashlib.sha256(APP_ID.encode() + raw + timestamp.encode() + OA_SECRET.encode()).hexdigest()


class FakeOA:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.ended: dict[str, float] = {}
        self.messages = 0
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self.send)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(self.delay)
        self.messages += 1
        user = body["recipient"]["user_id"]
        if END_MARK in body["message"].get("text", ""):
            self.ended.setdefault(user, time.perf_counter())
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"message_id": f"s{self.messages}", "user_id": user}})

    async def wait_for_ends(self, count: int, timeout: float) -> float:
        """The moment the ``count``-th survey's last message arrived."""
        deadline = time.perf_counter() + timeout
        while len(self.ended) < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{len(self.ended)} of {count} surveys ended in {timeout} s")
            await asyncio.sleep(0.05)
        return max(self.ended.values())

    async def stop(self) -> None:
        await self.runner.cleanup()
