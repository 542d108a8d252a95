"""Read-only questions to the conversation service, for channels that show a page before anything happens (the web):
where a chat's survey stands, and what an invitation or an open survey would start.

Nothing here writes: a link opened by a chat app's preview robot, or a page reloaded, changes no state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.survey import afterwards, invitations
from bot.survey.directory import find_centre
from bot.survey.step import Outcome
from bot.texts import language_of, say
from surveys import engine
from surveys.events import Reply
from surveys.instrument import Instrument
from surveys.progress import Progress
from surveys.replies import ask, confirm_reply


class SurveyService(Protocol):
    """What these questions need of the conversation service (which imports this module, so no import back)."""

    services: Any

    def chat_hash(self, platform: str, chat_id) -> str: ...
    async def active_row(self, session: AsyncSession, platform: str, chat_id): ...
    def timed_out(self, row, now: dt.datetime) -> bool: ...
    async def welcome(self, session: AsyncSession, centre_id: int, service_id: int | None, lang: str) -> str: ...
    async def open_limit_reached(self, session: AsyncSession, keys: str, centre_id: int, now) -> bool: ...


@dataclass(frozen=True)
class Preview:
    """What opening an invitation (or an open survey) would do, in ``language``.

    Attributes:
        problem: why it cannot start ("unknown", "expired", "used", "in_progress", "closed", "open_limit"), or None.
        resume: this chat already runs the survey it leads to: go on where it stands.
        welcome: the centre, the service and the anonymity sentence.
        introduction: how many questions and how long.
    """

    language: str
    problem: str | None = None
    resume: bool = False
    welcome: str = ""
    introduction: tuple[str, ...] = field(default_factory=tuple)


async def where(service: SurveyService, session: AsyncSession, platform: str, chat_id, now: dt.datetime) -> Outcome:
    """The chat's survey as it stands: its current question (or the confirmation to stop), the thanks of a survey
    ended lately, or nothing. The first question of a survey not yet answered comes with the welcome."""
    row = await service.active_row(session, platform, chat_id)
    if row is not None:
        progress = Progress.from_dict(row.progress)
        if service.timed_out(row, now):
            return Outcome("no_survey", progress.language, (say("citizen.session_expired", progress.language),))
        instrument = service.services.instrument(row.instrument)
        reply = confirm_reply(progress) if progress.status == "confirm_cancel" else ask(
            instrument, progress, accepted=False)
        texts: tuple[str, ...] = ()
        if len(progress.history) == 1 and not progress.answers:
            texts = (await service.welcome(session, row.centre_id, row.service_id, progress.language),)
        return Outcome("survey", progress.language, texts, reply, started=bool(texts))
    finished = await afterwards.find(session, platform, service.chat_hash(platform, chat_id), now)
    if finished is not None:
        return Outcome("finished", finished.language, (say("citizen.after_end", finished.language),))
    return Outcome("no_survey", "vi")


async def preview(service: SurveyService, session: AsyncSession, platform: str, chat_id, credential: str,
                  now: dt.datetime, language: str | None = None) -> Preview:
    """What redeeming ``credential`` from this chat would do."""
    lang = language_of(language)
    invitation = await invitations.find(session, service.services.secret_key, credential)
    problem = invitations.problem_with(invitation, now)
    if problem is not None:
        return Preview(lang, problem)
    row = await service.active_row(session, platform, chat_id)
    if row is not None and row.invitation_id == invitation.id and not service.timed_out(row, now):
        return Preview(language_of(row.progress.get("language")), resume=True)
    if invitation.status == "started":
        return Preview(lang, "in_progress")
    return await _describe(service, session, invitation.centre_id, invitation.service_id, invitation.instrument,
                           lang)


async def preview_open(service: SurveyService, session: AsyncSession, centre_code: str, *, keys: str | None,
                       now: dt.datetime, language: str | None = None) -> Preview:
    """What starting an open survey at the centre ``centre_code`` would do (NotFound when there is no such centre)."""
    lang = language_of(language)
    centre = await find_centre(session, centre_code)
    if not centre.open_surveys:
        return Preview(lang, "closed")
    if keys and await service.open_limit_reached(session, keys, centre.id, now):
        return Preview(lang, "open_limit")
    return await _describe(service, session, centre.id, None, None, lang)


async def _describe(service: SurveyService, session: AsyncSession, centre_id: int, service_id: int | None,
                    survey: str | None, lang: str) -> Preview:
    instrument = service.services.instrument(survey)
    _, first = engine.start(instrument, lang)
    return Preview(first.language, welcome=await service.welcome(session, centre_id, service_id, first.language),
                   introduction=first.notices)


def stale(instrument: Instrument, progress: Progress) -> Reply:
    """The reply to an event from an older page: the current question (or confirmation) again, nothing changed."""
    if progress.status == "confirm_cancel":
        return confirm_reply(progress)
    return ask(instrument, progress, ("stale",), accepted=False)
