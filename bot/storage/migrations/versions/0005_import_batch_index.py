"""import batches: find a batch's responses by index (import undo, import list); paper responses only

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_import_batch', ['import_batch_id'], unique=False,
                              sqlite_where=sa.text("import_batch_id IS NOT NULL"),
                              postgresql_where=sa.text("import_batch_id IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_import_batch')
