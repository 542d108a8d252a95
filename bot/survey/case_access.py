"""Who sees and moves which follow-up case: the service functions the CLI and a dashboard page call.

A caller's `CaseScope`: an admin (an admin API key, or the command line, which has the database anyway) sees every
case; a centre's head (API key role "head"; in chats, staff role "head") sees every case of the centre, sensitive
ones included; counter staff (role "staff") see the centre's cases that are not sensitive; a viewer key sees what
staff see and changes nothing. A case outside the scope is "unknown", so a staff key cannot even learn that a
sensitive case exists. Moves: assign (any open case), start (new → in_progress), resolve (in_progress → resolved,
with a note of what was done). Functions take a session and never commit.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, UserError
from bot.services import Services
from bot.storage.base import utcnow
from bot.storage.models import Centre, FollowUpCase, Service, Staff
from bot.survey.api_keys import Caller
from bot.survey.cases import STATUSES, find_case
from bot.survey.directory import find_centre, normalize_code, normalize_name
from bot.texts import say

ACTIONS = ("assign", "start", "resolve")
NOTE_LIMIT = 2000


class Forbidden(UserError):
    status = 403


@dataclass(frozen=True)
class CaseScope:
    """What a caller may see and do: ``centre`` None for every centre; ``sensitive``: sees harassment and payment
    reports; ``act``: may assign, start and resolve."""

    centre: str | None
    sensitive: bool
    act: bool


ADMIN = CaseScope(None, True, True)


def scope_of(caller: Caller) -> CaseScope:
    """The scope of an API key's caller (bot/survey/api_keys.py)."""
    if caller.role == "admin":
        return ADMIN
    return CaseScope(caller.centre, caller.role == "head", caller.role in ("head", "staff"))


@dataclass(frozen=True)
class CaseView:
    """A case as a page or the command line shows it (no response id, ever)."""

    id: str
    centre: str
    centre_name: str
    service: str | None
    status: str  # new, in_progress, resolved
    sensitive: bool
    items: list[dict]
    comment: str | None
    assignee: str | None
    note: str | None
    opened_on: dt.date
    due_on: dt.date
    closed_on: dt.date | None
    overdue: bool
    escalation: int

    def status_label(self, language: str = "vi") -> str:
        return say(f"staff.case_status_{self.status}", language)


def parse_status(raw: str) -> str:
    status = raw.strip().lower().replace("-", "_").replace(" ", "_")
    if status not in STATUSES:
        raise UserError.say("admin.case_bad_status", given=raw, allowed=", ".join(STATUSES))
    return status


async def list_cases(session: AsyncSession, scope: CaseScope, *, today: dt.date, centre: str | None = None,
                     status: str | None = None, overdue: bool = False) -> list[CaseView]:
    """The published cases the scope sees, overdue first, then by due date; filtered by centre code, status
    (`parse_status`) and overdue (open and past the due date)."""
    query = _visible(scope)
    if centre is not None:
        code = normalize_code(centre, "centre code")
        if scope.centre is not None and code != scope.centre:
            raise Forbidden.say("admin.case_other_centre", centre=scope.centre)
        query = query.where(Centre.id == (await find_centre(session, code)).id)
    if status is not None:
        query = query.where(FollowUpCase.status == parse_status(status))
    if overdue:
        query = query.where(FollowUpCase.status != "resolved", FollowUpCase.due_on < today)
    views = [_view(row, today) for row in (await session.execute(query)).all()]
    return sorted(views, key=lambda v: (not v.overdue, v.status == "resolved", v.due_on, v.id))


async def open_counts(session: AsyncSession, scope: CaseScope, *, today: dt.date) -> dict[str, dict[str, int]]:
    """{centre code: {"open": cases not resolved, "overdue": of those past their due date}} of what the scope
    sees (a dashboard's list of centres); centres without an open case are left out."""
    counts: dict[str, dict[str, int]] = {}
    for row in (await session.execute(_visible(scope).where(FollowUpCase.status != "resolved"))).all():
        centre = counts.setdefault(row[1], {"open": 0, "overdue": 0})
        centre["open"] += 1
        centre["overdue"] += row[0].due_on < today
    return dict(sorted(counts.items()))


async def case_detail(session: AsyncSession, scope: CaseScope, case_id: str, *, today: dt.date) -> CaseView:
    """One case the scope sees; NotFound for an unknown one and for one outside the scope alike."""
    case = await find_case(session, case_id)
    row = (await session.execute(_visible(scope).where(FollowUpCase.id == case.id))).first() if case else None
    if row is None:
        raise NotFound.say("admin.case_unknown", id=case_id.strip().upper())
    return _view(row, today)


async def move_case(session: AsyncSession, scope: CaseScope, case_id: str, action: str, *, now: dt.datetime,
                    today: dt.date, assignee: str | None = None, note: str | None = None) -> CaseView:
    """Assign, start or resolve a case (``action`` of ACTIONS); a UserError for a move its status does not allow,
    an empty note or name, or a scope that may only look."""
    current = await case_detail(session, scope, case_id, today=today)  # NotFound outside the scope
    if not scope.act:
        raise Forbidden.say("admin.case_read_only")
    case = await session.get(FollowUpCase, current.id)
    if case.status == "resolved":
        raise UserError.say("admin.case_already_resolved", id=case.id)
    if action == "assign":
        case.assignee, case.assignee_staff_id = await _assignee(session, case.centre_id, assignee or "")
    elif action == "start":
        if case.status != "new":
            raise UserError.say("admin.case_already_started", id=case.id)
        case.status = "in_progress"
    elif action == "resolve":
        if case.status != "in_progress":
            raise UserError.say("admin.case_not_started", id=case.id)
        text = unicodedata.normalize("NFC", note or "").strip()
        if not text:
            raise UserError.say("admin.case_note_required")
        if len(text) > NOTE_LIMIT:
            raise UserError.say("admin.case_note_too_long", limit=UserError.count(NOTE_LIMIT))
        case.status, case.note, case.closed_at, case.closed_on = "resolved", text, now, today
    else:
        raise UserError.say("admin.case_bad_action", given=action, allowed=", ".join(ACTIONS))
    await session.flush()
    return await case_detail(session, scope, case.id, today=today)


async def _assignee(session: AsyncSession, centre_id: int, raw: str) -> tuple[str, int | None]:
    """The name as stored, and the staff member of the centre it names (reminders then go to their chat): one
    whose registered name it is (any case), else None (a free-text name)."""
    if not raw.strip():
        raise UserError.say("admin.case_empty_assignee")
    name = normalize_name(raw)
    staff = (await session.scalars(select(Staff).where(Staff.centre_id == centre_id))).all()
    matched = [s for s in staff if (s.name or "").casefold() == name.casefold()]
    return (matched[0].name, matched[0].id) if len(matched) == 1 else (name, None)


def _visible(scope: CaseScope):
    query = (select(FollowUpCase, Centre.code, Centre.name, Service.name)
             .join(Centre, FollowUpCase.centre_id == Centre.id)
             .outerjoin(Service, FollowUpCase.service_id == Service.id)
             .where(FollowUpCase.response_id.is_(None)))  # unpublished: the comment may still grow
    if scope.centre is not None:
        query = query.where(Centre.code == scope.centre)
    if not scope.sensitive:
        query = query.where(FollowUpCase.sensitive.is_(False))
    return query


def _view(row, today: dt.date) -> CaseView:
    case, code, centre_name, service = row
    return CaseView(case.id, code, centre_name, service, case.status, case.sensitive, list(case.items), case.comment,
                    case.assignee, case.note, case.opened_on, case.due_on, case.closed_on,
                    case.status != "resolved" and case.due_on < today, case.escalation)


async def list_cases_in(services: Services, scope: CaseScope, today: dt.date | None = None,
                        **filters: object) -> list[CaseView]:
    """`list_cases` in a reading snapshot of its own (a page's one call); ``today`` defaults to the local day."""
    async with services.db.reading() as session:
        return await list_cases(session, scope, today=today or services.local_date(utcnow()), **filters)
