"""The migrations build exactly the schema the models declare: a model change without its migration (or a
migration that drifts from its model) fails here, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import bot.storage.zalo_models  # noqa: F401  (its tables belong to the same metadata)
from bot.storage.base import Base


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_the_migrated_schema_is_the_models_schema(services):
    async with services.db.read_engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
