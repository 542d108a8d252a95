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

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Centre, Invitation, Service, SurveySession, utcnow
from bot.storage.responses import build_response
from bot.survey import afterwards, cases, invitations, lookup, open_limits, outbox
from bot.survey.alerts import alert_text
from bot.survey.directory import alert_target, find_centre, find_service
from bot.survey.sessions import SessionStore, Stale
from bot.survey.step import SAVE, Outcome
from bot.texts import say
from surveys import engine
from surveys import events as ev
from surveys.cleaning import clean_text
from surveys.progress import Progress
from surveys.textmatch import is_courtesy


class SurveyService(SessionStore):
    async def redeem(self, platform: str, chat_id: str | int, credential: str, *, language: str | None = None,
                     event_key: str | None = None, guard_id: str | None = None,
                     now: dt.datetime | None = None) -> Outcome:
        """Start (or resume) the survey of the invitation behind a token or a typed short code.

        ``guard_id`` is who the limits on guessing codes count against when it is not the chat (the web: the
        client address, since a browser can drop its cookie)."""
        credential = clean_text(credential)
        guard_key = self.chat_hash(platform, guard_id if guard_id is not None else chat_id)
        return await self._guarded(guard_key, await self._unit(platform, chat_id, event_key, language,
            lambda s, lang: self._redeem(s, platform, chat_id, credential, lang, now or utcnow(), guard_key)))

    async def handle(self, platform: str, chat_id: str | int, event: ev.Event, *, event_key: str | None = None,
                     question: str | None = None, now: dt.datetime | None = None) -> Outcome:
        """Apply one citizen event; with no survey running, a typed code starts one, anything else is greeted.

        ``question``: the code of the question the event answers, where the channel knows it (a web form), so an
        event from an older page is refused rather than applied to the current question."""
        if isinstance(event, ev.Text):
            event = ev.Text(clean_text(event.text))  # the one place citizen text is cleaned, for every channel
        return await self._guarded(self.chat_hash(platform, chat_id), await self._unit(
            platform, chat_id, event_key, None, lambda s, lang: self._handle(
                s, platform, chat_id, event, now or utcnow(), question)))

    async def current(self, platform: str, chat_id: str | int, now: dt.datetime | None = None) -> Outcome:
        """Where the chat stands, changing nothing (a web page's GET): its survey's current question
        (status "survey"), "finished" for a survey ended lately, else "no_survey"."""
        async with self.services.db.reading() as session:
            return await lookup.where(self, session, platform, chat_id, now or utcnow())

    async def preview(self, platform: str, chat_id: str | int, credential: str, *, language: str | None = None,
                      now: dt.datetime | None = None) -> lookup.Preview:
        """What an invitation would start, changing nothing (a link opened, or fetched by a link preview)."""
        async with self.services.db.reading() as session:
            return await lookup.preview(self, session, platform, chat_id, clean_text(credential), now or utcnow(),
                                        language)

    async def preview_open(self, centre_code: str, *, visitor: open_limits.Visitor | None = None,
                           language: str | None = None, now: dt.datetime | None = None) -> lookup.Preview:
        """What an open survey at ``centre_code`` would start, changing nothing."""
        keys = visitor.keys(self.services.secret_key) if visitor else None
        async with self.services.db.reading() as session:
            return await lookup.preview_open(self, session, centre_code, keys=keys, now=now or utcnow(),
                                             language=language)

    async def start_open(self, platform: str, chat_id: str | int, centre_code: str, *,
                         service_code: str | None = None, survey: str | None = None, language: str | None = None,
                         allow_closed: bool = False, sections: frozenset[str] = frozenset(),
                         visitor: open_limits.Visitor | None = None, event_key: str | None = None,
                         now: dt.datetime | None = None) -> Outcome:
        """Start a survey without an invitation, where the centre accepts open surveys (or when allowed).

        With a ``visitor`` (the web), the daily limits of `bot/survey/open_limits.py` apply: a browser or an
        address that already completed its open survey here today is told so and nothing starts."""
        now = now or utcnow()

        async def work(session: AsyncSession, lang: str) -> Outcome:
            centre = await find_centre(session, centre_code)
            if not centre.open_surveys and not allow_closed:
                return Outcome("invitation_problem", lang, (say("citizen.not_open", lang),), problem="closed")
            keys = visitor.keys(self.services.secret_key) if visitor else None
            if keys and await self.open_limit_reached(session, keys, centre.id, now):
                return Outcome("invitation_problem", lang, (say("web.open_done_today", lang),),
                               problem="open_limit")
            current = await self.active_row(session, platform, chat_id)
            if current is not None and current.invitation_id is None and current.centre_id == centre.id \
                    and keys and not self.timed_out(current, now):
                return await self._resume(session, current)  # the same poster scanned again: go on
            service = await find_service(session, service_code) if service_code else None
            await self._drop_active(session, platform, chat_id)
            return await self._begin(session, platform, chat_id, centre, service, survey, None, language,
                                     now, sections, visitor=keys)

        return await self._unit(platform, chat_id, event_key, language, work)

    async def _redeem(self, session, platform, chat_id, credential, language, now, guard_key=None) -> Outcome:
        lang = language or "vi"
        if refusal := self.guard.refusal(guard_key or self.chat_hash(platform, chat_id), lang):
            return Outcome("invitation_problem", lang, (refusal,), problem="locked")
        invitation = await invitations.find(session, self.services.secret_key, credential)
        current = await self.active_row(session, platform, chat_id)
        if current is not None and self.timed_out(current, now):
            await self._close(session, current, release=True)
            current = None
            if invitation is not None:
                await session.refresh(invitation)  # the release above may have changed its status
        if current is not None and invitation is not None and current.invitation_id == invitation.id:
            return await self._resume(session, current)
        problem = invitations.problem_with(invitation, now)
        if problem is None and invitation.status == "started":
            problem = "in_progress"
        if problem is not None:  # one reply for every kind, so a guess learns nothing about the code
            return Outcome("invitation_problem", lang, (say("citizen.invalid_code", lang),), problem=problem)
        await invitations.mark_opened(session, invitation, now)
        if not await invitations.claim(session, invitation.id, now):
            return Outcome("invitation_problem", lang, (say("citizen.invalid_code", lang),), problem="in_progress")
        if current is not None:
            await self._close(session, current, release=True)
        centre = await session.get(Centre, invitation.centre_id)
        service = await session.get(Service, invitation.service_id) if invitation.service_id else None
        return await self._begin(session, platform, chat_id, centre, service, invitation.instrument, invitation,
                                 language, now)

    async def _begin(self, session, platform, chat_id, centre, service, survey, invitation: Invitation | None,
                     language, now, sections: frozenset[str] = frozenset(), visitor: str | None = None) -> Outcome:
        instrument = self.services.instrument(survey)
        progress, reply = engine.start(instrument, language, sections)
        session.add(SurveySession(
            platform=platform, chat_hash=self.chat_hash(platform, chat_id),
            invitation_id=invitation.id if invitation else None, centre_id=centre.id,
            service_id=service.id if service else None, instrument=instrument.id,
            instrument_version=instrument.version, progress=progress.to_dict(), status="active", version=1,
            visitor=visitor, created_at=now, updated_at=now))
        await afterwards.forget(session, platform, self.chat_hash(platform, chat_id))
        await session.flush()
        welcome = await self.welcome(session, centre.id, service.id if service else None, progress.language)
        return Outcome("survey", progress.language, (welcome,), reply, started=True)

    async def _resume(self, session, row: Row) -> Outcome:
        instrument = self.services.instrument(row.instrument)
        progress = Progress.from_dict(row.progress)
        _, reply = engine.step(instrument, progress, ev.Resume())
        return Outcome("survey", progress.language, (say("citizen.resumed", progress.language),), reply)

    async def _handle(self, session, platform, chat_id, event: ev.Event, now, question=None) -> Outcome:
        row = await self.active_row(session, platform, chat_id)
        if row is not None and self.timed_out(row, now):
            language = row.progress.get("language", "vi")
            await self._close(session, row, release=True)
            return Outcome("no_survey", language, (say("citizen.session_expired", language),))
        if row is None and question is not None:  # a page of a survey that has ended since: nothing to apply
            return await lookup.where(self, session, platform, chat_id, now)
        if row is None:
            if isinstance(event, ev.Text) and (invitations.looks_like_code(event.text)
                                               or invitations.looks_like_token(event.text)):
                return await self._redeem(session, platform, chat_id, event.text, None, now)
            finished = await afterwards.find(session, platform, self.chat_hash(platform, chat_id), now)
            if finished is not None:
                return await self._after_end(session, finished, event, now)
            return Outcome("no_survey", "vi", (say("citizen.ask_code", "vi"),))
        instrument = self.services.instrument(row.instrument)
        before = Progress.from_dict(row.progress)
        if question is not None and (before.status != "active" or before.history[-1] != question):
            return Outcome("survey", before.language, (), lookup.stale(instrument, before))
        after, reply = engine.step(instrument, before, event)
        if after == before:
            return Outcome("survey", after.language, (), reply)
        if after.status == "completed":
            if row.visitor and await self.open_limit_reached(session, row.visitor, row.centre_id, now):
                # Another tab of this browser, or another browser at this address, completed first today.
                await self._close(session, row, release=False)
                return Outcome("invitation_problem", after.language,
                               (say("web.open_done_today", after.language),), problem="open_limit")
            response_id = await self._complete(session, row, instrument, after, now)
            comment_last = (reply.answered is not None and reply.answered.code == afterwards.COMMENT_CODE
                            and reply.answered.kind == "text")
            await afterwards.remember(session, platform, row.chat_hash, after.language, response_id, comment_last,
                                      now)
        elif after.status == "cancelled":
            await self._close(session, row, release=True)
        else:
            result = await session.execute(SAVE, {"session_id": row.id, "seen": row.version,
                                                   "progress": after.to_dict(), "now": now})
            if result.rowcount != 1:
                raise Stale
        if after.language != before.language:
            welcome = await self.welcome(session, row.centre_id, row.service_id, after.language)
            return Outcome("survey", after.language, (welcome,), reply, introduced=True)
        return Outcome("survey", after.language, (), reply)

    async def _after_end(self, session, finished, event: ev.Event, now) -> Outcome:
        language = finished.language
        response_id = afterwards.comment_open(finished)
        # A "cảm ơn" after the last answer is a thank-you, not more of the comment.
        if isinstance(event, ev.Text) and response_id is not None and not is_courtesy(event.text):
            said = await afterwards.add_to_comment(session, self.services.instrument, response_id, event.text,
                                                   language)
            return Outcome("finished", language, (said,))
        return Outcome("finished", language, (say("citizen.after_end", language),))

    async def _complete(self, session, row: Row, instrument, progress: Progress, now) -> str:
        """Store the response (and its alert) and end the session; returns the response's id."""
        # Nothing written here carries a time or an order: the response and the invitation get the local day only.
        day = self.services.local_date(now)
        await self._close(session, row, release=False)
        flagged = False
        if row.visitor:
            await open_limits.count(session, self.services.secret_key, row.visitor, row.centre_id, day)
            flagged = self.bursts.completed(row.visitor)
        response = build_response(instrument, progress.answers, centre_id=row.centre_id,
                                  service_id=row.service_id, channel=row.platform, submitted_on=day,
                                  open_survey=row.invitation_id is None, flagged=flagged)
        session.add(response)
        # The follow-up case of a low rating or a report, in this transaction too (bot/survey/cases.py).
        await cases.open_case(session, self.services.settings, instrument, progress.answers, centre_id=row.centre_id,
                              service_id=row.service_id, day=day, response_id=response.id)
        if row.invitation_id is not None:
            await invitations.complete(session, row.invitation_id, day)
        centre = await session.get(Centre, row.centre_id)
        if centre.alert_chat:
            service = await session.get(Service, row.service_id) if row.service_id else None
            text = alert_text(instrument, progress.answers, centre.name, service.name if service else None)
            if text:  # in the same transaction as the response: never lost, never sent for a rollback
                outbox.enqueue(session, *alert_target(centre.alert_chat), text)
        return response.id
