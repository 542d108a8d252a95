"""The follow-up cases' part of the periodic sweep: publish the cases whose comment is final, and escalate the
overdue ones through the outbox, each step once (``FollowUpCase.escalation``).

Escalation counts working days (`bot.survey.workdays`): on the first working day after the due date a reminder goes
to the handler (a staff member assigned, else the centre's alert chat; for a sensitive case, never counter staff's
chat but the centre's head); `SIPAS_CASE_HEAD_AFTER_DAYS` working days later to the centre's head (staff role
"head"); `SIPAS_CASE_ADMIN_AFTER_DAYS` working days after the first reminder to the province admin chat
(`SIPAS_ADMIN_ALERT_CHAT`). A sweep that finds a case several steps late sends only the latest step. A sensitive case
is announced to the head and the province admin when it is published.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.storage.models import Centre, FinishedChat, FollowUpCase, Staff
from bot.survey import outbox
from bot.survey.directory import alert_target
from bot.survey.workdays import working_days_between
from bot.texts import say

log = logging.getLogger(__name__)
HEAD_ROLE = "head"
LAST_LEVEL = 3


async def sweep_cases(session: AsyncSession, settings: Settings, today: dt.date) -> None:
    """One sweep over the cases (in the sweep's transaction)."""
    await publish(session, settings)
    await escalate(session, settings, today)


async def publish(session: AsyncSession, settings: Settings) -> int:
    """Forget the response of every case whose comment window closed (it becomes visible); returns how many."""
    still_open = select(FinishedChat.response_id).where(FinishedChat.response_id.is_not(None))
    cases = (await session.execute(select(FollowUpCase, Centre).join(Centre, FollowUpCase.centre_id == Centre.id)
                                   .where(FollowUpCase.response_id.is_not(None),
                                          FollowUpCase.response_id.not_in(still_open)))).all()
    for case, centre in cases:
        case.response_id = None
        if case.sensitive:
            what = "; ".join(item["text"][:1].lower() + item["text"][1:] for item in case.items
                             if item["kind"] == "report")
            text = say("staff.case_sensitive", id=case.id, centre=centre.name, what=what, due=_day(case.due_on))
            for platform, chat in _unique([*await _heads(session, centre.id), *_admin(settings)]):
                outbox.enqueue(session, platform, chat, text)
    return len(cases)


def due_level(case: FollowUpCase, today: dt.date, settings: Settings) -> int:
    """The escalation step an open case has reached today: 0 (not overdue yet) to 3 (the province admin)."""
    late = working_days_between(case.due_on, today, settings.case_holiday_days)
    if late < 1:
        return 0
    if late >= 1 + settings.case_admin_after_days:
        return 3
    return 2 if late >= 1 + settings.case_head_after_days else 1


async def escalate(session: AsyncSession, settings: Settings, today: dt.date) -> int:
    """Queue the reminder of every open case that reached a new step; returns the cases escalated."""
    overdue = (await session.execute(
        select(FollowUpCase, Centre).join(Centre, FollowUpCase.centre_id == Centre.id)
        .where(FollowUpCase.status != "resolved", FollowUpCase.response_id.is_(None),
               FollowUpCase.due_on < today, FollowUpCase.escalation < LAST_LEVEL))).all()
    escalated = 0
    for case, centre in overdue:
        level = due_level(case, today, settings)
        if level <= case.escalation:
            continue
        targets = await _targets(session, settings, case, centre, level)
        late = working_days_between(case.due_on, today, settings.case_holiday_days)
        text = say(f"staff.case_overdue_{level}", id=case.id, centre=centre.name, due=_day(case.due_on), days=late,
                   assignee=case.assignee or say("staff.case_unassigned"),
                   status=say(f"staff.case_status_{case.status}"))
        for platform, chat in targets:
            outbox.enqueue(session, platform, chat, text)
        if not targets:
            log.warning("case %s: overdue (step %d) and nobody to remind", case.id, level)
        case.escalation = level
        escalated += 1
    return escalated


async def _targets(session: AsyncSession, settings: Settings, case: FollowUpCase, centre: Centre,
                   level: int) -> list[tuple[str, str]]:
    """Who a step's reminder goes to; the next in line where a step has nobody."""
    if level == 1:
        if case.assignee_staff_id is not None:
            staff = await session.get(Staff, case.assignee_staff_id)
            if staff is not None:
                return [(staff.platform, staff.platform_user_id)]
        if centre.alert_chat and not case.sensitive:  # counter staff read the alert chat
            return [alert_target(centre.alert_chat)]
    if level <= 2:
        heads = await _heads(session, centre.id)
        if heads:
            return _unique(heads)
    return _admin(settings)


async def _heads(session: AsyncSession, centre_id: int) -> list[tuple[str, str]]:
    rows = await session.execute(select(Staff.platform, Staff.platform_user_id)
                                 .where(Staff.centre_id == centre_id, Staff.role == HEAD_ROLE).order_by(Staff.id))
    return [(platform, user) for platform, user in rows]


def _admin(settings: Settings) -> list[tuple[str, str]]:
    return [alert_target(settings.admin_alert_chat)] if settings.admin_alert_chat else []


def _unique(targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(targets))


def _day(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")
