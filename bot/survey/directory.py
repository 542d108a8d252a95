"""Centres, services and staff: the reference data every other part looks up by code.

Codes are case-insensitive on input and stored upper-case; names keep their Vietnamese diacritics (NFC).
Functions take a session and never commit: the caller's transaction is the unit of work.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, NotFound, UserError
from bot.storage.models import Centre, Invitation, Response, Service, Staff, SurveySession

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")
PLATFORMS = ("telegram", "zalo")
ROLES = ("staff", "admin", "head")  # head: the head of the centre (follow-up cases, bot/survey/case_access.py)
NAME_LIMITS = {"centre name": 300, "service name": 500, "field": 300, "name": 200}  # the columns' lengths


def normalize_code(raw: str, what: str = "code") -> str:
    code = unicodedata.normalize("NFC", raw).strip().upper()
    if not CODE.match(code):
        raise UserError.say("admin.bad_code", what=UserError.term(f"admin.what_{what.replace(' ', '_')}"), raw=raw)
    return code


def normalize_name(raw: str, what: str = "name") -> str:
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise UserError.say("admin.empty_name", what=UserError.term(f"admin.what_{what.replace(' ', '_')}"))
    limit = NAME_LIMITS.get(what, 200)
    if len(name) > limit:
        raise UserError.say("admin.name_too_long", what=UserError.term(f"admin.what_{what.replace(' ', '_')}"),
                            length=UserError.count(len(name)), limit=UserError.count(limit))
    return name


def parse_alert_chat(raw: str) -> str | None:
    """A centre's alert target as stored: "PLATFORM:CHAT" ("zalo:abc", "telegram:-100123"), or a bare Telegram
    chat id ("-100123"); '' clears it (None)."""
    value = raw.strip()
    if not value:
        return None
    platform, _, chat = value.rpartition(":") if ":" in value else ("telegram", "", value)
    platform = platform.strip().lower()
    chat = chat.strip()
    if platform not in PLATFORMS:
        raise UserError.say("admin.bad_alert_platform", raw=raw, platforms=", ".join(PLATFORMS))
    if not re.fullmatch(r"-?\d{1,20}" if platform == "telegram" else r"[A-Za-z0-9_-]{1,64}", chat):
        raise UserError.say("admin.bad_alert_chat", raw=raw, chat=chat, platform=platform)
    return chat if ":" not in value else f"{platform}:{chat}"


def alert_target(stored: str) -> tuple[str, str]:
    """(platform, chat id) of a stored alert chat; a bare id is a Telegram chat (as before platforms were named)."""
    platform, _, chat = stored.rpartition(":")
    return (platform, chat) if platform else ("telegram", chat)


async def find_centre(session: AsyncSession, code: str) -> Centre:
    centre = await session.scalar(select(Centre).where(Centre.code == normalize_code(code, "centre code")))
    if centre is None:
        raise NotFound.say("admin.no_centre", code=code.strip().upper())
    return centre


async def find_service(session: AsyncSession, code: str) -> Service:
    service = await session.scalar(select(Service).where(Service.code == normalize_code(code, "service code")))
    if service is None:
        raise NotFound.say("admin.no_service", code=code.strip().upper())
    return service


async def add_centre(session: AsyncSession, code: str, name: str, parent: str | None = None,
                     open_surveys: bool = False) -> Centre:
    code = normalize_code(code, "centre code")
    if await session.scalar(select(Centre.id).where(Centre.code == code)) is not None:
        raise Conflict.say("admin.centre_exists", code=code)
    parent_id = (await find_centre(session, parent)).id if parent else None
    centre = Centre(code=code, name=normalize_name(name, "centre name"), parent_id=parent_id,
                    open_surveys=open_surveys)
    session.add(centre)
    await session.flush()
    return centre


async def add_service(session: AsyncSession, code: str, name: str, field: str | None = None) -> Service:
    code = normalize_code(code, "service code")
    if await session.scalar(select(Service.id).where(Service.code == code)) is not None:
        raise Conflict.say("admin.service_exists", code=code)
    service = Service(code=code, name=normalize_name(name, "service name"),
                      field=normalize_name(field, "field") if field and field.strip() else None)
    session.add(service)
    await session.flush()
    return service


@dataclass
class ServiceImport:
    added: int
    updated: int


async def import_services(session: AsyncSession, rows: list[tuple[str, str, str | None]]) -> ServiceImport:
    existing = {s.code: s for s in (await session.scalars(select(Service))).all()}
    added = updated = 0
    for code, name, field in rows:
        if code in existing:
            existing[code].name, existing[code].field = name, field
            updated += 1
        else:
            session.add(Service(code=code, name=name, field=field))
            added += 1
    await session.flush()
    return ServiceImport(added, updated)


async def add_staff(session: AsyncSession, centre_code: str, platform: str, user_id: str, role: str,
                    name: str | None) -> Staff:
    if platform not in PLATFORMS or role not in ROLES:
        raise UserError.say("admin.bad_platform", platforms=PLATFORMS, roles=ROLES)
    user_id = user_id.strip()
    if not re.fullmatch(r"-?\d{1,20}" if platform == "telegram" else r"[A-Za-z0-9_-]{1,64}", user_id):
        raise UserError.say("admin.bad_user_id", user=user_id, platform=platform)
    centre = await find_centre(session, centre_code)
    existing = await session.scalar(
        select(Staff).where(Staff.platform == platform, Staff.platform_user_id == user_id))
    if existing is not None:
        raise Conflict.say("admin.staff_exists", platform=platform, user=user_id)
    staff = Staff(centre_id=centre.id, platform=platform, platform_user_id=user_id, role=role,
                  name=normalize_name(name) if name else None)
    session.add(staff)
    await session.flush()
    return staff


async def remove_staff(session: AsyncSession, platform: str, user_id: str) -> None:
    staff = await session.scalar(
        select(Staff).where(Staff.platform == platform, Staff.platform_user_id == user_id.strip()))
    if staff is None:
        raise NotFound.say("admin.no_staff", platform=platform, user=user_id)
    await session.delete(staff)


async def find_staff(session: AsyncSession, platform: str, user_id: str) -> Staff | None:
    """The registered staff member behind a chat account, if any (for staff-only bot commands)."""
    return await session.scalar(
        select(Staff).where(Staff.platform == platform, Staff.platform_user_id == str(user_id)))


async def remove_centre(session: AsyncSession, code: str) -> Centre:
    """Delete a centre that nothing uses; one with responses, invitations, staff or child centres is kept."""
    return await _remove_unused(session, await find_centre(session, code), "admin.centre_in_use", {
        "responses": Response.centre_id, "invitations": Invitation.centre_id, "sessions": SurveySession.centre_id,
        "staff": Staff.centre_id, "children": Centre.parent_id})


async def remove_service(session: AsyncSession, code: str) -> Service:
    """Delete a service that nothing uses; one with responses or invitations is kept."""
    return await _remove_unused(session, await find_service(session, code), "admin.service_in_use", {
        "responses": Response.service_id, "invitations": Invitation.service_id,
        "sessions": SurveySession.service_id})


async def _remove_unused(session: AsyncSession, entry, in_use: str, users: dict):
    """Delete ``entry`` unless a row of ``users`` (what: its column pointing to the entry) points to it; the
    refusal counts each kind."""
    uses = {what: await session.scalar(select(func.count()).select_from(column.table).where(column == entry.id))
            for what, column in users.items()}
    if any(uses.values()):
        raise Conflict.say(in_use, code=entry.code, **uses)
    await session.delete(entry)
    return entry


async def change_centre(session: AsyncSession, code: str, *, name: str | None = None, parent: str | None = None,
                        open_surveys: bool | None = None, alert_chat: str | None = None) -> Centre:
    """Change what is given of a centre (None: unchanged; '' clears ``parent`` and ``alert_chat``): `sipas-bot
    centre set` and `PATCH /api/v1/centres/{code}`. A parent that would make a loop is refused."""
    from bot.reports.centre_tree import set_parent  # the roll-up tree's own loop check

    centre = await find_centre(session, code)
    if name is not None:
        centre.name = normalize_name(name, "centre name")
    if parent is not None:
        await set_parent(session, centre, await find_centre(session, parent) if parent.strip() else None)
    if open_surveys is not None:
        centre.open_surveys = open_surveys
    if alert_chat is not None:
        centre.alert_chat = parse_alert_chat(alert_chat)
    await session.flush()
    return centre


async def change_service(session: AsyncSession, code: str, *, name: str | None = None,
                         field: str | None = None) -> Service:
    """Change a service's name or field (None: unchanged; '' clears the field)."""
    service = await find_service(session, code)
    if name is not None:
        service.name = normalize_name(name, "service name")
    if field is not None:
        service.field = normalize_name(field, "field") if field.strip() else None
    await session.flush()
    return service


async def change_staff(session: AsyncSession, staff_id: int, *, centre: str | None = None, role: str | None = None,
                       name: str | None = None) -> Staff:
    """Move a staff member to another centre, change their role or name (None: unchanged; '' clears the name)."""
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise NotFound.say("admin.api_no_staff", id=staff_id)
    if role is not None:
        if role not in ROLES:
            raise UserError.say("admin.bad_platform", platforms=PLATFORMS, roles=ROLES)
        staff.role = role
    if centre is not None:
        staff.centre_id = (await find_centre(session, centre)).id
    if name is not None:
        staff.name = normalize_name(name) if name.strip() else None
    await session.flush()
    return staff


async def centre_codes(session: AsyncSession) -> dict[int, str]:
    """Every centre's code by id (to name parents and staff centres in listings)."""
    return dict((await session.execute(select(Centre.id, Centre.code))).all())
