"""The follow-up cases' table (imported by bot/storage/models.py, so the metadata has it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class FollowUpCase(Base):
    """A follow-up case (bot/survey/cases.py): a completed response rated a criterion 1-2, or reported harassment or
    an informal payment, and someone at its centre has to act on it.

    Anonymous like the response: the low items, the masked comment, the centre, the service and the local day it
    was opened; never a chat id, phone, invitation or session. Its key is random (no order of completions), the
    table is WITHOUT ROWID, and ``response_id`` is kept only while the citizen may still be typing the comment
    (until the sweep publishes the case, 0-10 minutes): a published case cannot be traced to its response."""

    __tablename__ = "cases"
    # The second index finds the days with an open case for the reports a server keeps (bot.reports.cases).
    __table_args__ = (Index("ix_cases_centre_status", "centre_id", "status"),
                      Index("ix_cases_instrument_status_opened", "instrument", "status", "opened_on"),
                      {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(12), primary_key=True)  # random, short enough to type
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    instrument: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="new")  # new, in_progress, resolved
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # harassment or payment: head and admin only
    items: Mapped[list] = mapped_column(JSON)  # [{kind: rating|report, code, text, value, label}]
    comment: Mapped[str | None] = mapped_column(Text)  # masked (surveys.redact)
    assignee: Mapped[str | None] = mapped_column(String(200))
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    opened_on: Mapped[dt.date] = mapped_column(Date)  # the centre's local day, like the response's: no time
    due_on: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column()  # staff's action, not the citizen's: a time is fine
    closed_on: Mapped[dt.date | None] = mapped_column(Date)  # its local day, compared with due_on
    escalation: Mapped[int] = mapped_column(Integer, default=0)  # reminders sent: 1 handler, 2 head, 3 province
    response_id: Mapped[str | None] = mapped_column(String(32))  # only until published (see above)
