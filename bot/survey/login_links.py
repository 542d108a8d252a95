"""One-time login links of the dashboard (`sipas-bot admin login-link`, `serve --demo`): a random token that
stands for an API key for 15 minutes and opens one dashboard session, once.

Only a hash of the token is kept, in `app_state` (no table of its own: a link lives minutes). The row goes in the
same transaction that lets the link in, so a second use of it finds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound
from bot.storage.base import utcnow
from bot.storage.models import ApiKey, AppState, Centre
from bot.survey.api_keys import Caller, create_key

PREFIX = "dashboard_login:"  # app_state key: PREFIX + the token's SHA-256 in hex
VALID = dt.timedelta(minutes=15)


def _key(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def caller_by_id(session: AsyncSession, key_id: int) -> Caller | None:
    """The caller of key ``key_id``; None when there is no such key or it was revoked (a session then ends)."""
    found = (await session.execute(select(ApiKey, Centre.code).outerjoin(Centre, ApiKey.centre_id == Centre.id)
                                   .where(ApiKey.id == key_id))).first()
    if found is None or found[0].revoked_at is not None:
        return None
    return Caller(found[0].id, found[0].role, found[1])


async def create_link_token(session: AsyncSession, key_id: int) -> str:
    """A fresh token for key ``key_id`` (NotFound when it is no usable key); expired tokens are swept here."""
    if await caller_by_id(session, key_id) is None:
        raise NotFound.say("admin.login_link_no_key", id=key_id)
    now = utcnow()
    for row in (await session.execute(select(AppState).where(AppState.key.startswith(PREFIX)))).scalars():
        if _aware(dt.datetime.fromisoformat(json.loads(row.value)["expires"])) <= _aware(now):
            await session.delete(row)
    token = secrets.token_urlsafe(32)
    session.add(AppState(key=_key(token), value=json.dumps({"key_id": key_id,
                                                            "expires": (now + VALID).isoformat()})))
    await session.flush()
    return token


async def redeem_link_token(session: AsyncSession, token: str) -> Caller | None:
    """The caller a login link stands for, and the link used up; None for an unknown, used or expired link, or
    one whose key was revoked since."""
    row = await session.get(AppState, _key(token))
    if row is None:
        return None
    await session.execute(delete(AppState).where(AppState.key == row.key))
    stored = json.loads(row.value)
    if _aware(dt.datetime.fromisoformat(stored["expires"])) <= _aware(utcnow()):
        return None
    return await caller_by_id(session, int(stored["key_id"]))


async def admin_key_exists(session: AsyncSession) -> bool:
    """Whether any admin key is still valid (`serve --demo` makes one, and prints its link, only when none is)."""
    found = await session.execute(select(ApiKey.id).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
                                  .limit(1))
    return found.first() is not None


async def new_key_link(session: AsyncSession, role: str, centre: str | None, name: str) -> tuple[int, str]:
    """A new key of ``role`` (never shown: the link stands for it) and a login token for it."""
    row, _secret = await create_key(session, role, centre, name)
    return row.id, await create_link_token(session, row.id)
