"""`GET /healthz` asks the database: 200 with "database": "ok" while it answers, 503 with a short reason once the
database is gone (the SQLite file removed or replaced by something that is no database, a PostgreSQL server that
does not listen), never a URL or a password."""

import socket

from aiohttp.test_utils import TestClient, TestServer
from conftest import sqlite_only

from bot.http.app import create_app
from bot.http.health import database_problem
from bot.storage.database import Database


async def test_healthz_says_the_database_answers(settings):
    async with TestClient(TestServer(create_app(settings))) as client:
        answer = await client.get("/healthz")
        body = await answer.json()
    assert answer.status == 200
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["instruments"] >= 1 and "failed_total" in body["redemptions"]  # the fields it always had


@sqlite_only
async def test_a_database_file_replaced_by_garbage_is_503(settings):
    async with TestClient(TestServer(create_app(settings))) as client:
        assert (await client.get("/healthz")).status == 200
        for name in ("sipas.db-wal", "sipas.db-shm"):  # else the last pages written are still read from there
            (settings.data_dir / name).unlink(missing_ok=True)
        (settings.data_dir / "sipas.db").write_bytes(b"this is no database " * 1000)
        answer = await client.get("/healthz")
        body = await answer.json()
    assert answer.status == 503, body
    assert body["status"] == "error" and body["database"] == "DatabaseError: file is not a database"
    assert str(settings.data_dir) not in body["database"]
    assert body["instruments"] >= 1  # the other fields stay


@sqlite_only
async def test_a_database_file_removed_is_503(settings):
    async with TestClient(TestServer(create_app(settings))) as client:
        for name in ("sipas.db", "sipas.db-wal", "sipas.db-shm"):
            (settings.data_dir / name).unlink(missing_ok=True)
        answer = await client.get("/healthz")
        body = await answer.json()
    assert answer.status == 503
    # Gone ("unable to open database file"), or made again empty by a writer of the app ("no such table").
    assert body["status"] == "error" and body["database"].startswith("OperationalError: "), body


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nothing listens there


async def test_a_postgresql_server_that_does_not_listen_is_a_short_reason_without_the_password():
    db = Database(f"postgresql+asyncpg://sipas:pa55word-secret@127.0.0.1:{closed_port()}/sipas")
    try:
        problem = await database_problem(db, timeout=5)
    finally:
        await db.read_engine.dispose()
    assert problem is not None and "pa55word-secret" not in problem
    assert problem.startswith(("ConnectionRefusedError", "OSError")), problem


async def test_a_database_that_does_not_answer_in_time_is_a_timeout():
    # A port that accepts the connection and never says a word: PostgreSQL's greeting never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        db = Database(f"postgresql+asyncpg://sipas:x@127.0.0.1:{silent.getsockname()[1]}/sipas")
        try:
            problem = await database_problem(db, timeout=0.5)
        finally:
            await db.read_engine.dispose()
    assert problem == "no answer within 0.5 s"
