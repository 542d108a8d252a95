"""The OA webhook events we act on, read from their JSON (../shared/docs/platforms.md §A.4, §B.4): who sent it,
its de-duplication key, and the rating of a `user_feedback`. Ids are kept as strings (they exceed 2^53)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A citizen's message that is not text: a polite note and the question again.
UNSUPPORTED = {"user_send_image": "image", "user_send_file": "file", "user_send_sticker": "sticker",
               "user_send_gif": "gif", "user_send_audio": "audio", "user_send_video": "video",
               "user_send_link": "link", "user_send_location": "location",
               "user_send_business_card": "business_card"}
GREETINGS = frozenset({"follow", "user_click_chatnow"})  # ask for the code on the receipt
ACTED = frozenset({"user_send_text", "unfollow", "user_feedback", *GREETINGS, *UNSUPPORTED})
# Where each event keeps its user: follow/unfollow in `follower`, user_click_chatnow flat, messages in `sender`.
_USER_PATHS = {"follow": (("follower", "id"), ("user_id",)), "unfollow": (("follower", "id"), ("user_id",)),
               "user_click_chatnow": (("user_id",), ("sender", "id")),
               "user_feedback": (("sender", "id"), ("user_id",))}
_MESSAGE_USER = (("sender", "id"),)


def user_of(body: dict) -> str | None:
    """The Zalo user id of the citizen behind the event, or None (a ZNS rating may name nobody)."""
    for path in _USER_PATHS.get(body.get("event_name"), _MESSAGE_USER):
        value: Any = body
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def msg_id_of(body: dict) -> str | None:
    message = body.get("message")
    value = message.get("msg_id") if isinstance(message, dict) else body.get("msg_id")
    return str(value) if isinstance(value, str | int) and str(value) else None


def event_key(body: dict) -> str:
    """What makes a redelivery the same event: the message's id, else event name + user + timestamp."""
    return msg_id_of(body) or f"{body.get('event_name')}:{user_of(body) or ''}:{body.get('timestamp')}"


def text_of(body: dict) -> str:
    message = body.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    return text if isinstance(text, str) else ""


@dataclass(frozen=True)
class Feedback:
    """A citizen's answer to a ZNS "service rating" template (`user_feedback`): 1-5 stars, the quick-feedback tags
    picked, a note. ``msg_id`` is the ZNS message's id, ``tracking_id`` ours (the invitation's id)."""

    msg_id: str | None
    tracking_id: str | None
    rate: int | None
    note: str
    feedbacks: tuple[str, ...]
    submitted_ms: int | None
    user_id: str | None
    oa_id: str | None


def parse_feedback(body: dict) -> Feedback:
    """The rating in a `user_feedback` event, nested in `message` or flat (both are seen, §B.4)."""
    fields = body.get("message") if isinstance(body.get("message"), dict) else body
    tags = fields.get("feedbacks")
    return Feedback(
        msg_id=msg_id_of(body), tracking_id=_text(fields.get("tracking_id")), rate=_rate(fields.get("rate")),
        note=_text(fields.get("note")) or "",
        feedbacks=tuple(str(t) for t in tags if isinstance(t, str | int)) if isinstance(tags, list) else (),
        submitted_ms=_int(fields.get("submit_time")), user_id=user_of(body), oa_id=_text(body.get("oa_id")))


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _rate(value: Any) -> int | None:
    number = _int(value)
    return number if number is not None and 1 <= number <= 5 else None
