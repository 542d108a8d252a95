"""Turning a completed survey into an anonymous stored response (for every channel and for paper imports)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping

from bot.storage.models import Response
from bot.storage.packing import pack_ratings
from surveys.instrument import AnswerValue, Instrument
from surveys.redact import redact

COMMENT_CODE = "comment"


def build_response(instrument: Instrument, answers: Mapping[str, AnswerValue], *, centre_id: int,
                   service_id: int | None, channel: str, submitted_on: dt.date,
                   import_batch_id: int | None = None, open_survey: bool = False,
                   flagged: bool = False) -> Response:
    """A `Response` row: ratings packed, other answers as JSON, free text with personal data masked.

    Nothing that identifies the person (chat id, token, dossier number, phone) is copied in.
    """
    return Response(**response_values(instrument, answers, centre_id=centre_id, service_id=service_id,
                                      channel=channel, submitted_on=submitted_on, import_batch_id=import_batch_id,
                                      open_survey=open_survey, flagged=flagged))


def response_values(instrument: Instrument, answers: Mapping[str, AnswerValue], *, centre_id: int,
                    service_id: int | None, channel: str, submitted_on: dt.date,
                    import_batch_id: int | None = None, open_survey: bool = False, flagged: bool = False) -> dict:
    """The column values of a response, as a plain dict (bulk inserts skip building ORM objects)."""
    criteria = instrument.criteria()
    other: dict[str, AnswerValue] = {}
    comment = None
    for code, value in answers.items():
        if code in criteria:
            continue
        question = instrument.question(code)
        if question.type == "text" and isinstance(value, str):
            value = redact(value)
            if code == COMMENT_CODE:
                comment = value
                continue
        other[code] = value
    return {
        "id": secrets.token_hex(16), "centre_id": centre_id, "service_id": service_id, "instrument": instrument.id,
        "instrument_version": instrument.version, "channel": channel, "submitted_on": submitted_on,
        "ratings": pack_ratings(instrument, answers), "answers": other, "comment": comment,
        "import_batch_id": import_batch_id, "open_survey": open_survey, "flagged": flagged,
    }
