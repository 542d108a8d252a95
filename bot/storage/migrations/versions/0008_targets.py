"""targets: a centre's yearly targets for SIPAS and the element indices (`sipas-bot target set`)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('targets',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('centre_id', 'year', 'measure')
    )


def downgrade() -> None:
    op.drop_table('targets')
