"""finished chats: thank a chat after its survey, and keep a comment typed in pieces whole

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:55:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('finished_chats',
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('chat_hash', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('response_id', sa.String(length=32), nullable=True),
    sa.Column('comment_seen', sa.Boolean(), nullable=False),
    sa.Column('forget_after', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'chat_hash'),
    sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table('finished_chats')
