"""The outcome of one citizen event, and the statements of a survey step, shared by the conversation service
(`bot/survey/conversation.py`) and the presenter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import ProcessedEvent, SurveySession, utcnow
from bot.survey import invitations
from surveys.events import Reply

Status = Literal["survey", "no_survey", "invitation_problem", "duplicate", "finished"]

# The statements of every survey step, built once with bound parameters: building and hashing a statement per
# call cost more than running it. Core on the tables, not the ORM: its object loading and bulk-DML machinery too.
SESSIONS = SurveySession.__table__
ACTIVE = select(SESSIONS).where(SESSIONS.c.platform == bindparam("platform"),
                                 SESSIONS.c.chat_hash == bindparam("chat_hash"), SESSIONS.c.status == "active")
SAVE = (update(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.version == bindparam("seen"))
         .values(progress=bindparam("progress"), version=bindparam("seen") + 1, updated_at=bindparam("now")))
DROP = delete(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.version == bindparam("seen"))
RECORD_EVENT = {name: insert(ProcessedEvent.__table__).values(
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
    introduced: bool = False  # the texts and notices are the introduction again (the language changed)


async def first_time(session: AsyncSession, platform: str, event_key: str) -> bool:
    """Record a platform event's key; False when it was recorded before. One statement: the key's row is the check,
    and under concurrency the second writer waits for the first and then finds it."""
    statement = RECORD_EVENT["postgresql" if session.bind.dialect.name == "postgresql" else "sqlite"]
    result = await session.execute(statement, {"platform": platform, "event_key": event_key,
                                               "processed_at": utcnow()})
    return result.rowcount == 1
