"""cases: follow-up of low ratings, harassment and informal-payment reports (bot/survey/cases.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.String(length=12), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('instrument', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('assignee_staff_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('escalation', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.ForeignKeyConstraint(['assignee_staff_id'], ['staff.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_with_rowid=False,
    )
    op.create_index('ix_cases_centre_status', 'cases', ['centre_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_centre_status', table_name='cases')
    op.drop_table('cases')
