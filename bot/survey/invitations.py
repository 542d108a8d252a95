"""Invitations: one token (for links and QR codes) and one short code (to type from a receipt) per transaction.

Only keyed hashes of both are stored, so a database copy cannot be used to answer surveys. Status runs
issued → opened → started → completed, or expired; a response can be recorded once per invitation. An invitation
records which stages it reached and the day it was completed, never a time: see `settle` for why and how.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, UserError
from bot.storage.models import Centre, Invitation, Response, Service, utcnow
from bot.storage.secret import keyed_hash

# No look-alikes: no O/0, I/1/L; 31 symbols, so 8 of them carry about 40 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters: fits Telegram's 64-character start parameter
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SEPARATORS = re.compile(r"[\s.\-_/]+")
LIVE = ("issued", "opened", "started")

Problem = Literal["unknown", "expired", "used", "in_progress"]


@dataclass(frozen=True)
class IssuedInvitation:
    """What is handed to the citizen; the token and code exist only here, never in the database."""

    id: int
    token: str
    code: str
    centre: str
    service: str | None
    survey: str
    expires_at: dt.datetime

    @property
    def display_code(self) -> str:
        """The short code as printed: two groups of four ("ABCD-EFGH")."""
        return f"{self.code[:4]}-{self.code[4:]}"


def normalize_code(text: str) -> str:
    """A typed code without spaces, dots or dashes, upper case ("abcd efgh" → "ABCDEFGH")."""
    return _SEPARATORS.sub("", text).upper()


def looks_like_code(text: str) -> bool:
    code = normalize_code(text)
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def looks_like_token(text: str) -> bool:
    return bool(_TOKEN.match(text.strip()))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def dossier_hash(key: bytes, ref: str) -> str:
    """The keyed hash kept of a case system's dossier number: written the same however it is typed (case, spaces,
    Unicode form), so "H56.24-0001 " and "h56.24-0001" are one dossier; the number itself is never stored."""
    normal = "".join(unicodedata.normalize("NFC", ref).split()).upper()
    if not normal:
        raise UserError.say("admin.api_dossier_empty")
    return keyed_hash(key, "dossier", normal)


async def issue(session: AsyncSession, key: bytes, *, centre: Centre, service: Service | None, survey: str,
                count: int = 1, expires_days: int = 30, channel_hint: str | None = None,
                now: dt.datetime | None = None, timezone: str | None = None,
                dossier: str | None = None) -> list[IssuedInvitation]:
    """Create ``count`` invitations for one centre (and service), valid for ``expires_days``.

    With ``timezone``, validity runs to the end of that local day, so the date printed on a receipt is
    valid all day long. With ``dossier`` (a `dossier_hash`) the one invitation is that dossier's: a `Conflict` when
    the dossier has one already, and nothing is written.
    """
    if not 1 <= count <= 10_000:
        raise UserError.say("admin.issue_count_range")
    if not 1 <= expires_days <= 366:
        raise UserError.say("admin.issue_days_range")
    if dossier is not None:
        if count != 1:
            raise UserError.say("admin.api_dossier_one", count=count)
        if await session.scalar(select(Invitation.id).where(Invitation.dossier_hash == dossier)) is not None:
            raise Conflict.say("admin.api_dossier_taken")
    now = now or utcnow()
    expires_at = now + dt.timedelta(days=expires_days)
    if timezone is not None:
        zone = ZoneInfo(timezone)
        last_day = now.astimezone(zone).date() + dt.timedelta(days=expires_days)
        expires_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    issued: list[IssuedInvitation] = []
    pending: list[tuple[Invitation, str, str]] = []
    codes: set[str] = set()
    while len(pending) < count:
        code = new_code()
        if code in codes:
            continue
        codes.add(code)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row = Invitation(token_hash=keyed_hash(key, "token", token), code_hash=keyed_hash(key, "code", code),
                         centre_id=centre.id, service_id=service.id if service else None, instrument=survey,
                         channel_hint=channel_hint, status="issued", created_at=now, expires_at=expires_at,
                         dossier_hash=dossier)
        pending.append((row, token, code))
    # A clash with an existing code is astronomically rare; check anyway so the unique index never fires.
    hashes = [row.code_hash for row, _, _ in pending]
    taken = set((await session.scalars(select(Invitation.code_hash).where(Invitation.code_hash.in_(hashes)))).all())
    if taken:
        raise UserError.say("admin.code_clash")
    session.add_all([row for row, _, _ in pending])
    try:
        await session.flush()
    except IntegrityError:
        if dossier is None:
            raise
        # Two calls for one dossier at once: the unique index lets one through; the other is told as above.
        raise Conflict.say("admin.api_dossier_taken") from None
    for row, token, code in pending:
        issued.append(IssuedInvitation(row.id, token, code, centre.code, service.code if service else None, survey,
                                       expires_at))
    return issued


async def find(session: AsyncSession, key: bytes, credential: str) -> Invitation | None:
    """The invitation behind a token or a typed short code, or ``None``."""
    text = credential.strip()
    if looks_like_code(text):
        digest = keyed_hash(key, "code", normalize_code(text))
        return await session.scalar(select(Invitation).where(Invitation.code_hash == digest))
    if looks_like_token(text):
        return await session.scalar(select(Invitation).where(Invitation.token_hash == keyed_hash(key, "token", text)))
    return None


def problem_with(invitation: Invitation | None, now: dt.datetime) -> Problem | None:
    """Why this invitation cannot start a survey now, or ``None`` when it can."""
    if invitation is None:
        return "unknown"
    if invitation.status == "completed":
        return "used"
    if invitation.status == "expired" or _aware(invitation.expires_at) <= now:
        return "expired"
    return None


async def mark_opened(session: AsyncSession, invitation: Invitation, now: dt.datetime) -> None:
    # Conditional, never a blind write: a concurrent claim that already moved it to "started" must stay.
    await session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.status == "issued")
        .values(status="opened", opened=True).execution_options(synchronize_session=False))


async def claim(session: AsyncSession, invitation_id: int, now: dt.datetime) -> bool:
    """Move an invitation to "started"; exactly one of several concurrent claims gets True."""
    result = await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.status.in_(("issued", "opened")),
               Invitation.expires_at > now)
        .values(status="started", started=True, opened=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def release(session: AsyncSession, invitation_id: int) -> None:
    """A cancelled or abandoned survey frees its invitation for another try until it expires."""
    await session.execute(
        update(Invitation).where(Invitation.id == invitation_id, Invitation.status == "started")
        .values(status="opened").execution_options(synchronize_session=False))


async def complete(session: AsyncSession, invitation_id: int, day: dt.date) -> None:
    """Mark an invitation used, with the local day only (the same precision as its response)."""
    await session.execute(
        update(Invitation).where(Invitation.id == invitation_id)
        .values(status="completed", completed_on=day).execution_options(synchronize_session=False))


async def settle(session: AsyncSession, days: tuple[dt.date, ...]) -> int:
    """PostgreSQL only: rewrite the invitations completed and the responses submitted on ``days``, one row at a
    time in random order, in this one transaction; returns the rows rewritten.

    Why: an UPDATE or INSERT on PostgreSQL writes a new row version at the end of the heap, stamped with its
    transaction id (``xmin``). So the completion transaction leaves the response and its invitation with the same
    ``xmin``, and both tables' physical order (`SELECT *` without ORDER BY) follows completion order. After this
    rewrite every row of those days carries this transaction's ``xmin`` and sits in a random position; only what
    completed since the last sweep stays linkable, until the next sweep. SQLite updates rows in place and stores
    responses in random-key order, so there is nothing to do there.
    """
    if session.bind.dialect.name != "postgresql" or not days:
        return 0
    invitation_ids = list((await session.scalars(
        select(Invitation.id).where(Invitation.completed_on.in_(days)))).all())
    response_ids = list((await session.scalars(select(Response.id).where(Response.submitted_on.in_(days)))).all())
    shuffle = secrets.SystemRandom().shuffle
    shuffle(invitation_ids)
    shuffle(response_ids)
    if invitation_ids:
        await session.execute(update(Invitation.__table__).where(Invitation.id == bindparam("key"))
                              .values(status=Invitation.status), [{"key": key} for key in invitation_ids])
    if response_ids:
        await session.execute(update(Response.__table__).where(Response.id == bindparam("key"))
                              .values(channel=Response.channel), [{"key": key} for key in response_ids])
    return len(invitation_ids) + len(response_ids)


async def expire_overdue(session: AsyncSession, now: dt.datetime) -> int:
    """Mark invitations past their expiry as expired (those not completed); returns how many."""
    result = await session.execute(
        update(Invitation).where(Invitation.status.in_(LIVE), Invitation.expires_at <= now)
        .values(status="expired").execution_options(synchronize_session=False))
    return result.rowcount or 0


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
