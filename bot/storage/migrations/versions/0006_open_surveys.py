"""open surveys: responses say whether they came without an invitation and whether they were flagged; the daily
limits of open surveys per browser and per client address; the client address of a session in progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_survey', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.add_column(sa.Column('flagged', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor', sa.String(length=200), nullable=True))
    op.create_table('open_limits',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('visitor_hash', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], ),
    sa.PrimaryKeyConstraint('centre_id', 'visitor_hash', 'day'),
    sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table('open_limits')
    with op.batch_alter_table('survey_sessions', schema=None) as batch_op:
        batch_op.drop_column('visitor')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('flagged')
        batch_op.drop_column('open_survey')
