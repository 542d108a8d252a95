"""The Zalo Official Account channel (OA Open API v3): a webhook on the service's aiohttp server, a durable inbox,
and consultation messages with query buttons.

Zalo wants its answer within about two seconds, while a survey step sends API calls that can be slow. So the
webhook verifies the call (adapters/zalo_oa/webhook.py), writes the event to the inbox (one INSERT, de-duplicated
by its key) and answers 200 at once; the inbox's worker then processes the events in order per citizen
(adapters/zalo_oa/citizen.py) and sends the replies. A crash after the acknowledgement loses nothing: the worker
takes the unprocessed rows on start.

Hooks the integrator wires to the other parts of issue 11: `staff_command` (staff commands typed in the OA),
`on_feedback` (ZNS ratings), `zns_sender` (the outbox's "zns" phone invitations).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
from aiohttp import web

from adapters.common.staff_text import staff_reply
from adapters.zalo_oa import webhook
from adapters.zalo_oa.api import OAApi
from adapters.zalo_oa.citizen import PLATFORM, OACitizen
from adapters.zalo_oa.events import Feedback
from adapters.zalo_oa.render import OAMessage, cs_body, split_text
from bot.config import Settings
from bot.errors import UserError
from bot.logs import chat_ref
from bot.services import Services
from bot.survey import inbox
from bot.survey.conversation import SurveyService
from bot.survey.staff import StaffService
from bot.zalo.tokens import OATokens

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
        """HOOK (ZNS ratings, bot.zalo.ratings.record_rating): a `user_feedback` event, parsed. Raise only for a
        transient failure (the inbox retries). Not wired: logged and ignored."""
        log.info("zalo-oa: a ZNS rating (%s stars) arrived; ratings are not recorded yet", feedback.rate)

    def zns_sender(self) -> Send | None:
        """HOOK (ZNS invitations, adapters/zalo_oa/zns.py): the outbox's "zns" sender ``send(chat_id, text)``.
        Called before `start`; the sender may use ``self.api`` once started. Not wired: None."""
        return None

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
        if not verdict.keep:
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
