"""A ZNS star rating ("Đánh giá dịch vụ" template) stored as one anonymous response of instrument `zns-rating`.

Both paths call `record_rating`: the OA webhook's `user_feedback` event and `sipas-bot zalo pull-ratings` (the
fallback when webhooks were missed). The invitation is found by our ``tracking_id`` or Zalo's ``msg_id``; the
conditional UPDATE of `invitations.rated` false → true, in the transaction that stores the response, makes the
rating count once whichever path comes first or however often it is delivered. An invitation issued for
`zns-rating` itself (the ZNS template is the rating) is completed by it, so its participation counts it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import select, update

from bot.services import Services
from bot.storage.models import Invitation, utcnow
from bot.storage.responses import build_response
from bot.survey import cases, invitations
from bot.zalo.times import from_ms
from surveys.cleaning import clean_text

INSTRUMENT = "zns-rating"
CHANNEL = "zns"
Outcome = Literal["stored", "duplicate", "unknown", "invalid"]


def _rate(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        rate = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return rate if 1 <= rate <= 5 else None


def _text(value: object, limit: int) -> str | None:
    text = clean_text(str(value)).strip() if value is not None else ""
    return text[:limit] or None


async def record_rating(services: Services, *, msg_id: str | None, tracking_id: str | None, rate: object,
                        note: str | None, feedbacks: Iterable[str] | None,
                        submitted_at: dt.datetime | None) -> Outcome:
    """Store one rating; "stored" the first time, "duplicate" after, "unknown" when no invitation matches,
    "invalid" when the rate is not 1 to 5."""
    stars = _rate(rate)
    if stars is None:
        return "invalid"
    instrument = services.instrument(INSTRUMENT)
    tags_limit = instrument.question("tags").max_length or 1000
    comment_limit = instrument.question("comment").max_length or 2000
    tags = _text("; ".join(str(tag) for tag in (feedbacks or []) if str(tag).strip()), tags_limit)
    comment = _text(note, comment_limit)
    day = services.local_date(submitted_at or utcnow())
    async with services.db.transaction() as session:
        invitation = None
        if msg_id:
            invitation = await session.scalar(select(Invitation).where(Invitation.zns_msg_id == str(msg_id)))
        if invitation is None and tracking_id is not None and str(tracking_id).strip().isdigit():
            invitation = await session.get(Invitation, int(str(tracking_id).strip()))
        if invitation is None:
            return "unknown"
        claimed = await session.execute(
            update(Invitation).where(Invitation.id == invitation.id, Invitation.rated.is_(False))
            .values(rated=True).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return "duplicate"
        answers: dict = {"overall_1": stars}
        if tags:
            answers["tags"] = tags
        if comment:
            answers["comment"] = comment  # masked by build_response, as every comment
        if invitation.instrument == INSTRUMENT:  # an invitation to this very rating: the rating completes it
            await invitations.complete(session, invitation.id, day)
        response = build_response(instrument, answers, centre_id=invitation.centre_id,
                                  service_id=invitation.service_id, channel=CHANNEL, submitted_on=day)
        session.add(response)
        # 1 or 2 stars: a follow-up case, shown from the next sweep on like a chat's (bot/survey/cases.py).
        await cases.open_case(session, services.settings, instrument, answers, centre_id=invitation.centre_id,
                              service_id=invitation.service_id, day=day, response_id=response.id)
    return "stored"


async def record_feedback_event(services: Services, event: dict) -> Outcome:
    """The OA webhook's ``user_feedback`` event (snake_case, ../shared/docs/platforms.md §B.4), its fields under
    ``message`` or at the top level (both shapes are reported), through `record_rating`."""
    body = event.get("message") if isinstance(event.get("message"), dict) else event
    feedbacks = body.get("feedbacks")
    return await record_rating(
        services, msg_id=body.get("msg_id"), tracking_id=body.get("tracking_id"), rate=body.get("rate"),
        note=body.get("note"), feedbacks=feedbacks if isinstance(feedbacks, list) else None,
        submitted_at=from_ms(body.get("submit_time") or event.get("timestamp")))
