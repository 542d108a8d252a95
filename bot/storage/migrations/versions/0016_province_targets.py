"""province_targets: the province's yearly targets, for the "Toàn tỉnh" rows of reports

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:10:00

A province sets its own goal (its plan asks to raise the province's SIPAS and rank, `sipas-sources.md`), beside
each centre's (`targets`, keyed by centre: no row there can stand for the province).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'province_targets',
        sa.Column('year', sa.Integer(), primary_key=True),
        sa.Column('measure', sa.String(length=20), primary_key=True),
        sa.Column('value', sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('province_targets')
