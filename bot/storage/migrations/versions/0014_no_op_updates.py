"""PostgreSQL: an UPDATE that leaves a response or an invitation as it was bumps no day version

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:00:00

The sweep rewrites the last two days' completions in random order on PostgreSQL (bot.survey.invitations.settle:
`SET channel = channel`, so that row order and xmin say nothing of completion order). Every rewrite fired the
triggers of migration 0012, so every 5 minutes the days of today and yesterday looked changed: a server kept in
memory computed the current month, quarter and year again (a year ~1.3 s at 1,000,000 responses), and the centre
pages and workbooks kept for them were dropped, while nothing a report reads had changed. The row's text is
compared whole (`OLD::text`: json columns have no equality operator), so any real change still bumps. SQLite
updates in place and `settle` does nothing there: its triggers stay as they are.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (stamp table, day expression) of migration 0012's PostgreSQL functions.
WATCHED = (("response_days", "ROW.submitted_on"), ("invitation_days", "(ROW.created_at AT TIME ZONE 'UTC')::date"))


def _function(stamps: str, day: str, skip_no_op: bool) -> str:
    def upsert(row: str) -> str:
        return (f"INSERT INTO {stamps} (instrument, day, version) VALUES ({row}.instrument, "
                f"{day.replace('ROW', row)}, 1) ON CONFLICT (instrument, day) DO UPDATE SET version = "
                f"{stamps}.version + 1;")
    same = (f"(OLD.instrument, {day.replace('ROW', 'OLD')}) IS NOT DISTINCT FROM "
            f"(NEW.instrument, {day.replace('ROW', 'NEW')})")
    no_op = "IF TG_OP = 'UPDATE' AND OLD::text = NEW::text THEN RETURN NULL; END IF;" if skip_no_op else ""
    return f"""CREATE OR REPLACE FUNCTION bump_{stamps}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {no_op}
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NOT {same}) THEN
        {upsert('OLD')}
    END IF;
    IF TG_OP <> 'DELETE' THEN
        {upsert('NEW')}
    END IF;
    RETURN NULL;
END $$"""


def _replace(skip_no_op: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for stamps, day in WATCHED:
        op.execute(_function(stamps, day, skip_no_op))


def upgrade() -> None:
    _replace(skip_no_op=True)


def downgrade() -> None:
    _replace(skip_no_op=False)
