"""The Zalo Official Account channel (OA Open API v3): a webhook on the service's aiohttp server, a durable inbox,
and consultation messages with query buttons.

Zalo wants its answer within about two seconds, while a survey step sends API calls that can be slow. So the
webhook verifies the call (adapters/zalo_oa/webhook.py), writes the event to the inbox (one INSERT, de-duplicated
by its key) and answers 200 at once; the inbox's worker then processes the events in order per citizen
(adapters/zalo_oa/citizen.py) and sends the replies. A crash after the acknowledgement loses nothing: the worker
takes the unprocessed rows on start.

Beside the survey: staff commands typed in the OA (`staff_command`, adapters/common/staff_text.py), ZNS ratings
(`on_feedback`, bot/zalo/ratings.py) and the outbox's "zns" sender of phone invitations (`zns_sender`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
from aiohttp import web

from adapters.common.flood import FloodGuard
from adapters.common.staff_text import staff_reply
from adapters.zalo_oa import webhook
from adapters.zalo_oa.api import OAApi
from adapters.zalo_oa.citizen import FLOODING_EVENT, PLATFORM, OACitizen
from adapters.zalo_oa.events import Feedback
from adapters.zalo_oa.render import OAMessage, cs_body, split_text
from adapters.zalo_oa.zns import ZNSSender
from bot import counters
from bot.config import Settings
from bot.errors import UserError
from bot.logs import chat_ref
from bot.services import Services
from bot.survey import inbox
from bot.survey.conversation import SurveyService
from bot.survey.staff import StaffService
from bot.zalo.ratings import record_rating
from bot.zalo.times import from_ms
from bot.zalo.tokens import OATokens
from bot.zalo.zns import record_sent

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/zalo-oa"
CS_PATH = "/v3.0/oa/message/cs"
Send = Callable[[str, str], Awaitable[None]]


class ZaloOAChannel:
    """The `Channel` of the Zalo OA (see bot/channels.py): built from the settings, started with the services."""

    platform = PLATFORM

    def __init__(self, settings: Settings) -> None:
        if not settings.zalo_oa_enabled:
            raise UserError("the Zalo OA needs SIPAS_ZALO_APP_ID, SIPAS_ZALO_APP_SECRET and SIPAS_ZALO_OA_SECRET")
        self.settings = settings
        self.app_id = settings.zalo_app_id
        self.oa_secret = settings.zalo_oa_secret.get_secret_value()
        self.cs_url = settings.zalo_oa_api_url.rstrip("/") + CS_PATH
        self.services: Services | None = None
        self.http: aiohttp.ClientSession | None = None
        self.api: OAApi | None = None
        self.worker: inbox.InboxWorker | None = None
        # The same rule as Telegram's: more events a minute from one user than this, one notice, then a quiet minute.
        self.flood = FloodGuard(settings.telegram_flood_per_minute)

    def routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self.handle_webhook)]

    async def start(self, services: Services, wake_outbox: Callable[[], None]) -> None:
        self.http = aiohttp.ClientSession()
        self.api = OAApi(self.http, OATokens(services, self.http))
        # The hooks are looked up at each call, so that they can be wired on the instance too.
        citizen = OACitizen(SurveyService(services), self.send_message,
                            staff_command=lambda user, text: self.staff_command(user, text),
                            on_feedback=lambda feedback: self.on_feedback(feedback), on_completed=wake_outbox)
        self.worker = inbox.InboxWorker(services.db, PLATFORM, citizen.handle, concurrency=16)
        self.services = services  # from here on the webhook takes events
        self.worker.start()  # and the worker takes what an earlier process left unprocessed
        log.info("zalo-oa: webhook on %s", WEBHOOK_PATH)
        try:  # say it at start, not at the first citizen's message
            await self.api.tokens.access_token()
        except UserError as error:  # not authorized yet, or the refresh refused or unreachable
            log.warning("zalo-oa: %s", error.text(self.settings.admin_language))

    async def stop(self) -> None:
        self.services = None
        if self.worker is not None:
            await self.worker.stop()
        if self.http is not None:
            await self.http.close()

    # -- sending ------------------------------------------------------------------------------------------------

    async def send_message(self, user_id: str, message: OAMessage) -> None:
        """One consultation message; raises the `ZaloAPIError` kinds of adapters/zalo_oa/api.py."""
        await self.api.call("POST", self.cs_url, json=cs_body(user_id, message))

    async def send_text(self, chat_id: str, text: str) -> None:
        """A plain text to a Zalo user (staff alerts from the outbox); a closed window raises `WindowClosed`, so the
        outbox keeps the alert with its reason."""
        for part in split_text(text):
            await self.send_message(chat_id, OAMessage(part))

    def outbox_senders(self) -> dict[str, Send]:
        """What the OA sends for the outbox besides its own platform: "zalo" (alerts to staff by Zalo user id) and,
        once wired, "zns" (invitations to a phone)."""
        senders = {"zalo": self.send_text}
        if (zns := self.zns_sender()) is not None:
            senders["zns"] = zns
        return senders

    # -- hooks wired at integration -----------------------------------------------------------------------------

    async def staff_command(self, user_id: str, text: str) -> Sequence[str] | None:
        """A text starting with "/" from Zalo user ``user_id``: the answer to a staff command ("/moi", "/thongke",
        "/baocao", adapters/common/staff_text.py; a stranger gets the refusal with their id), or None when it is
        no staff command and goes to the survey as usual."""
        reply = await staff_reply(StaffService(self.services), user_id, text, platform="zalo")
        return None if reply is None else [reply.text]

    async def on_feedback(self, feedback: Feedback) -> None:
        """A `user_feedback` event (a ZNS rating): stored once as a `zns-rating` response of the invitation's centre
        and service (bot/zalo/ratings.py); a rating seen before, unknown or out of range changes nothing."""
        outcome = await record_rating(self.services, msg_id=feedback.msg_id, tracking_id=feedback.tracking_id,
                                      rate=feedback.rate, note=feedback.note, feedbacks=feedback.feedbacks,
                                      submitted_at=from_ms(feedback.submitted_ms))
        log.info("zalo-oa: a ZNS rating arrived: %s", outcome)

    def zns_sender(self) -> Send | None:
        """The outbox's "zns" sender (invitations to a phone, adapters/zalo_oa/zns.py), with the OA's tokens once
        started; Zalo's message id is kept on the invitation, for the ratings that name it."""

        async def send(chat_id: str, text: str) -> None:
            services = self.services
            sender = ZNSSender(self.settings, self.api, on_sent=lambda tracking, msg: record_sent(
                services, tracking, msg))
            await sender.send(chat_id, text)

        return send

    # -- the webhook --------------------------------------------------------------------------------------------

    async def handle_webhook(self, request: web.Request) -> web.Response:
        services = self.services
        if services is None or self.worker is None:
            return _error(503, "the Zalo OA channel is starting")
        raw = await _read_capped(request, webhook.MAX_BODY)
        if raw is None:
            return _error(413, f"body over {webhook.MAX_BODY} bytes")
        verdict = webhook.check(raw, request.headers.get(webhook.SIGNATURE_HEADER), app_id=self.app_id,
                                oa_secret=self.oa_secret, max_age_seconds=self.settings.zalo_event_max_age_seconds,
                                now_ms=int(time.time() * 1000))
        if verdict.status != 200:
            if verdict.status == 401:
                log.warning("zalo-oa: webhook call refused: %s", verdict.reason)
            return _error(verdict.status, verdict.reason)
        counters.update_received(PLATFORM)  # signed and well-formed, acted on or not
        if not verdict.keep:
            return web.json_response({"ok": True, "ignored": True})
        if verdict.user is not None and (flood := self.flood.check(verdict.user, time.monotonic())) != "ok":
            if flood == "drop":  # acknowledged, so that Zalo does not deliver it again; nothing kept
                return web.json_response({"ok": True, "ignored": True})
            # Once: the worker tells the citizen, in the order of their events, and this event is not kept.
            log.warning("zalo-oa: user %s is flooding; ignoring them for a while", chat_ref(PLATFORM, verdict.user))
            await inbox.put(services.db, PLATFORM, f"flooding:{verdict.key}", verdict.user, FLOODING_EVENT)
            self.worker.wake()
            return web.json_response({"ok": True, "ignored": True})
        if not await inbox.put(services.db, PLATFORM, verdict.key, verdict.user, verdict.text):
            log.info("zalo-oa: event of user %s delivered again; already kept",
                     chat_ref(PLATFORM, verdict.user or "-"))
        self.worker.wake()
        return web.json_response({"ok": True})


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None once it is over ``limit`` bytes (declared or sent)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason, "status": status}, status=status)
