"""Follow-up cases: a completed response that rates a criterion 1-2, or reports harassment or an informal payment
(Câu 5 and Câu 6 of sipas-2023), opens one case for its centre, in the transaction that stores the response.

A case moves new → in_progress → resolved (mới → đang xử lý → đã xử lý; `bot.survey.case_access`), is due a number
of working days after it opened (`SIPAS_CASE_DUE_WORKING_DAYS`), and when overdue is escalated by the sweep
(`bot.survey.case_sweep`). A harassment or payment report makes the case sensitive: only the centre's head and the
province admin see it.

Anonymity: the case holds what the citizen said (the low items, the comment masked by `surveys.redact`), the
centre, the service and the local day; never the chat, phone, invitation or session. It holds its response's id only
while the comment may still grow (the chat's comment window of `bot.survey.afterwards`, at most two sweeps) and is
hidden until then; the sweep that publishes it forgets the id. A published case so cannot be joined to its response,
whose other answers a counter's staff must not see one by one (reports withhold groups under min_n for that).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.storage.models import FollowUpCase
from bot.survey.invitations import CODE_ALPHABET
from bot.survey.workdays import add_working_days
from surveys.instrument import AnswerValue, Instrument
from surveys.redact import redact

LOW = (1, 2)
# Câu 5 and Câu 6: any answer but the first option ("no civil servant...", "nobody has to pay...") is a report.
REPORTS = {"harassment": "Phiền hà, sách nhiễu", "informal_payment": "Tiền ngoài quy định"}
NOT_REPORTED = 1
STATUSES = ("new", "in_progress", "resolved")
ID_LENGTH = 6  # 31^6 ≈ 887 million: a collision is retried, and an id is short enough to type or say


def case_items(instrument: Instrument, answers: Mapping[str, AnswerValue]) -> list[dict]:
    """What calls for a follow-up in one response: each criterion rated 1-2 and each harassment or payment report,
    with the question's short Vietnamese text, the value and its label; [] when nothing does."""
    items = []
    for code in instrument.criteria():
        value = answers.get(code)
        if isinstance(value, int) and not isinstance(value, bool) and value in LOW:
            question = instrument.question(code)
            items.append({"kind": "rating", "code": code, "text": (question.short or question.text).get("vi"),
                          "value": value, "label": question.label_for(value, "vi")})
    for code, fallback in REPORTS.items():
        value = answers.get(code)
        if isinstance(value, int) and not isinstance(value, bool) and value != NOT_REPORTED:
            question = instrument.question(code)
            text = question.short.get("vi") if question.short else fallback
            items.append({"kind": "report", "code": code, "text": text, "value": value,
                          "label": question.label_for(value, "vi")})
    return items


def is_sensitive(items: list[dict]) -> bool:
    return any(item["kind"] == "report" for item in items)


def masked_comment(instrument: Instrument, answers: Mapping[str, AnswerValue]) -> str | None:
    texts = [redact(str(value)) for code, value in answers.items()
             if isinstance(value, str) and instrument.question(code).type == "text"]
    return "\n".join(texts) or None


async def open_case(session: AsyncSession, settings: Settings, instrument: Instrument,
                    answers: Mapping[str, AnswerValue], *, centre_id: int, service_id: int | None, day: dt.date,
                    response_id: str | None) -> FollowUpCase | None:
    """Open the response's case if it calls for one (in the caller's transaction); None when it does not."""
    items = case_items(instrument, answers)
    if not items:
        return None
    case = FollowUpCase(
        id=await _new_id(session), centre_id=centre_id, service_id=service_id, instrument=instrument.id,
        status="new", sensitive=is_sensitive(items), items=items, comment=masked_comment(instrument, answers),
        opened_on=day, due_on=add_working_days(day, settings.case_due_working_days, settings.case_holiday_days),
        escalation=0, response_id=response_id)
    session.add(case)
    return case


async def comment_grew(session: AsyncSession, response_id: str, comment: str) -> None:
    """The citizen added to the comment of ``response_id`` (already masked): its unpublished case follows."""
    await session.execute(update(FollowUpCase).where(FollowUpCase.response_id == response_id)
                          .values(comment=comment).execution_options(synchronize_session=False))


async def find_case(session: AsyncSession, case_id: str) -> FollowUpCase | None:
    """A published case by its id (typed in any case, spaces ignored); None for an unknown or unpublished one."""
    key = "".join(case_id.split()).upper()
    case = await session.get(FollowUpCase, key) if key else None
    return case if case is not None and case.response_id is None else None


async def _new_id(session: AsyncSession) -> str:
    while True:
        candidate = "".join(secrets.choice(CODE_ALPHABET) for _ in range(ID_LENGTH))
        if await session.scalar(select(FollowUpCase.id).where(FollowUpCase.id == candidate)) is None:
            return candidate
