"""Is the database schema at the newest revision? Answered without Alembic on the common path.

Importing Alembic and loading its script directory (every migration module) took about a third of the start-up
time of each command. The newest revision is read here from the migration files' `revision`/`down_revision`
lines, and the database's from its `alembic_version` table; only when they differ (or either is unclear) does
`Database.ensure_schema` go through Alembic, which upgrades or says how to.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


# `revision: str = '0002'`, `down_revision: Union[...] = '0001'` (or None, or a tuple of ids for a merge).
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)
_ID = re.compile(r"""['"]([^'"]+)['"]""")


def _identifiers(source: str) -> dict[str, list[str]]:
    # A regular expression, not ast.parse: parsing the migrations' bodies cost more than the rest of this check.
    return {name: _ID.findall(value) for name, value in _ASSIGNMENT.findall(source)}


@functools.cache
def head_revision() -> str | None:
    """The one revision no migration revises, or None when that is not clear (several heads, odd files)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    folder = resources.files("bot.storage").joinpath("migrations", "versions")
    for entry in folder.iterdir():
        if not entry.name.endswith(".py"):
            continue
        ids = _identifiers(entry.read_text(encoding="utf-8"))
        if len(ids.get("revision", [])) != 1:
            return None
        revisions.update(ids["revision"])
        revised.update(ids.get("down_revision", []))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database, or None (no table yet, several rows, a database error)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:
        return None  # an empty database: Alembic creates everything
    return rows[0][0] if len(rows) == 1 else None
