"""The Telegram channel: a python-telegram-bot Application in the service's event loop, with an explicit
start/stop, long polling (no public URL) or a webhook on the aiohttp server (public URL set).

Ordering: updates of one chat are processed one after another, different chats concurrently. A webhook update is
acknowledged only after it was processed and its transaction committed; if processing failed, Telegram gets a 500
and delivers it again (the event key makes a second delivery of a committed update change nothing).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable

os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta, without a deprecation

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)

from adapters.common.flood import FloodGuard
from adapters.telegram import webhook_input
from adapters.telegram.citizen import CitizenHandlers, error_text
from adapters.telegram.sending import Sender, chat_tag
from adapters.telegram.staff import StaffHandlers
from bot import counters
from bot.config import Settings
from bot.errors import UserError
from bot.services import Services
from bot.survey.batches import BOT_USERNAME_KEY
from bot.survey.conversation import SurveyService
from bot.survey.staff import StaffService
from bot.texts import say

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The menu Telegram shows beside the text field, in Vietnamese (the English aliases work too).
COMMANDS = (("start", "Bắt đầu khảo sát (gửi kèm mã khảo sát)"), ("trogiup", "Hướng dẫn trả lời"),
            ("huy", "Dừng khảo sát"), ("ngonngu", "Đổi ngôn ngữ / Language"),
            ("moi", "Cán bộ: tạo phiếu mời khảo sát tại quầy"), ("thongke", "Cán bộ: thống kê 30 ngày"),
            ("baocao", "Quản trị viên: báo cáo SIPAS (XLSX)"))


class PerChatProcessor(BaseUpdateProcessor):
    """Concurrency across chats, strict order within one chat."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def do_process_update(self, update, coroutine) -> None:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        if chat is None:
            await coroutine
            return
        lock = self._locks[chat]
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and chat in self._locks and not getattr(lock, "_waiters", None):
                del self._locks[chat]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class TelegramChannel:
    """The `Channel` of Telegram (see bot/channels.py): built from the settings, started with the services."""

    platform = "telegram"

    def __init__(self, settings: Settings) -> None:
        if settings.telegram_token is None:
            raise UserError("SIPAS_TELEGRAM_TOKEN is not set")
        self.settings = settings
        self.service: SurveyService | None = None
        self.webhook_mode = bool(settings.public_url)
        self.secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
        if self.webhook_mode and not self.secret:
            raise UserError("webhook mode (SIPAS_PUBLIC_URL is set) needs SIPAS_TELEGRAM_WEBHOOK_SECRET "
                            "(1-256 characters A-Z, a-z, 0-9, _ and -)")
        root = settings.telegram_api_url.rstrip("/")
        builder = (Application.builder().token(settings.telegram_token.get_secret_value())
                   .base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
                   .rate_limiter(AIORateLimiter(max_retries=3))
                   .concurrent_updates(PerChatProcessor(settings.telegram_concurrency)))
        if self.webhook_mode:
            builder = builder.updater(None)
        self.application = builder.build()
        self.sender = Sender(self.application.bot)
        self.flood = FloodGuard(settings.telegram_flood_per_minute)
        self._failed: set[int] = set()
        self._connecting: asyncio.Task | None = None
        self.application.add_handler(TypeHandler(Update, self._flood_gate), group=-1)
        self.application.add_error_handler(self._on_error)

    def routes(self) -> list[web.RouteDef]:
        """The webhook, in webhook mode; long polling needs no route."""
        return [web.post(WEBHOOK_PATH, self.handle_webhook)] if self.webhook_mode else []

    async def start(self, services: Services, wake_outbox: Callable[[], None]) -> None:
        self.service = SurveyService(services)
        # Staff commands first: /moi must not reach the citizen's handlers.
        StaffHandlers(StaffService(services), self.sender).register(self.application)
        CitizenHandlers(self.service, self.sender, on_completed=wake_outbox).register(
            self.application)
        try:
            await self.application.initialize()  # calls getMe
        except InvalidToken:
            # PTB's own message and traceback carry the token: neither is shown (`from None`).
            raise UserError.say("admin.telegram_token_rejected") from None
        except NetworkError as error:  # the Bot API is out of reach: keep the service up and try again later
            log.warning("telegram: Bot API unreachable at start (%s); retrying in the background",
                        type(error).__name__)
            self._connecting = asyncio.create_task(self._connect_later())
            return
        await self._connected()

    async def _connect_later(self, delays=(1, 2, 5, 10, 30, 60)) -> None:
        """Retry getMe with backoff (the last delay repeats) until the Bot API answers."""
        for attempt in itertools.count():
            await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
            try:
                await self.application.initialize()
            except InvalidToken:
                log.error("telegram: %s", say("admin.telegram_token_rejected", self.settings.admin_language))
                return
            except NetworkError as error:
                log.warning("telegram: Bot API still unreachable (%s)", type(error).__name__)
                continue
            try:
                await self._connected()
            except Exception:
                log.exception("telegram: start failed after reconnecting")
            return

    async def _connected(self) -> None:
        await self.service.remember(BOT_USERNAME_KEY, self.application.bot.username)  # for invitation links
        await self.application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
        await self.application.start()
        if self.webhook_mode:
            await self.application.bot.set_webhook(
                url=f"{self.settings.public_url.rstrip('/')}{WEBHOOK_PATH}", secret_token=self.secret,
                allowed_updates=["message", "callback_query"])
        else:
            await self.application.bot.delete_webhook()
            await self.application.updater.start_polling(
                poll_interval=0, timeout=self.settings.telegram_poll_timeout,
                allowed_updates=["message", "callback_query"])
        log.info("telegram: @%s connected (%s)", self.application.bot.username,
                 "webhook" if self.webhook_mode else "long polling")

    async def stop(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self.application.updater and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def send_text(self, chat_id: str, text: str) -> None:
        """A plain message to a chat (alerts from the outbox)."""
        await self.sender.send(int(chat_id), text)

    async def handle_webhook(self, request: web.Request) -> web.Response:
        if self.service is None or not self.application.running:
            return web.json_response({"error": "the Telegram channel is starting", "status": 503}, status=503)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.json_response({"error": "unauthorized", "status": 401}, status=401)
        verdict = webhook_input.check(await request.read())
        if verdict.kind == "ignore":
            return web.json_response({"ok": True, "ignored": True})
        try:
            update = Update.de_json(verdict.body, self.application.bot) if verdict.kind == "update" else None
        except Exception:  # the checked fields are sound; anything PTB still refuses is not an update we can use
            update = None
        if update is None:
            return web.json_response({"error": verdict.reason or webhook_input.NOT_AN_UPDATE, "status": 400},
                                     status=400)
        processor = self.application.update_processor
        await processor.process_update(update, self.application.process_update(update))
        if update.update_id in self._failed:
            self._failed.discard(update.update_id)
            return web.json_response({"error": "processing failed", "status": 500}, status=500)
        return web.json_response({"ok": True})

    async def _flood_gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        counters.update_received("telegram")  # every update passes here first, by webhook or long polling
        chat = update.effective_chat.id if update.effective_chat else None
        if chat is None:
            return
        verdict = self.flood.check(chat, time.monotonic())
        if verdict == "notice":
            log.warning("telegram: chat %s is flooding; ignoring it for a while", chat_tag(chat))
            await self.sender.send(chat, say("citizen.flooding"))
        if verdict != "ok":
            if update.callback_query:
                await self.sender.answer(update.callback_query)
            raise ApplicationHandlerStop

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: update failed", exc_info=context.error)
        counters.error_caught("bot")
        if not isinstance(update, Update):
            return
        if self.webhook_mode:
            self._failed.add(update.update_id)
        if update.effective_chat is not None:
            try:
                language = await self.service.chat_language("telegram", update.effective_chat.id)
                await self.sender.send(update.effective_chat.id, error_text(language))
            except Exception:  # the error path must not raise again
                log.exception("telegram: could not tell chat %s about the error", chat_tag(update.effective_chat.id))
