"""Keys of the HTTP API: made (`sipas-bot apikey create`), listed, revoked, and checked on every API call.

Only a hash of each key is stored. A plain SHA-256 is enough and deliberate: the secret is 256 random bits
(`secrets.token_urlsafe(32)`), so there is no dictionary to guess from and a slow or keyed hash would add nothing,
while a key hashed with the service's secret key would stop working the day that key is rotated. The hash is
deterministic, so a call finds its key by one indexed lookup (whose timing tells nothing: it depends on the
hash, which a caller cannot steer towards a stored one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, UserError
from bot.storage.base import utcnow
from bot.storage.models import ApiKey, Centre
from bot.survey import directory

ROLES = ("admin", "staff", "viewer", "head")  # head: staff who also see sensitive follow-up cases
KEY_START = "sk_"
PREFIX_LENGTH = len(KEY_START) + 6  # what `apikey list` shows: enough to tell keys apart, far too little to guess


@dataclass(frozen=True)
class Caller:
    """Who an API call comes from: the key's id, role and centre code (None for an admin key)."""

    key_id: int
    role: str
    centre: str | None


@dataclass(frozen=True)
class KeyListing:
    id: int
    name: str | None
    role: str
    centre: str | None
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def check_role(role: str, centre_code: str | None) -> str:
    """The role, lower case; a UserError for an unknown one, a staff or viewer key without a centre, an admin key
    with one."""
    role = role.strip().lower()
    if role not in ROLES:
        raise UserError.say("admin.apikey_bad_role", roles=", ".join(ROLES), given=role)
    if role == "admin" and centre_code:
        raise UserError.say("admin.apikey_admin_centre")
    if role != "admin" and not centre_code:
        raise UserError.say("admin.apikey_needs_centre", role=role)
    return role


async def create_key(session: AsyncSession, role: str, centre_code: str | None = None,
                     name: str | None = None) -> tuple[ApiKey, str]:
    """A new key: the stored row and the secret, which is shown once and never stored."""
    role = check_role(role, centre_code)
    centre = await directory.find_centre(session, centre_code) if centre_code else None
    secret = KEY_START + secrets.token_urlsafe(32)
    row = ApiKey(name=(name or "").strip() or None, role=role, centre_id=centre.id if centre else None,
                 prefix=secret[:PREFIX_LENGTH], key_hash=key_hash(secret))
    session.add(row)
    await session.flush()
    return row, secret


async def list_keys(session: AsyncSession) -> list[KeyListing]:
    rows = await session.execute(select(ApiKey, Centre.code).outerjoin(Centre, ApiKey.centre_id == Centre.id)
                                 .order_by(ApiKey.id))
    return [KeyListing(key.id, key.name, key.role, code, key.prefix, key.created_at, key.revoked_at)
            for key, code in rows]


async def revoke_key(session: AsyncSession, key_id: int) -> ApiKey:
    """Revoke a key (it stays listed, as revoked); revoking it again changes nothing."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound.say("admin.apikey_unknown", id=key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


async def caller_of(session: AsyncSession, secret: str) -> Caller | None:
    """The caller a presented key stands for, or None when it is no key of ours or was revoked."""
    found = await session.execute(select(ApiKey, Centre.code).outerjoin(Centre, ApiKey.centre_id == Centre.id)
                                  .where(ApiKey.key_hash == key_hash(secret)))
    row = found.first()
    if row is None or row[0].revoked_at is not None:
        return None
    return Caller(row[0].id, row[0].role, row[1])
