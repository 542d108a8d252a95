"""anonymity against timing: no completion times, no insertion order

Invitations keep which stages they reached and the local day of completion (the time parts are dropped); responses,
processed events and the outbox are stored WITHOUT ROWID on SQLite (in random-key order); the outbox gets random
keys and loses its creation and sending times (sent rows are deleted). On PostgreSQL the existing responses and
completed invitations are rewritten by this one transaction and reordered by their keys, so neither their xmin nor
their physical order follows the order of completion any more.

The local day is that of SIPAS_TIMEZONE (default Asia/Ho_Chi_Minh), as for responses.

Revision ID: 0003
Revises: 0002
"""
import datetime as dt
import os
import secrets
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _aware(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _rowid(table: str, with_rowid: bool) -> None:
    # SQLite only: rebuild the table with or without the hidden rowid (PostgreSQL has none to drop).
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass


def _outbox(columns: list[sa.Column], *, with_rowid: bool) -> sa.Table:
    kwargs = {} if with_rowid else {"sqlite_with_rowid": False}
    return op.create_table('outbox_new', *columns, **kwargs)


def upgrade() -> None:
    bind = op.get_bind()
    zone = ZoneInfo(os.environ.get("SIPAS_TIMEZONE") or "Asia/Ho_Chi_Minh")
    # Invitations: stages reached and the day of completion. Native ALTER on both databases (SQLite >= 3.35): a
    # rebuilt table would trip the survey sessions' foreign key.
    op.add_column('invitations', sa.Column('opened', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('invitations', sa.Column('started', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('invitations', sa.Column('completed_on', sa.Date(), nullable=True))
    op.execute("UPDATE invitations SET opened = (opened_at IS NOT NULL), started = (started_at IS NOT NULL)")
    done = bind.execute(sa.text("SELECT id, completed_at FROM invitations WHERE completed_at IS NOT NULL")).all()
    if done:
        bind.execute(sa.text("UPDATE invitations SET completed_on = :day WHERE id = :id"),
                     [{"id": i, "day": _aware(at).astimezone(zone).date()} for i, at in done])
    for column in ('opened_at', 'started_at', 'completed_at'):
        op.execute(f"ALTER TABLE invitations DROP COLUMN {column}")

    _rowid('responses', with_rowid=False)
    _rowid('processed_events', with_rowid=False)

    # The outbox: pending rows move to random keys and wait to be scheduled again; sent rows are dropped.
    new = _outbox([sa.Column('id', sa.String(length=32), nullable=False),
                   sa.Column('platform', sa.String(length=20), nullable=False),
                   sa.Column('chat_id', sa.String(length=100), nullable=False),
                   sa.Column('text', sa.Text(), nullable=False),
                   sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('attempts', sa.Integer(), nullable=False),
                   sa.Column('last_error', sa.String(length=300), nullable=True),
                   sa.PrimaryKeyConstraint('id', name='pk_outbox_new')], with_rowid=False)
    pending = bind.execute(sa.text("SELECT platform, chat_id, text, attempts, last_error FROM outbox "
                                   "WHERE sent_at IS NULL")).all()
    if pending:
        op.bulk_insert(new, [{"id": secrets.token_hex(16), "platform": p, "chat_id": c, "text": t, "attempts": a,
                              "last_error": e, "next_attempt_at": None} for p, c, t, a, e in pending])
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
    op.rename_table('outbox_new', 'outbox')
    op.create_index('ix_outbox_due', 'outbox', ['next_attempt_at'], unique=False)

    if bind.dialect.name == "postgresql":
        # Every existing row gets this transaction's xmin, then the heap is rewritten in key order (random for
        # responses, issue order for invitations): neither says any more in which order surveys were completed.
        op.execute("UPDATE responses SET channel = channel")
        op.execute("UPDATE invitations SET status = status")
        op.execute("CLUSTER responses USING responses_pkey")
        op.execute("CLUSTER invitations USING invitations_pkey")


def downgrade() -> None:
    bind = op.get_bind()
    new = _outbox([sa.Column('id', sa.Integer(), nullable=False),
                   sa.Column('platform', sa.String(length=20), nullable=False),
                   sa.Column('chat_id', sa.String(length=100), nullable=False),
                   sa.Column('text', sa.Text(), nullable=False),
                   sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
                   sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
                   sa.Column('attempts', sa.Integer(), nullable=False),
                   sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
                   sa.Column('last_error', sa.String(length=300), nullable=True),
                   sa.PrimaryKeyConstraint('id', name='pk_outbox_old')], with_rowid=True)
    now = dt.datetime.now(dt.UTC)
    pending = bind.execute(sa.text("SELECT platform, chat_id, text, attempts, last_error, next_attempt_at "
                                   "FROM outbox")).all()
    if pending:
        op.bulk_insert(new, [{"platform": p, "chat_id": c, "text": t, "attempts": a, "last_error": e,
                              "created_at": now, "next_attempt_at": _aware(at) if at else now, "sent_at": None}
                             for p, c, t, a, e, at in pending])
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
    op.rename_table('outbox_new', 'outbox')
    op.create_index('ix_outbox_due', 'outbox', ['sent_at', 'next_attempt_at'], unique=False)

    _rowid('processed_events', with_rowid=True)
    _rowid('responses', with_rowid=True)

    # The times are gone for good: a stage reached gets the invitation's creation time, a completion the
    # start of its day (UTC).
    for column in ('opened_at', 'started_at', 'completed_at'):
        op.add_column('invitations', sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE invitations SET opened_at = created_at WHERE opened")
    op.execute("UPDATE invitations SET started_at = created_at WHERE started")
    done = bind.execute(sa.text("SELECT id, completed_on FROM invitations WHERE completed_on IS NOT NULL")).all()
    if done:
        bind.execute(sa.text("UPDATE invitations SET completed_at = :at WHERE id = :id"), [
            {"id": i, "at": dt.datetime.combine(dt.date.fromisoformat(str(day)), dt.time(), dt.UTC)}
            for i, day in done])
    for column in ('opened', 'started', 'completed_on'):
        op.execute(f"ALTER TABLE invitations DROP COLUMN {column}")
