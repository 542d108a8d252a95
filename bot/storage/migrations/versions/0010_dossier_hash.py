"""invitations.dossier_hash: a keyed hash of the case system's dossier number, one invitation per dossier

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('invitations') as batch:
        batch.add_column(sa.Column('dossier_hash', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_invitations_dossier_hash', ['dossier_hash'])


def downgrade() -> None:
    with op.batch_alter_table('invitations') as batch:
        batch.drop_constraint('uq_invitations_dossier_hash', type_='unique')
        batch.drop_column('dossier_hash')
