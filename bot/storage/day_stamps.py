"""Per-day versions of responses and invitations (migration 0012) and of follow-up cases (migration 0015):
triggers bump a survey's day in the transaction that writes one of its rows, so a process holding reports' inputs
in memory (bot/reports/memory.py) knows which days changed, whoever wrote them. Nothing here says more than the
day of a row, which the row says itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class ResponseDay(Base):
    """How many times the responses of ``instrument`` submitted on ``day`` changed (inserted, updated, deleted)."""

    __tablename__ = "response_days"
    __table_args__ = ({"sqlite_with_rowid": False},)

    instrument: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class InvitationDay(Base):
    """The same for invitations, by the UTC day of their creation (``created_at``)."""

    __tablename__ = "invitation_days"
    __table_args__ = ({"sqlite_with_rowid": False},)

    instrument: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class CaseDay(Base):
    """The same for follow-up cases, by the day they opened: bumped when a case is opened or removed, or when
    what a report counts of it changes (its status, due or closed day, centre or sensitivity)."""

    __tablename__ = "case_days"
    __table_args__ = ({"sqlite_with_rowid": False},)

    instrument: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
