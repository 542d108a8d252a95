"""Issuing invitations with their links, the same way for every caller: `sipas-bot invite`, a counter's /moi in a
chat, and the case system's HTTP call (`POST /api/v1/invitations`).

A batch is issued in one transaction, all or none. Its links are built from the settings and what the running bot
learned: the web link `{SIPAS_PUBLIC_URL}/s/TOKEN`, and the Telegram link `https://t.me/BOT?start=TOKEN` where BOT
is `SIPAS_TELEGRAM_BOT_USERNAME` or, when that is not set, the username the Telegram channel recorded at start.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.errors import UserError
from bot.services import Services
from bot.storage.models import AppState
from bot.survey import directory, invitations
from bot.survey.invitations import IssuedInvitation

BOT_USERNAME_KEY = "telegram_bot_username"  # where the running Telegram bot records its own username
_BOT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")  # Telegram: 5-32 letters, digits, underscores
_WEB_BASE = re.compile(r"^https?://[^/\s]+\S*$")


@dataclass(frozen=True)
class Links:
    web_base: str | None  # SIPAS_PUBLIC_URL without the trailing slash
    bot: str | None  # Telegram bot username without "@"

    def of(self, token: str) -> dict[str, str]:
        links = {}
        if self.web_base:
            links["web"] = f"{self.web_base}/s/{token}"
        if self.bot:
            links["telegram"] = f"https://t.me/{self.bot}?start={token}"
        return links

    def for_qr(self, token: str) -> str | None:
        # The web page first: it opens on any phone, and Vietnam's operators block Telegram (since June 2025).
        links = self.of(token)
        return links.get("web") or links.get("telegram")

    def gaps(self) -> list[str]:
        """The catalogue texts naming the settings that would add the missing links."""
        return [key for key, present in (("admin.gap_web", self.web_base), ("admin.gap_telegram", self.bot))
                if not present]


@dataclass(frozen=True)
class Batch:
    issued: list[IssuedInvitation]
    links: Links
    centre_name: str
    service_name: str | None
    valid_until: dt.date  # the last local day on which the invitations are valid all day


def web_base(settings: Settings) -> str | None:
    url = (settings.public_url or "").strip().rstrip("/")
    if url and not _WEB_BASE.match(url):
        raise UserError.say("admin.public_url_bad", url=settings.public_url)
    return url or None


def bot_name(raw: str | None, source: str) -> str | None:
    name = (raw or "").strip().removeprefix("@")
    if name and not _BOT_NAME.match(name):
        raise UserError.say("admin.bot_name_bad", source=source, raw=raw)
    return name or None


async def links_now(session: AsyncSession, settings: Settings) -> Links:
    """The links invitations get now: from the settings, and the bot username the running Telegram bot recorded."""
    stored = await session.get(AppState, BOT_USERNAME_KEY)
    # The setting wins over what the running bot recorded, so an operator can override a stale name.
    configured = bot_name(settings.telegram_bot_username, "SIPAS_TELEGRAM_BOT_USERNAME")
    return Links(web_base(settings), configured or bot_name(stored.value if stored else None,
                                                           UserError.term("admin.stored_bot_name")))


async def issue_batch(services: Services, *, centre_code: str, service_code: str | None = None,
                      survey: str | None = None, count: int = 1, expires_days: int | None = None,
                      channel_hint: str | None = None,
                      before_issue: Callable[[Links], None] | None = None, dossier: str | None = None) -> Batch:
    """Issue ``count`` invitations for a centre (and service) with their links, in one transaction.

    ``before_issue`` sees the links first and may refuse (raise) before anything is written. ``dossier`` (a keyed
    hash, `invitations.dossier_hash`) makes the one invitation that dossier's: a second is refused.
    """
    settings = services.settings
    days = settings.invitation_days if expires_days is None else expires_days
    instrument = services.instrument(survey).id
    bot_name(settings.telegram_bot_username, "SIPAS_TELEGRAM_BOT_USERNAME")  # a bad setting: refused before any work
    web_base(settings)
    async with services.db.transaction() as session:
        centre = await directory.find_centre(session, centre_code)
        service = await directory.find_service(session, service_code) if service_code else None
        links = await links_now(session, settings)
        if before_issue is not None:
            before_issue(links)
        issued = await invitations.issue(session, services.secret_key, centre=centre, service=service,
                                         survey=instrument, count=count, expires_days=days,
                                         channel_hint=channel_hint, timezone=settings.timezone, dossier=dossier)
    # Validity ends at local midnight, so the printed last day ("Hạn: 25/12") is valid all day long.
    valid_until = services.local_date(issued[0].expires_at - dt.timedelta(microseconds=1))
    return Batch(issued, links, centre.name, service.name if service else None, valid_until)
