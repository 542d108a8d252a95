"""Migration 0003 moves an existing database's data: completion times become local days, pending alerts survive
with random keys, sent ones go; and it downgrades again."""

import pytest
from alembic import command
from sqlalchemy import text

from bot.storage.database import Database, alembic_config

ROWS = [
    "INSERT INTO centres (id, code, name, open_surveys, created_at) VALUES (1, 'HCC', 'Trung tâm', false, "
    "'2026-11-01 00:00:00')",
    "INSERT INTO invitations (id, token_hash, code_hash, centre_id, instrument, status, created_at, expires_at, "
    "opened_at, started_at, completed_at) VALUES "
    "(1, 't1', 'c1', 1, 'sipas-quick', 'completed', '2026-11-01 00:00:00', '2026-12-01 00:00:00', "
    "'2026-11-01 17:01:00', '2026-11-01 17:02:00', '2026-11-01 17:05:00'), "  # 00:05 on 2 Nov in Hà Nội
    "(2, 't2', 'c2', 1, 'sipas-quick', 'opened', '2026-11-01 00:00:00', '2026-12-01 00:00:00', "
    "'2026-11-01 09:00:00', NULL, NULL)",
    "INSERT INTO outbox (platform, chat_id, text, created_at, next_attempt_at, attempts, sent_at) VALUES "
    "('telegram', '-1', 'pending', '2026-11-01 00:00:00', '2026-11-01 00:00:00', 1, NULL), "
    "('telegram', '-1', 'sent', '2026-11-01 00:00:00', '2026-11-01 00:00:00', 1, '2026-11-01 00:01:00')",
    "INSERT INTO processed_events (platform, event_key, processed_at) VALUES ('telegram', '77', "
    "'2026-11-01 00:00:00')",
]


async def migrate(db: Database, revision: str, down: bool = False) -> None:
    config = alembic_config()

    def run(connection):
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with db.write_engine.begin() as connection:
        await connection.run_sync(run)


async def query(db: Database, sql: str) -> list[tuple]:
    async with db.write_engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(sql))).all()]


@pytest.mark.empty_database
async def test_0003_moves_existing_data_and_downgrades(settings):
    db = Database(settings.resolved_database_url)
    try:
        await migrate(db, "0002")
        async with db.write_engine.begin() as connection:
            for statement in ROWS:
                await connection.execute(text(statement))
        await migrate(db, "0003")
        rows = await query(db, "SELECT id, status, opened, started, completed_on FROM invitations ORDER BY id")
        assert [(i, s, bool(o), bool(st), str(day) if day else None) for i, s, o, st, day in rows] == [
            (1, "completed", True, True, "2026-11-02"), (2, "opened", True, False, None)]
        [(key, body, due, attempts)] = await query(db, "SELECT id, text, next_attempt_at, attempts FROM outbox")
        assert len(key) == 32 and body == "pending" and due is None and attempts == 1
        assert await query(db, "SELECT event_key FROM processed_events") == [("77",)]
        await migrate(db, "0002", down=True)
        rows = await query(db, "SELECT id, opened_at IS NOT NULL, started_at IS NOT NULL, completed_at "
                               "FROM invitations ORDER BY id")
        assert [(i, bool(o), bool(s), str(c)[:10] if c else None) for i, o, s, c in rows] == [
            (1, True, True, "2026-11-02"), (2, True, False, None)]
        assert await query(db, "SELECT text, sent_at FROM outbox") == [("pending", None)]
        await migrate(db, "head")
    finally:
        await db.dispose()
