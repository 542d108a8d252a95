"""The tree of centres (`Centre.parent_id`): the top ancestor of each, and moving a centre under another.

Kept apart from `bot.reports.rollup` so that `centre set --parent` loads no numpy or pandas.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserError
from bot.storage.models import Centre


def top_ancestors(parents: dict[int, int | None]) -> dict[int, int]:
    """Centre id -> the id of its top ancestor (itself without a parent); a loop ends where it closes."""
    tops = {}
    for start in parents:
        seen, node = {start}, start
        while parents.get(node) is not None and parents[node] not in seen:
            node = parents[node]
            seen.add(node)
        tops[start] = node
    return tops


async def load_parents(session: AsyncSession) -> dict[int, int | None]:
    """Centre id -> its parent's id (None without a parent)."""
    return dict((await session.execute(select(Centre.id, Centre.parent_id))).all())


async def set_parent(session: AsyncSession, centre: Centre, parent: Centre | None) -> None:
    """Put ``centre`` under ``parent`` (None: no parent); a UserError when that would make a loop."""
    if parent is not None:
        parents = await load_parents(session)
        node: int | None = parent.id
        seen: set[int] = set()
        while node is not None and node not in seen:
            if node == centre.id:
                raise UserError.say("admin.parent_loop", code=centre.code, parent=parent.code)
            seen.add(node)
            node = parents.get(node)
    centre.parent_id = parent.id if parent is not None else None
