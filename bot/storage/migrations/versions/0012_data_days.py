"""response_days, invitation_days: a version per survey and day, bumped by triggers in every writing transaction;
an index of invitations by (instrument, created_at)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:30:00

A long-running server keeps reports' inputs in memory (bot/reports/memory.py) and must know, cheaply and
exactly, which days changed since it read them, whoever wrote (a survey completion, a paper import, `import
undo`, a flag, another process, a hand-written SQL statement): triggers bump the day's version in the same
transaction as the write, so the stamp and the rows are always committed together. Versions only grow and rows
are never deleted, so a sum of versions over a range of days changes whenever anything in it changes.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (stamp table, watched table, its day expression on SQLite, on PostgreSQL) for a row named ROW.
WATCHED = (
    ("response_days", "responses", "ROW.submitted_on", "ROW.submitted_on"),
    ("invitation_days", "invitations", "substr(ROW.created_at, 1, 10)", "(ROW.created_at AT TIME ZONE 'UTC')::date"),
)


def _upsert(stamps: str, row: str, day: str) -> str:
    return (f"INSERT INTO {stamps} (instrument, day, version) VALUES ({row}.instrument, "
            f"{day.replace('ROW', row)}, 1) ON CONFLICT (instrument, day) DO UPDATE SET version = {stamps}.version + 1;")


def _sqlite(stamps: str, table: str, day: str) -> list[str]:
    sql = []
    for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
        body = " ".join(_upsert(stamps, row, day) for row in rows)
        sql.append(f"CREATE TRIGGER {stamps}_{event.lower()} AFTER {event} ON {table} FOR EACH ROW BEGIN {body} END")
    return sql


def _postgres(stamps: str, table: str, day: str) -> list[str]:
    same = f"(OLD.instrument, {day.replace('ROW', 'OLD')}) IS NOT DISTINCT FROM (NEW.instrument, {day.replace('ROW', 'NEW')})"
    return [
        f"""CREATE FUNCTION bump_{stamps}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NOT {same}) THEN
        {_upsert(stamps, 'OLD', day)}
    END IF;
    IF TG_OP <> 'DELETE' THEN
        {_upsert(stamps, 'NEW', day)}
    END IF;
    RETURN NULL;
END $$""",
        f"CREATE TRIGGER {stamps}_bump AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION bump_{stamps}()",
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # The changed days of invitations are read again through this (bot/reports/day_invitations.py).
    op.create_index('ix_invitations_instrument_created', 'invitations', ['instrument', 'created_at'])
    for stamps, table, sqlite_day, postgres_day in WATCHED:
        op.create_table(
            stamps,
            sa.Column('instrument', sa.String(length=40), primary_key=True),
            sa.Column('day', sa.Date(), primary_key=True),
            sa.Column('version', sa.Integer(), nullable=False),
            sqlite_with_rowid=False,
        )
        day = postgres_day if postgres else sqlite_day
        op.execute(f"INSERT INTO {stamps} (instrument, day, version) SELECT instrument, {day.replace('ROW.', '')}, 1 "
                   f"FROM {table} GROUP BY 1, 2")
        for statement in (_postgres if postgres else _sqlite)(stamps, table, day):
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for stamps, table, *_ in WATCHED:
        if postgres:
            op.execute(f"DROP TRIGGER {stamps}_bump ON {table}")
            op.execute(f"DROP FUNCTION bump_{stamps}()")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {stamps}_{event}")
        op.drop_table(stamps)
    op.drop_index('ix_invitations_instrument_created', 'invitations')
