"""Alembic environment. `bot.storage.database.Database.upgrade` passes its own connection in
config.attributes["connection"]; run from the alembic command line, the URL comes from the SIPAS_* settings."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    from bot.config import Settings

    engine = create_async_engine(Settings().resolved_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_from_settings())
