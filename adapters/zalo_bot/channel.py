"""The Zalo Bot channel (Zalo Bot Platform, for centres without a verified OA): a webhook on the aiohttp server
when SIPAS_PUBLIC_URL is set, else long polling with getUpdates.

Either way an update is first put in the durable inbox (one INSERT, keyed by ``event_name:message_id``, so a
redelivery is refused) and then processed by an `InboxWorker`: one chat's updates in order, different chats at
once. A webhook is acknowledged right after the INSERT; a crash after that loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
from collections.abc import Callable

import aiohttp
from aiohttp import web

from adapters.common.parts import split_text
from adapters.zalo_bot.api import POLL_TIMEOUT_CODE, TOKEN_REFUSED, BotApi, ZaloBotError
from adapters.zalo_bot.citizen import PLATFORM, STAFF_PLATFORM, CitizenChat
from adapters.zalo_bot.updates import BadUpdate, Update, parse, parse_bytes, stored
from bot import counters
from bot.config import Settings
from bot.errors import UserError
from bot.services import Services
from bot.survey import inbox
from bot.survey.conversation import SurveyService
from bot.survey.staff import StaffService
from bot.texts import say

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/zalo-bot"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
RETRY_DELAYS = (1, 2, 5, 10, 30, 60)  # the last one repeats


class ZaloBotChannel:
    """The `Channel` of the Zalo Bot (see bot/channels.py)."""

    platform = PLATFORM

    def __init__(self, settings: Settings) -> None:
        if settings.zalo_bot_token is None:
            raise UserError("SIPAS_ZALO_BOT_TOKEN is not set")
        self.settings = settings
        self.webhook_mode = bool(settings.public_url)
        self.secret = settings.zalo_bot_webhook_secret.get_secret_value() if settings.zalo_bot_webhook_secret \
            else ""
        if self.webhook_mode and not 8 <= len(self.secret) <= 256:
            raise UserError.say("admin.zalo_bot_webhook_secret_bad")
        self.services: Services | None = None
        self.http: aiohttp.ClientSession | None = None
        self.api: BotApi | None = None
        self.worker: inbox.InboxWorker | None = None
        self._tasks: list[asyncio.Task] = []
        self.bot_name: str | None = None

    def routes(self) -> list[web.RouteDef]:
        """The webhook, in webhook mode; long polling needs no route."""
        return [web.post(WEBHOOK_PATH, self.handle_webhook)] if self.webhook_mode else []

    def outbox_senders(self) -> dict:
        """Without an OA, alerts to a Zalo user ("zalo:ID") go through this bot (with one, the OA sends them)."""
        return {} if self.settings.zalo_oa_enabled else {STAFF_PLATFORM: self.send_text}

    async def start(self, services: Services, wake_outbox: Callable[[], None]) -> None:
        self.services = services
        self.http = aiohttp.ClientSession()
        self.api = BotApi(self.http, self.settings.zalo_bot_api_url, self.settings.zalo_bot_token.get_secret_value())
        chat = CitizenChat(SurveyService(services), StaffService(services), self.api, on_completed=wake_outbox)
        self.worker = inbox.InboxWorker(services.db, PLATFORM, chat.handle)
        try:
            me = await self.api.call("getMe")
        except ZaloBotError as error:
            if error.code in TOKEN_REFUSED:
                await self.http.close()
                raise UserError.say("admin.zalo_bot_token_rejected") from None
            log.warning("zalo-bot: the API is unreachable at start (%s); retrying in the background",
                        error.description or error.code)
            self.worker.start()  # events already in the inbox, and webhook calls, are taken meanwhile
            self._tasks.append(asyncio.create_task(self._connect_later()))
            return
        self.worker.start()
        await self._connected(me)

    async def _connect_later(self) -> None:
        """Retry getMe with backoff until the API answers, then connect."""
        for attempt in itertools.count():
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            try:
                me = await self.api.call("getMe")
            except ZaloBotError as error:
                if error.code in TOKEN_REFUSED:
                    log.error("zalo-bot: %s", say("admin.zalo_bot_token_rejected", self.settings.admin_language))
                    return
                log.warning("zalo-bot: the API is still unreachable (%s)", error.description or error.code)
                continue
            try:
                await self._connected(me)
            except Exception:
                log.exception("zalo-bot: start failed after reconnecting")
            return

    async def _connected(self, me) -> None:
        self.bot_name = (me or {}).get("account_name") or (me or {}).get("display_name")
        if self.webhook_mode:
            url = f"{self.settings.public_url.rstrip('/')}{WEBHOOK_PATH}"
            await self.api.call("setWebhook", {"url": url, "secret_token": self.secret})
        else:
            await self.api.call("deleteWebhook")  # getUpdates is refused while a webhook is set
            self._tasks.append(asyncio.create_task(self._poll(), name="zalo-bot-poll"))
        log.info("zalo-bot: connected (%s)", "webhook" if self.webhook_mode else "long polling")

    async def _poll(self) -> None:
        """getUpdates until stopped: one update per call, 408 when none came; errors back off, never end it."""
        timeout = self.settings.zalo_bot_poll_timeout
        failures = 0
        while True:
            try:
                result = await self.api.call("getUpdates", {"timeout": str(timeout)}, timeout=timeout + 15)
            except ZaloBotError as error:
                if error.code == POLL_TIMEOUT_CODE:
                    failures = 0
                    continue
                log.warning("zalo-bot: getUpdates failed (%s)", error.description or error.code)
                await asyncio.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
                failures += 1
                continue
            failures = 0
            for body in result if isinstance(result, list) else [result]:
                try:
                    await self.accept(parse(body))
                except BadUpdate:
                    log.warning("zalo-bot: getUpdates gave something that is not an update; skipped")
                except Exception:  # the database refused the INSERT: the update is lost, the loop goes on
                    log.exception("zalo-bot: could not keep an update")

    async def accept(self, update: Update) -> bool:
        """Put one update in the inbox (False: a redelivery, or nothing for us) and wake the worker."""
        counters.update_received(PLATFORM)  # by webhook or long polling, both come here
        if not update.private:
            return False  # group chats and other bots: the survey is one citizen's private chat
        fresh = await inbox.put(self.services.db, PLATFORM, update.key, update.chat_id, stored(update))
        if fresh:
            self.worker.wake()
        return fresh

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.worker is not None:
            await self.worker.stop()
        if self.http is not None and not self.http.closed:
            await self.http.close()

    async def send_text(self, chat_id: str, text: str) -> None:
        """A plain message to a chat (alerts from the outbox), in pieces of 2,000 characters; raises on failure."""
        if self.api is None:
            raise RuntimeError("the Zalo Bot channel is not started")
        for piece in split_text(text):
            await self.api.send_message(chat_id, piece)

    async def handle_webhook(self, request: web.Request) -> web.Response:
        """Check the secret (constant time), check the body, keep it; 200 once it is in the inbox."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.secret.encode()):
            return web.json_response({"error": "unauthorized", "status": 401}, status=401)
        if self.worker is None:
            return web.json_response({"error": "the Zalo Bot channel is starting", "status": 503}, status=503)
        try:
            update = parse_bytes(await request.read())
        except BadUpdate as error:
            return web.json_response({"error": str(error), "status": 400}, status=400)
        await self.accept(update)  # a redelivery is acknowledged too: it was kept the first time
        return web.json_response({"ok": True})
