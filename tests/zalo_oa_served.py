"""The Zalo OA channel as `sipas-bot serve` runs it, for the end-to-end tests: the real aiohttp app
(`bot.http.app.create_app`) on 127.0.0.1 with the OA channel on, its API pointed at the fake OA
(tests/fake_zalo_oa.py), a real SQLite database with one centre, invitations and the OA's token pair; citizens
POST signed events (tests/zalo_signing.py) to its webhook."""

from __future__ import annotations

import datetime as dt
import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from fake_zalo_oa import FakeZaloOA, Sent
from zalo_signing import APP_ID, OA_SECRET, event, post

from adapters.zalo_oa.channel import ZaloOAChannel
from bot.config import Settings
from bot.http.app import create_app
from bot.http.keys import CHANNELS
from bot.services import open_services
from bot.storage.models import ZaloToken
from bot.survey import directory, invitations

TOKEN = "access-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    settings: Settings
    oa: FakeZaloOA
    issued: dict[str, list]
    port: int = field(default_factory=free_port)
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/zalo-oa"

    @property
    def channel(self) -> ZaloOAChannel:
        return next(c for c in self.runner.app[CHANNELS] if isinstance(c, ZaloOAChannel))

    async def start(self) -> None:
        self.runner = web.AppRunner(create_app(self.settings, outbox_hold=(0.0, 0.05)))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def drain(self) -> None:
        """Wait until every kept event has been processed (and its replies sent)."""
        await self.channel.worker.drain(timeout=15)

    def citizen(self, user: str) -> Citizen:
        return Citizen(self, user)


@dataclass
class Citizen:
    served: Served
    user: str

    @property
    def received(self) -> list[Sent]:
        return self.served.oa.messages(self.user)

    async def send(self, kind: str, text: str = "", **fields) -> list[Sent]:
        """One event from this citizen, processed; the messages it got back."""
        before = len(self.received)
        status, body = await post(self.served.url, event(kind, self.user, text=text, **fields))
        assert status == 200, body
        await self.served.drain()
        return self.received[before:]

    async def says(self, text: str) -> list[Sent]:
        return await self.send("user_send_text", text)

    async def taps(self, ending: str) -> list[Sent]:
        """Tap the button whose payload ends with ``ending`` on the latest message that has one (a tap arrives as
        a text: the payload)."""
        for message in reversed(self.received):
            payloads = [p for p in message.payloads if p.endswith(ending)]
            if payloads:
                assert len(payloads) == 1, (ending, message.payloads)
                return await self.says(payloads[0])
        raise AssertionError(f"no button ending with {ending!r}")


def oa_settings(settings: Settings, oa: FakeZaloOA) -> Settings:
    return Settings(**{**settings.model_dump(), "zalo_app_id": APP_ID, "zalo_app_secret": "app-secret",
                       "zalo_oa_secret": OA_SECRET, "zalo_oa_api_url": oa.base_url, "web_survey": False,
                       "_env_file": None})


@asynccontextmanager
async def serving(settings: Settings):
    """The fake OA and the served app on it, with a centre, 3 invitations each of sipas-2023 and sipas-quick, and
    the OA's token pair; stopped on the way out."""
    async with FakeZaloOA(tokens={TOKEN}) as oa:
        ours = oa_settings(settings, oa)
        async with open_services(ours) as services, services.db.transaction() as session:
            centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
            issued = {survey: await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                                      survey=survey, count=3)
                      for survey in ("sipas-2023", "sipas-quick")}
            session.add(ZaloToken(name="oa", access_token=TOKEN, refresh_token="refresh-1",
                                  expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)))
        running = Served(ours, oa, issued)
        await running.start()
        try:
            yield running
        finally:
            await running.stop()
