"""Shared pieces of the Zalo Bot tests: the `sipas-bot serve` app (bot.http.app.create_app) on a free port with
the Zalo Bot pointed at the fake, a centre with invitations, and a citizen typing answers."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager

from aiohttp import web
from sqlalchemy import text

from bot.config import Settings
from bot.http.app import create_app
from bot.services import open_services
from bot.storage.models import Base
from bot.survey import directory, invitations

SECRET = "zalo-bot-secret-123"
HINT = "Gõ: "  # the line that says what can be typed, under every question
THANKS = "Cảm ơn Ông/Bà đã hoàn thành khảo sát!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bot_settings(settings: Settings, fake, *, webhook: bool = False, port: int | None = None,
                 **extra) -> Settings:
    values = {**settings.model_dump(), "zalo_bot_token": fake.token, "zalo_bot_api_url": fake.url,
              "zalo_bot_poll_timeout": 1, "web_survey": False, "_env_file": None, **extra}
    if webhook:
        values.update(public_url=f"http://127.0.0.1:{port or free_port()}", zalo_bot_webhook_secret=SECRET)
    return Settings(**values)


async def seed(settings: Settings, count: int = 3) -> list:
    """A centre, a service and ``count`` sipas-quick invitations."""
    async with open_services(settings) as services, services.db.transaction() as session:
        centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        service = await directory.add_service(session, "dd-01", "Đăng ký đất đai")
        return await invitations.issue(session, services.secret_key, centre=centre, service=service,
                                       survey="sipas-quick", count=count)


@asynccontextmanager
async def serving(settings: Settings):
    """The service as `serve` runs it, on the port of SIPAS_PUBLIC_URL (or a free one)."""
    port = int(settings.public_url.rsplit(":", 1)[1]) if settings.public_url else free_port()
    app = create_app(settings, outbox_hold=(0.0, 0.05))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield app
    finally:
        await runner.cleanup()


async def exchange(fake, chat: str, typed: str | None, expect: str, *, kind: str = "text",
                   envelope: str = "top", timeout: float = 10.0) -> list[str]:
    """Send ``typed`` and wait for a new message containing ``expect``; the new messages up to it."""
    before = len(fake.messages(chat))
    await fake.send(chat, typed, kind=kind, envelope=envelope)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        new = fake.messages(chat)[before:]
        for index, message in enumerate(new):
            if expect in message:
                return new[: index + 1]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no message with {expect!r} after {typed!r}: {new}")
        await asyncio.sleep(0.02)


async def complete_quick(fake, chat: str, code: str, envelope: str = "top") -> list[str]:
    """A citizen types the code, then answers sipas-quick by numbers (and a typed word or two)."""
    seen = await exchange(fake, chat, code, "Câu 1/6", envelope=envelope)
    for number, typed in enumerate(["5", "4", "3", "2", "không áp dụng"], start=2):
        seen += await exchange(fake, chat, typed, f"Câu {number}/6", envelope=envelope)
    seen += await exchange(fake, chat, "bỏ qua", THANKS, envelope=envelope)
    return seen


async def every_value(settings: Settings) -> list[str]:
    """Every value of every table, as text (to look for what must not be stored)."""
    values = []
    async with open_services(settings) as services, services.db.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(text(f'SELECT * FROM "{table.name}"'))).all():
                values += [str(value) for value in row]
    return values
