"""The periodic sweep of the service: abandoned surveys, overdue invitations, old event keys and daily limits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from bot.services import Services
from bot.storage.models import ProcessedEvent, SurveySession
from bot.survey import afterwards, case_sweep, invitations, open_limits


async def sweep(services: Services, now: dt.datetime) -> int:
    """Delete sessions idle for longer than the timeout (their answers are not counted), free their invitations,
    expire overdue invitations, publish and escalate follow-up cases, forget event keys older than a day and
    open-survey counts older than yesterday, and (PostgreSQL) rewrite the last two days' completions in random
    order; returns the sessions removed."""
    cutoff = now - dt.timedelta(hours=services.settings.session_timeout_hours)
    async with services.db.transaction() as session:
        stale = (await session.execute(select(SurveySession.id, SurveySession.invitation_id).where(
            SurveySession.status == "active", SurveySession.updated_at < cutoff))).all()
        for session_id, invitation_id in stale:
            await session.execute(delete(SurveySession).where(SurveySession.id == session_id))
            if invitation_id is not None:
                await invitations.release(session, invitation_id)
        await invitations.expire_overdue(session, now)
        await afterwards.expire(session, now)
        # After expire, which ends the comment windows: a case is published once its comment is final.
        await case_sweep.sweep_cases(session, services.settings, services.local_date(now))
        # A day: Telegram keeps an undelivered update no longer, so an older key can never be redelivered.
        await session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < now - dt.timedelta(days=1)))
        today = services.local_date(now)
        await open_limits.forget_before(session, today - dt.timedelta(days=1))
        await invitations.settle(session, (today - dt.timedelta(days=1), today))
    return len(stale)
