"""The survey session store under the conversation service: one unit of work per event (retried when another
worker changed the session first), the chat's active session row, and the small calls that need nothing more."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from bot.storage.models import AppState, Centre, Service, utcnow
from bot.storage.secret import keyed_hash
from bot.survey import afterwards, invitations, open_limits
from bot.survey.redemptions import PROCESS_GUARD, RedemptionGuard
from bot.survey.step import ACTIVE, DROP, Outcome, first_time
from bot.survey.sweep import sweep
from bot.texts import language_of, say
from surveys import engine
from surveys import events as ev
from surveys.progress import Progress

MAX_ATTEMPTS = 8


class Stale(Exception):
    """The session changed under us; the unit of work is retried on fresh state."""


class SessionStore:
    def __init__(self, services: Services, guard: RedemptionGuard | None = None,
                 bursts: open_limits.BurstWatch | None = None) -> None:
        self.services = services
        self.guard = guard or PROCESS_GUARD  # limits on guessing codes (bot/survey/redemptions.py)
        self.bursts = bursts or open_limits.PROCESS_BURSTS  # bursts of open surveys (bot/survey/open_limits.py)

    def chat_hash(self, platform: str, chat_id: str | int) -> str:
        return keyed_hash(self.services.secret_key, "chat", f"{platform}:{chat_id}")

    async def open_limit_reached(self, session: AsyncSession, keys: str, centre_id: int, now) -> bool:
        return await open_limits.reached(session, self.services.secret_key, keys, centre_id,
                                         self.services.local_date(now), self.services.settings.open_per_address)

    async def _guarded(self, guard_key: str, outcome: Outcome) -> Outcome:
        # Counted after the transaction, never inside it: under a global attack a failure waits.
        await self.guard.settle(guard_key, outcome.problem, outcome.started)
        return outcome

    async def remember(self, key: str, value: str) -> None:
        """Keep a small fact learned at run time (the bot's username) for other processes and commands."""
        async with self.services.db.transaction() as session:
            await session.merge(AppState(key=key, value=value))

    async def chat_language(self, platform: str, chat_id: str | int) -> str:
        """The language of the chat's survey in progress, Vietnamese when there is none."""
        async with self.services.db.reading() as session:
            row = await self.active_row(session, platform, chat_id)
        return language_of(row.progress.get("language") if row is not None else None)

    async def abandon(self, platform: str, chat_id: str | int) -> None:
        """Drop the chat's survey in progress, if any (its answers are not counted; its invitation is freed)."""

        async def work(session: AsyncSession, lang: str) -> Outcome:
            await self._drop_active(session, platform, chat_id)
            return Outcome("no_survey", lang)

        await self._unit(platform, chat_id, None, None, work)

    async def expire_abandoned(self, now: dt.datetime | None = None) -> int:
        """The periodic sweep (`bot/survey/sweep.py`); returns the abandoned sessions removed."""
        return await sweep(self.services, now or utcnow())

    # -- one unit of work, retried on contention ----------------------------------------------------------

    async def _unit(self, platform, chat_id, event_key, language, work) -> Outcome:
        lang = language_of(language)
        for _ in range(MAX_ATTEMPTS):
            try:
                async with self.services.db.transaction() as session:
                    if event_key is not None and not await first_time(session, platform, event_key):
                        return await self._current(session, platform, chat_id, lang)
                    return await work(session, lang)
            except (Stale, IntegrityError):
                continue  # another worker got there first: start again on what it committed
        raise RuntimeError("the survey session kept changing under concurrent updates")

    async def _current(self, session: AsyncSession, platform: str, chat_id, lang: str) -> Outcome:
        """An event seen before: its reply may never have reached the citizen (the process died after the commit),
        so say again where the survey stands, never nothing."""
        row = await self.active_row(session, platform, chat_id)
        if row is not None:
            progress = Progress.from_dict(row.progress)
            again = ev.Cancel() if progress.status == "confirm_cancel" else ev.Resume()  # asks the same again
            _, reply = engine.step(self.services.instrument(row.instrument), progress, again)
            return Outcome("duplicate", progress.language, (), reply)
        finished = await afterwards.find(session, platform, self.chat_hash(platform, chat_id), utcnow())
        if finished is not None:
            return Outcome("duplicate", finished.language, (say("citizen.after_end", finished.language),))
        return Outcome("duplicate", lang)

    async def active_row(self, session: AsyncSession, platform: str, chat_id) -> Row | None:
        return (await session.execute(ACTIVE, {"platform": platform,
                                                "chat_hash": self.chat_hash(platform, chat_id)})).first()

    async def _drop_active(self, session: AsyncSession, platform: str, chat_id) -> None:
        current = await self.active_row(session, platform, chat_id)
        if current is not None:
            await self._close(session, current, release=True)

    async def _close(self, session: AsyncSession, row: Row, *, release: bool) -> None:
        result = await session.execute(DROP, {"session_id": row.id, "seen": row.version})
        if result.rowcount != 1:
            raise Stale
        if release and row.invitation_id is not None:
            await invitations.release(session, row.invitation_id)

    def timed_out(self, row: Row, now: dt.datetime) -> bool:
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=dt.UTC)
        return now - updated > dt.timedelta(hours=self.services.settings.session_timeout_hours)

    async def welcome(self, session, centre_id: int, service_id: int | None, lang: str) -> str:
        centre = await session.get(Centre, centre_id)
        service = await session.get(Service, service_id) if service_id else None
        service_text = say("citizen.service", lang, name=service.name) if service else ""
        return say("citizen.welcome", lang, centre=centre.name, service=service_text)

