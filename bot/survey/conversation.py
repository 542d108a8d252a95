"""The service layer: the one place where a channel's event becomes state.

Every call is one database transaction: load the chat's survey session, run the engine, save, and say what to
show. Safe under concurrency and redelivery:
    * a version counter on the session: an update applies only to the version it read, else the whole unit of
      work is retried on fresh state, so two workers never both apply an answer to the same old state;
    * a key per platform event (``event_key``): an event seen before changes nothing;
    * claiming an invitation is one conditional UPDATE, so of two simultaneous redemptions exactly one wins.
On completion, in the same transaction, the anonymous response is written, the invitation is marked completed
and the session (the only link between the chat and the survey) is deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from bot.storage.models import AppState, Centre, Invitation, ProcessedEvent, Service, SurveySession, utcnow
from bot.storage.responses import build_response
from bot.storage.secret import keyed_hash
from bot.survey import invitations, outbox
from bot.survey.alerts import alert_text
from bot.survey.directory import alert_target, find_centre, find_service
from bot.survey.texts import say
from surveys import engine
from surveys import events as ev
from surveys.events import Reply
from surveys.progress import Progress

Status = Literal["survey", "no_survey", "invitation_problem", "duplicate"]
MAX_ATTEMPTS = 8

# The statements of every survey step, built once with bound parameters: building and hashing a statement per
# call cost more than running it. Core on the tables, not the ORM: its object loading and bulk-DML machinery too.
SESSIONS = SurveySession.__table__
_ACTIVE = select(SESSIONS).where(SESSIONS.c.platform == bindparam("platform"),
                                 SESSIONS.c.chat_hash == bindparam("chat_hash"), SESSIONS.c.status == "active")
_SAVE = (update(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.version == bindparam("seen"))
         .values(progress=bindparam("progress"), version=bindparam("seen") + 1, updated_at=bindparam("now")))
_DROP = delete(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.version == bindparam("seen"))
_RECORD_EVENT = {name: insert(ProcessedEvent.__table__).values(
    platform=bindparam("platform"), event_key=bindparam("event_key"), processed_at=bindparam("processed_at"))
    .on_conflict_do_nothing() for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))}


@dataclass(frozen=True)
class Outcome:
    """What a channel shows after one event: service texts first, then the engine's reply (if a survey runs)."""

    status: Status
    language: str
    texts: tuple[str, ...] = ()
    reply: Reply | None = None
    problem: invitations.Problem | None = None
    started: bool = False  # a new survey began: channels show the welcome (and language choice) first


async def _first_time(session: AsyncSession, platform: str, event_key: str) -> bool:
    """Record a platform event's key; False when it was recorded before. One statement: the key's row is the check,
    and under concurrency the second writer waits for the first and then finds it."""
    statement = _RECORD_EVENT["postgresql" if session.bind.dialect.name == "postgresql" else "sqlite"]
    result = await session.execute(statement, {"platform": platform, "event_key": event_key,
                                               "processed_at": utcnow()})
    return result.rowcount == 1


class _Stale(Exception):
    """The session changed under us; the unit of work is retried on fresh state."""


class SurveyService:
    def __init__(self, services: Services) -> None:
        self.services = services

    def chat_hash(self, platform: str, chat_id: str | int) -> str:
        return keyed_hash(self.services.secret_key, "chat", f"{platform}:{chat_id}")

    async def redeem(self, platform: str, chat_id: str | int, credential: str, *, language: str | None = None,
                     event_key: str | None = None, now: dt.datetime | None = None) -> Outcome:
        """Start (or resume) the survey of the invitation behind a token or a typed short code."""
        return await self._unit(platform, event_key, language, lambda s, lang: self._redeem(
            s, platform, chat_id, credential, lang, now or utcnow()))

    async def handle(self, platform: str, chat_id: str | int, event: ev.Event, *, event_key: str | None = None,
                     now: dt.datetime | None = None) -> Outcome:
        """Apply one citizen event; with no survey running, a typed code starts one, anything else is greeted."""
        return await self._unit(platform, event_key, None, lambda s, lang: self._handle(
            s, platform, chat_id, event, now or utcnow()))

    async def start_open(self, platform: str, chat_id: str | int, centre_code: str, *,
                         service_code: str | None = None, survey: str | None = None, language: str | None = None,
                         allow_closed: bool = False, sections: frozenset[str] = frozenset(),
                         now: dt.datetime | None = None) -> Outcome:
        """Start a survey without an invitation, where the centre accepts open surveys (or when allowed)."""

        async def work(session: AsyncSession, lang: str) -> Outcome:
            centre = await find_centre(session, centre_code)
            if not centre.open_surveys and not allow_closed:
                return Outcome("invitation_problem", lang, (say("citizen.not_open", lang),))
            service = await find_service(session, service_code) if service_code else None
            await self._drop_active(session, platform, chat_id)
            return await self._begin(session, platform, chat_id, centre, service, survey, None, language,
                                     now or utcnow(), sections)

        return await self._unit(platform, None, language, work)

    async def deliver_outbox(self, platform: str, send) -> int:
        """Send the due outbox messages of one platform with ``send(chat_id, text)``; returns how many went."""
        return await outbox.deliver_due(self.services.db, platform, send)

    async def remember(self, key: str, value: str) -> None:
        """Keep a small fact learned at run time (the bot's username) for other processes and commands."""
        async with self.services.db.transaction() as session:
            await session.merge(AppState(key=key, value=value))

    async def chat_language(self, platform: str, chat_id: str | int) -> str:
        """The language of the chat's survey in progress, Vietnamese when there is none."""
        async with self.services.db.reading() as session:
            row = await self._active(session, platform, chat_id)
        language = row.progress.get("language") if row is not None else None
        return language if language in ("vi", "en") else "vi"

    async def abandon(self, platform: str, chat_id: str | int) -> None:
        """Drop the chat's survey in progress, if any (its answers are not counted; its invitation is freed)."""

        async def work(session: AsyncSession, lang: str) -> Outcome:
            await self._drop_active(session, platform, chat_id)
            return Outcome("no_survey", lang)

        await self._unit(platform, None, None, work)

    async def expire_abandoned(self, now: dt.datetime | None = None) -> int:
        """Delete sessions idle for longer than the timeout (their answers are not counted), free their
        invitations, expire overdue invitations, forget event keys older than a day and (PostgreSQL) rewrite
        the last two days' completions in random order; returns the sessions removed."""
        now = now or utcnow()
        cutoff = now - dt.timedelta(hours=self.services.settings.session_timeout_hours)
        async with self.services.db.transaction() as session:
            stale = (await session.execute(select(SurveySession.id, SurveySession.invitation_id).where(
                SurveySession.status == "active", SurveySession.updated_at < cutoff))).all()
            for session_id, invitation_id in stale:
                await session.execute(delete(SurveySession).where(SurveySession.id == session_id))
                if invitation_id is not None:
                    await invitations.release(session, invitation_id)
            await invitations.expire_overdue(session, now)
            # A day: Telegram keeps an undelivered update no longer, so an older key can never be redelivered.
            await session.execute(delete(ProcessedEvent).where(
                ProcessedEvent.processed_at < now - dt.timedelta(days=1)))
            today = self.services.local_date(now)
            await invitations.settle(session, (today - dt.timedelta(days=1), today))
        return len(stale)

    # -- one unit of work, retried on contention ----------------------------------------------------------

    async def _unit(self, platform, event_key, language, work) -> Outcome:
        lang = language if language in ("vi", "en") else "vi"
        for _ in range(MAX_ATTEMPTS):
            try:
                async with self.services.db.transaction() as session:
                    if event_key is not None and not await _first_time(session, platform, event_key):
                        return Outcome("duplicate", lang)
                    return await work(session, lang)
            except (_Stale, IntegrityError):
                continue  # another worker got there first: start again on what it committed
        raise RuntimeError("the survey session kept changing under concurrent updates")

    async def _active(self, session: AsyncSession, platform: str, chat_id) -> Row | None:
        return (await session.execute(_ACTIVE, {"platform": platform,
                                                "chat_hash": self.chat_hash(platform, chat_id)})).first()

    async def _drop_active(self, session: AsyncSession, platform: str, chat_id) -> None:
        current = await self._active(session, platform, chat_id)
        if current is not None:
            await self._close(session, current, release=True)

    async def _close(self, session: AsyncSession, row: Row, *, release: bool) -> None:
        result = await session.execute(_DROP, {"session_id": row.id, "seen": row.version})
        if result.rowcount != 1:
            raise _Stale
        if release and row.invitation_id is not None:
            await invitations.release(session, row.invitation_id)

    def _timed_out(self, row: Row, now: dt.datetime) -> bool:
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=dt.UTC)
        return now - updated > dt.timedelta(hours=self.services.settings.session_timeout_hours)

    async def _redeem(self, session, platform, chat_id, credential, language, now) -> Outcome:
        lang = language or "vi"
        invitation = await invitations.find(session, self.services.secret_key, credential)
        current = await self._active(session, platform, chat_id)
        if current is not None and self._timed_out(current, now):
            await self._close(session, current, release=True)
            current = None
            if invitation is not None:
                await session.refresh(invitation)  # the release above may have changed its status
        if current is not None and invitation is not None and current.invitation_id == invitation.id:
            return await self._resume(session, current)
        problem = invitations.problem_with(invitation, now)
        if problem is None and invitation.status == "started":
            problem = "in_progress"
        if problem is not None:
            return Outcome("invitation_problem", lang, (say(f"citizen.{problem}", lang),), problem=problem)
        await invitations.mark_opened(session, invitation, now)
        if not await invitations.claim(session, invitation.id, now):
            return Outcome("invitation_problem", lang, (say("citizen.in_progress", lang),), problem="in_progress")
        if current is not None:
            await self._close(session, current, release=True)
        centre = await session.get(Centre, invitation.centre_id)
        service = await session.get(Service, invitation.service_id) if invitation.service_id else None
        return await self._begin(session, platform, chat_id, centre, service, invitation.instrument, invitation,
                                 language, now)

    async def _begin(self, session, platform, chat_id, centre, service, survey, invitation: Invitation | None,
                     language, now, sections: frozenset[str] = frozenset()) -> Outcome:
        instrument = self.services.instrument(survey)
        progress, reply = engine.start(instrument, language, sections)
        session.add(SurveySession(
            platform=platform, chat_hash=self.chat_hash(platform, chat_id),
            invitation_id=invitation.id if invitation else None, centre_id=centre.id,
            service_id=service.id if service else None, instrument=instrument.id,
            instrument_version=instrument.version, progress=progress.to_dict(), status="active", version=1,
            created_at=now, updated_at=now))
        await session.flush()
        lang = progress.language
        service_text = say("citizen.service", lang, name=service.name) if service else ""
        welcome = say("citizen.welcome", lang, centre=centre.name, service=service_text)
        return Outcome("survey", lang, (welcome,), reply, started=True)

    async def _resume(self, session, row: Row) -> Outcome:
        instrument = self.services.instrument(row.instrument)
        progress = Progress.from_dict(row.progress)
        _, reply = engine.step(instrument, progress, ev.Resume())
        return Outcome("survey", progress.language, (say("citizen.resumed", progress.language),), reply)

    async def _handle(self, session, platform, chat_id, event: ev.Event, now) -> Outcome:
        row = await self._active(session, platform, chat_id)
        if row is not None and self._timed_out(row, now):
            language = row.progress.get("language", "vi")
            await self._close(session, row, release=True)
            return Outcome("no_survey", language, (say("citizen.session_expired", language),))
        if row is None:
            if isinstance(event, ev.Text) and (invitations.looks_like_code(event.text)
                                               or invitations.looks_like_token(event.text)):
                return await self._redeem(session, platform, chat_id, event.text, None, now)
            return Outcome("no_survey", "vi", (say("citizen.ask_code", "vi"),))
        instrument = self.services.instrument(row.instrument)
        before = Progress.from_dict(row.progress)
        after, reply = engine.step(instrument, before, event)
        if after == before:
            return Outcome("survey", after.language, (), reply)
        if after.status == "completed":
            await self._complete(session, row, instrument, after, now)
        elif after.status == "cancelled":
            await self._close(session, row, release=True)
        else:
            result = await session.execute(_SAVE, {"session_id": row.id, "seen": row.version,
                                                   "progress": after.to_dict(), "now": now})
            if result.rowcount != 1:
                raise _Stale
        return Outcome("survey", after.language, (), reply)

    async def _complete(self, session, row: Row, instrument, progress: Progress, now) -> None:
        # Nothing written here carries a time or an order: the response and the invitation get the local day only.
        day = self.services.local_date(now)
        await self._close(session, row, release=False)
        session.add(build_response(instrument, progress.answers, centre_id=row.centre_id,
                                   service_id=row.service_id, channel=row.platform, submitted_on=day))
        if row.invitation_id is not None:
            await invitations.complete(session, row.invitation_id, day)
        centre = await session.get(Centre, row.centre_id)
        if centre.alert_chat:
            service = await session.get(Service, row.service_id) if row.service_id else None
            text = alert_text(instrument, progress.answers, centre.name, service.name if service else None)
            if text:  # in the same transaction as the response: never lost, never sent for a rollback
                outbox.enqueue(session, *alert_target(centre.alert_chat), text)
