"""The channels a process runs, and the only module of bot/ that knows the adapters.

A channel is a thin translator between a platform and the conversation service: it turns platform updates into
service calls and renders the presenter's messages its own way. Each one has the same small surface, `Channel`:
the HTTP routes it adds (its webhook), `start` with the composed services, `stop`, and `send_text` for the messages
of the outbox (alerts to staff). `build_channels` makes the channels the settings turn on; `serve` adds their
routes to the HTTP app and starts them once the database is open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from bot.config import Settings
from bot.services import Services
from bot.survey.outbox import OutboxWorker

if TYPE_CHECKING:
    from adapters.terminal.conversation import TerminalResult
    from surveys.instrument import Instrument


class Channel(Protocol):
    platform: str

    def routes(self) -> Sequence[web.RouteDef]:
        """The HTTP routes this channel adds to the service (webhooks); none for long polling."""

    async def start(self, services: Services, wake_outbox: Callable[[], None]) -> None:
        """Connect to the platform and take updates; ``wake_outbox`` is called when an alert may be waiting."""

    async def stop(self) -> None:
        """Stop taking updates and let what is in flight finish."""

    async def send_text(self, chat_id: str, text: str) -> None:
        """Send a plain text to a chat of this platform (raises when the platform refuses it)."""


def build_channels(settings: Settings) -> list[Channel]:
    """The channels the settings turn on (a platform's adapter is imported only when it is on)."""
    channels: list[Channel] = []
    if settings.web_survey:
        from adapters.web.channel import WebChannel

        channels.append(WebChannel(settings))
    if settings.telegram_token is not None:
        from adapters.telegram.channel import TelegramChannel

        channels.append(TelegramChannel(settings))
    if settings.zalo_oa_enabled:
        from adapters.zalo_oa.channel import ZaloOAChannel

        channels.append(ZaloOAChannel(settings))
    if settings.zalo_bot_token is not None:
        from adapters.zalo_bot.channel import ZaloBotChannel

        channels.append(ZaloBotChannel(settings))
    return channels


def outbox_senders(channels: Sequence[Channel]) -> dict[str, Callable[[str, str], Awaitable[None]]]:
    """What the outbox worker sends with: each channel's `send_text` under its platform, plus the extra senders a
    channel offers (the Zalo OA sends staff alerts as "zalo" and phone invitations as "zns")."""
    senders = {}
    for channel in channels:
        senders[channel.platform] = channel.send_text
        senders.update(getattr(channel, "outbox_senders", dict)())
    return senders


@asynccontextmanager
async def running(services: Services, channels: Sequence[Channel], *,
                  outbox_hold: tuple[float, float] | None = None) -> AsyncIterator[OutboxWorker]:
    """Start ``channels`` and the one outbox worker that sends their alerts; stop them all on the way out."""
    worker = OutboxWorker(services.db, outbox_senders(channels),
                          services.settings.outbox_interval_seconds,
                          **({"hold": outbox_hold} if outbox_hold is not None else {}))
    started: list[Channel] = []
    try:
        for channel in channels:
            await channel.start(services, worker.wake)
            started.append(channel)
        worker.start()
        yield worker
    finally:
        await worker.stop()  # a delivery round finishes first: a channel must still be up to send it
        for channel in reversed(started):
            await channel.stop()


def describe(settings: Settings) -> list[str]:
    """One line per platform for `serve`'s start-up message."""
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    lines = [f"web survey on: {base}/s (the code box), {base}/s/TOKEN (invitations), {base}/c/CENTRE "
             "(open surveys)." if settings.web_survey else "web survey off (SIPAS_WEB_SURVEY=false)."]
    mode = "webhook" if settings.public_url else "long polling"
    lines.append(f"Telegram on ({mode})." if settings.telegram_token else "Telegram is off (no SIPAS_TELEGRAM_TOKEN).")
    lines.append(f"Zalo OA on: webhook {base}/webhooks/zalo-oa." if settings.zalo_oa_enabled else
                 "Zalo OA is off (SIPAS_ZALO_APP_ID, SIPAS_ZALO_APP_SECRET and SIPAS_ZALO_OA_SECRET not all set).")
    lines.append(f"Zalo Bot on ({mode})." if settings.zalo_bot_token else "Zalo Bot is off (no SIPAS_ZALO_BOT_TOKEN).")
    return lines


async def run_terminal_survey(services: Services | None, instrument: Instrument, *, language: str | None,
                              sections: frozenset[str], centre: str | None, service_code: str | None,
                              read: Callable[[], Awaitable[str | None]], write: Callable[[str], None]
                              ) -> TerminalResult:
    """`sipas-bot try`: one survey in the terminal, through the service layer when ``services`` is given."""
    from adapters.terminal.conversation import EngineConversation, ServiceConversation, run_terminal
    from bot.survey.conversation import SurveyService

    if services is None:
        conversation = EngineConversation(instrument, language, sections)
    else:
        conversation = ServiceConversation(SurveyService(services), centre, service_code, instrument.id, language,
                                           sections)
    return await run_terminal(instrument, conversation, read, write)


def summarise(instrument: Instrument, answers, language: str) -> str:
    """The terminal's summary of one response (its answers and measures)."""
    from adapters.terminal.conversation import summarise as terminal_summary

    return terminal_summary(instrument, answers, language)


async def fetch_zns_ratings(http, tokens, settings: Settings, template_id: str, since, until) -> list[dict]:
    """The ZNS ratings of ``template_id`` between two times (adapters/zalo_oa/zns.py), for `zalo pull-ratings`:
    the one door from bot/ to that adapter, as for every other. Zalo's refusal becomes a `UserError`."""
    from adapters.zalo_oa.api import OAApi, ZaloAPIError
    from adapters.zalo_oa.zns import fetch_ratings
    from bot.errors import UserError

    try:
        return await fetch_ratings(OAApi(http, tokens), settings, template_id, since, until)
    except ZaloAPIError as error:
        raise UserError.say("admin.ratings_failed", error=str(error)) from error
