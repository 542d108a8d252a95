"""The web survey as a channel: its pages on the service's own HTTP server (channel ``web``).

A web page cannot be sent a message, so `send_text` refuses: alerts go to staff on the chat platforms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web

from adapters.web.pages import PLATFORM, WebPages
from adapters.web.render import static_file
from bot.config import Settings
from bot.services import Services
from bot.survey.conversation import SurveyService


class WebChannel:
    platform = PLATFORM

    def __init__(self, settings: Settings) -> None:
        self.pages = WebPages(settings)

    def routes(self) -> Sequence[web.RouteDef]:
        pages = self.pages
        return [
            web.get("/s", pages.code_page), web.post("/s", pages.redeem_code),
            web.get("/s/q", pages.survey_page), web.post("/s/q", pages.answer),
            web.get("/s/static/{name}", static_file),
            web.get("/s/{token}", pages.invitation_page), web.post("/s/{token}", pages.start_invitation),
            web.get("/c/{centre}", pages.open_page), web.post("/c/{centre}", pages.start_open),
            # A mistyped address under ours is a page in Vietnamese, not the API's JSON 404.
            web.get("/s/{token}/{tail:.*}", pages.not_found), web.get("/c/{centre}/{tail:.*}", pages.not_found),
        ]

    async def start(self, services: Services, wake_outbox: Callable[[], None]) -> None:
        self.pages.service = SurveyService(services)
        self.pages.wake_outbox = wake_outbox

    async def stop(self) -> None:
        """Nothing to stop: the HTTP server finishes the requests in flight."""

    async def send_text(self, chat_id: str, text: str) -> None:
        raise RuntimeError("a web browser cannot be sent a message")
