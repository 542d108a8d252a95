"""The tables of the Zalo channels and of the webhook inbox (see bot/storage/models.py for the rules)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class InboxEvent(Base):
    """A verified webhook event, written before it is acknowledged and processed afterwards by the channel's
    worker (`bot/survey/inbox.py`): Zalo wants its answer within 2 seconds, a survey step sends slow API calls.

    ``event_key`` de-duplicates redeliveries. Processing is in ``id`` order per ``user_key`` (the platform's user
    id, needed to reply). Once processed, the body and the user are cleared and only the key stays, for a day, to
    refuse redeliveries."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("platform", "event_key"),
                      Index("ix_inbox_pending", "platform", "done", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(200))
    user_key: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column()  # a worker holds it until then
    last_error: Mapped[str | None] = mapped_column(String(300))


class ZaloToken(Base):
    """The Zalo OA's OAuth token pair. The refresh token is single-use: each refresh returns a new pair, saved in
    the transaction that holds this row locked (`bot/zalo/tokens.py`), so two workers never spend it twice."""

    __tablename__ = "zalo_tokens"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)  # "oa"
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column()
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    refreshes: Mapped[int] = mapped_column(Integer, default=0)


class ZnsDaily(Base):
    """ZNS messages (paid) sent for a centre on a local day: the daily cap and the report's participation."""

    __tablename__ = "zns_daily"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)


class ZnsRecipient(Base):
    """A phone number that got a ZNS invitation on a day, as a keyed hash that includes the day (rows of two days
    cannot be linked): nobody is messaged twice a day. Forgotten after the next day. WITHOUT ROWID."""

    __tablename__ = "zns_recipients"
    __table_args__ = ({"sqlite_with_rowid": False},)

    recipient_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
