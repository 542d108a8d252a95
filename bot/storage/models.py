"""The tables. Alembic migrations under bot/db/migrations create them; keep both in step.

Anonymity by construction: `Response` carries centre, service, instrument, channel, date and answers, never a chat
id, a token, a dossier number or a phone number. The only link between a chat and a survey is `SurveySession`'s keyed
chat hash, and the session row is closed when the survey ends.

Anonymity against timing too: nothing written when a survey completes may say when, or in which order, so that a copy
of the database cannot match a response to its invitation, its alert or its platform events by time or by position.
Responses carry only the day and a random key; the invitation keeps its status, whether it was opened and started,
and the day it was completed; outbox rows have random keys and are deleted once sent; processed events are kept one
day (Telegram's own redelivery horizon). On SQLite those tables are WITHOUT ROWID, so rows are stored (and
`SELECT *` returns them) in the order of their random key, not of insertion. PostgreSQL's heap order and `xmin`
follow writes; `bot.survey.invitations.settle` rewrites the recent ones in random order (see there).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class Centre(Base):
    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    open_surveys: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    alert_chat: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Service(Base):
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str | None] = mapped_column(String(300))


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    platform: Mapped[str] = mapped_column(String(20))
    platform_user_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="staff")
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_centre_created", "centre_id", "created_at"),
                      # The changed days of invitations a server reads again (bot/reports/day_invitations.py).
                      Index("ix_invitations_instrument_created", "instrument", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    channel_hint: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="issued")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    # Which stages it reached (for the participation funnel), never when: a time would order completions.
    opened: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    started: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)  # the centre's local day, like the response's
    # A ZNS invitation: Zalo's id of the message sent (ratings name it), and whether its one star rating
    # (instrument zns-rating) was stored; a rating arriving by webhook and again by `zalo pull-ratings` counts once.
    zns_msg_id: Mapped[str | None] = mapped_column(String(64), index=True)
    rated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # A keyed hash of the case system's dossier number (POST /api/v1/invitations): only to refuse a second
    # invitation for the same dossier; the number itself is never stored.
    dossier_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class SurveySession(Base):
    __tablename__ = "survey_sessions"
    __table_args__ = (
        # At most one survey in progress per chat; finished sessions do not count.
        Index("uq_session_active_chat", "platform", "chat_hash", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_hash: Mapped[str] = mapped_column(String(64))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[int] = mapped_column(Integer)
    progress: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # An open survey's visitor keys (keyed hashes of the browser and the client address, bot/survey/open_limits.py),
    # checked against the daily limits when it completes; gone with the session.
    visitor: Mapped[str | None] = mapped_column(String(200))
    # Zalo OA refused to send (the citizen's 7-day interaction window closed): nothing more goes to this chat
    # until the citizen writes again, which clears it.
    waiting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_instrument_day", "instrument", "submitted_on"),
        # A centre's responses over a range of days (the dashboard's unscored answers and comments, bot.reports.voices);
        # its prefix serves the lookups by centre alone.
        Index("ix_responses_centre_day", "centre_id", "submitted_on"),
        # `import undo`, `import list`: paper responses only, so a chat response adds nothing to this index.
        Index("ix_responses_import_batch", "import_batch_id", sqlite_where=text("import_batch_id IS NOT NULL"),
              postgresql_where=text("import_batch_id IS NOT NULL")),
        {"sqlite_with_rowid": False},  # stored in random-key order: no hidden rowid in insertion order
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, so order reveals nothing
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    # The scored ratings packed one byte per criterion in instrument order (see bot.storage.packing): reports read
    # a million of these in one query instead of sixteen million answer rows.
    ratings: Mapped[bytes] = mapped_column(LargeBinary)
    # Every other answer (choices, skipped, not applicable), as {code: value}; the comment is kept apart.
    answers: Mapped[dict] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    # Started without an invitation (an open survey at a counter), and flagged as likely stuffing (a burst from one
    # client address): reports can separate or leave them out (`report --exclude-flagged`).
    open_survey: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class ImportBatch(Base):
    """One imported file: its name, SHA-256, survey, number of responses and when (`sipas-bot import list`).

    Its responses point to it (``Response.import_batch_id``), so `import undo` removes exactly them. Paper
    responses reach nobody's chat, so the batch's time says nothing about a citizen."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(300))
    instrument: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OpenLimit(Base):
    """How many open surveys a visitor (a browser, or a client address) completed at a centre on a day.

    The visitor hash is keyed and includes the day, so rows of two days cannot be linked to one visitor; no time is
    kept and rows go after the next day. WITHOUT ROWID: no hidden order of completions."""

    __tablename__ = "open_limits"
    __table_args__ = ({"sqlite_with_rowid": False},)

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    visitor_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    completed: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedEvent(Base):
    """Platform events already applied, so a redelivered webhook changes nothing; kept for a day only."""

    __tablename__ = "processed_events"
    __table_args__ = ({"sqlite_with_rowid": False},)

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AppState(Base):
    """Small facts the service learns at run time (the Telegram bot's username, ...)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OutboxMessage(Base):
    """A message that must reach a chat even if the process dies or the platform fails for a while (alerts).

    No creation or sending time and a random key: a row is deleted as soon as it was sent. ``next_attempt_at`` is
    empty until a worker schedules the row (after a random delay, see bot.survey.outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "next_attempt_at"), {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: secrets.token_hex(16))
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Given up (a permanent refusal, or too many attempts): kept for `sipas-bot outbox list`, never sent again.
    failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FinishedChat(Base):
    """A chat whose survey ended lately: it is thanked rather than greeted, and for a few minutes the next messages
    of a comment typed in pieces are added to the response (`bot/survey/afterwards.py`). No answer, no invitation;
    no time is kept: the second sweep that finds the response forgets it, and the row goes on ``forget_after`` (a day,
to the day, like the response's own date)."""

    __tablename__ = "finished_chats"
    __table_args__ = ({"sqlite_with_rowid": False},)  # no hidden rowid in the order surveys finished

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(5))
    response_id: Mapped[str | None] = mapped_column(String(32))
    comment_seen: Mapped[bool] = mapped_column(Boolean, default=False)  # a sweep saw the comment window open
    forget_after: Mapped[dt.date] = mapped_column(Date)



class ApiKey(Base):
    """A key of the HTTP API (`sipas-bot apikey create`): only its hash is kept, with a short prefix to tell keys
    apart in `apikey list`. Staff and viewer keys belong to one centre; admin keys to none."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # admin, staff or viewer
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16))  # "sk_" and the secret's first characters: not enough to guess
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


# The tables of the Zalo channels, in their own module (this one stays readable); imported here so that the
# metadata (Alembic, `create_all`) has them.
from bot.storage.day_stamps import CaseDay, InvitationDay, ResponseDay  # noqa: E402, F401
from bot.storage.target_models import ProvinceTarget, Target  # noqa: E402, F401
from bot.storage.zalo_models import InboxEvent, ZaloToken, ZnsDaily, ZnsRecipient  # noqa: E402, F401

# isort: split
# The follow-up cases of low ratings (bot/survey/cases.py), in their own module too.
from bot.storage.case_models import FollowUpCase  # noqa: E402, F401
