"""A survey session waiting for its citizen: the platform refused to deliver to them (Zalo OA: the 7-day
interaction window is closed), so nothing more is sent until they write again, which clears the flag.

The flag lives on the session row (`survey_sessions.waiting`) and goes with it; it does not touch the session's
version, so it never makes a concurrent survey step retry.
"""

from __future__ import annotations

from sqlalchemy import update

from bot.storage.models import SurveySession
from bot.survey.sessions import SessionStore

SESSIONS = SurveySession.__table__


async def mark(store: SessionStore, platform: str, chat_id: str | int) -> bool:
    """Mark the chat's survey in progress as waiting for the citizen; False when there is none (or it already
    was)."""
    return await _set(store, platform, chat_id, True)


async def clear(store: SessionStore, platform: str, chat_id: str | int) -> bool:
    """The citizen wrote again: True when their survey in progress was waiting (it is not any more)."""
    # Called for every event: one UPDATE that matches nothing is cheaper on SQLite's inline writer than a read
    # through aiosqlite's thread (bench/zalo_inbox.py).
    return await _set(store, platform, chat_id, False)


async def _set(store: SessionStore, platform: str, chat_id: str | int, value: bool) -> bool:
    statement = (update(SESSIONS).where(SESSIONS.c.platform == platform,
                                        SESSIONS.c.chat_hash == store.chat_hash(platform, chat_id),
                                        SESSIONS.c.status == "active", SESSIONS.c.waiting.is_(not value))
                 .values(waiting=value))
    async with store.services.db.transaction() as session:
        result = await session.execute(statement)
    return result.rowcount == 1


async def is_waiting(store: SessionStore, platform: str, chat_id: str | int) -> bool:
    """Whether the chat's survey in progress waits for the citizen (tests, the admin)."""
    async with store.services.db.reading() as session:
        row = await store.active_row(session, platform, chat_id)
    return bool(row is not None and row.waiting)
