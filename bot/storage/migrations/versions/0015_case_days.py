"""case_days: a version per survey and opening day of the follow-up cases, bumped by triggers; an index of cases by
(instrument, status, opened_on)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:30:00

A report by centre counts the cases opened in each period (bot/reports/cases.py). A server that keeps reports in
memory (bot/reports/memory.py) must know when those counts change without reading every case on every page (a
province opens tens of thousands a year): as for responses (migration 0012), triggers bump the case's opening
day in the transaction that writes it, but only when what a report counts changes (opened, removed, or its status,
due day, closed day, centre, sensitivity or survey), not for an assignment, a note or a reminder. Open cases are
found by the index, to know which ranges may still fall overdue.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COUNTED = "status, due_on, closed_on, opened_on, centre_id, sensitive, instrument"


def _upsert(row: str) -> str:
    return (f"INSERT INTO case_days (instrument, day, version) VALUES ({row}.instrument, {row}.opened_on, 1) "
            "ON CONFLICT (instrument, day) DO UPDATE SET version = case_days.version + 1;")


def upgrade() -> None:
    op.create_index('ix_cases_instrument_status_opened', 'cases', ['instrument', 'status', 'opened_on'])
    op.create_table(
        'case_days',
        sa.Column('instrument', sa.String(length=40), primary_key=True),
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO case_days (instrument, day, version) SELECT instrument, opened_on, 1 FROM cases "
               "GROUP BY 1, 2")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION bump_case_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        {_upsert('OLD')}
    END IF;
    IF TG_OP <> 'DELETE' THEN
        {_upsert('NEW')}
    END IF;
    RETURN NULL;
END $$""")
        op.execute(f"CREATE TRIGGER case_days_bump AFTER INSERT OR DELETE OR UPDATE OF {COUNTED} ON cases "
                   "FOR EACH ROW EXECUTE FUNCTION bump_case_days()")
        return
    for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), (f"UPDATE OF {COUNTED}", ("OLD", "NEW"))):
        name = event.split()[0].lower()
        op.execute(f"CREATE TRIGGER case_days_{name} AFTER {event} ON cases FOR EACH ROW BEGIN "
                   f"{' '.join(_upsert(row) for row in rows)} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER case_days_bump ON cases")
        op.execute("DROP FUNCTION bump_case_days()")
    else:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER case_days_{event}")
    op.drop_table('case_days')
    op.drop_index('ix_cases_instrument_status_opened', 'cases')
