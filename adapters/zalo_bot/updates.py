"""Zalo Bot updates as they arrive, by webhook or getUpdates: either top-level {event_name, message} (what real
deliveries look like) or wrapped in {ok, result} (what the docs show); both are accepted (platforms.md §C.1).

There is no update id: an update is known by ``event_name:message_id``, the key of the durable inbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TEXT = "message.text.received"
KINDS = {"message.image.received": "photo", "message.sticker.received": "sticker",
         "message.unsupported.received": "other"}  # the rest: ev.Unsupported with this kind


class BadUpdate(ValueError):
    """Not an update we can use (the webhook answers 400)."""


@dataclass(frozen=True)
class Update:
    event_name: str
    message_id: str
    chat_id: str
    chat_type: str  # PRIVATE or GROUP
    user_id: str
    is_bot: bool
    text: str | None
    raw: dict[str, Any]

    @property
    def key(self) -> str:
        """The inbox key: a redelivery of the same message has the same one."""
        return f"{self.event_name}:{self.message_id}"

    @property
    def private(self) -> bool:
        return self.chat_type.upper() != "GROUP" and not self.is_bot


def unwrap(body: Any) -> Any:
    """The update inside a {ok, result} envelope, or the body itself."""
    if isinstance(body, dict) and "event_name" not in body and isinstance(body.get("result"), dict):
        return body["result"]
    return body


def parse(body: Any) -> Update:
    """The update in ``body`` (a decoded JSON value, either envelope); raises BadUpdate."""
    body = unwrap(body)
    if not isinstance(body, dict):
        raise BadUpdate("an update is a JSON object")
    event, message = body.get("event_name"), body.get("message")
    if not isinstance(event, str) or not event or not isinstance(message, dict):
        raise BadUpdate("an update has event_name and message")
    chat, sender = message.get("chat"), message.get("from") or {}
    message_id = message.get("message_id")
    if not isinstance(chat, dict) or not _id(chat.get("id")) or not _id(message_id):
        raise BadUpdate("a message has message_id and chat.id")
    if not isinstance(sender, dict):
        raise BadUpdate("message.from is an object")
    text = message.get("text")
    return Update(event, str(message_id), str(chat["id"]), str(chat.get("chat_type") or "PRIVATE"),
                  str(sender.get("id") or chat["id"]), sender.get("is_bot") is True,
                  text if isinstance(text, str) else None, body)


def parse_bytes(raw: bytes) -> Update:
    """A webhook body; raises BadUpdate for anything but a JSON update."""
    try:
        return parse(json.loads(raw))
    except (ValueError, UnicodeDecodeError) as error:
        if isinstance(error, BadUpdate):
            raise
        raise BadUpdate("the body is not JSON") from None


def stored(update: Update) -> str:
    """The inbox body of an update (its unwrapped JSON)."""
    return json.dumps(update.raw, ensure_ascii=False, separators=(",", ":"))


def _id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != ""
