"""What the Telegram webhook accepts, checked before python-telegram-bot sees it.

Telegram only sends well-formed updates, but anyone who learns the secret (or a misbehaving proxy) can send
anything. python-telegram-bot trusts the Update schema: a field of the wrong JSON type, a message without a chat or
a callback without a sender fails deep inside a handler, which would answer 500 and make Telegram redeliver the
same update forever. So the fields the bot uses are checked here, the update is cut down to those fields, and:
    * malformed JSON, JSON nested too deep, wrong types, missing required fields: "bad" (HTTP 400);
    * a well-formed update of a kind the bot does not handle (edited messages, channel posts, business messages,
      a callback from an inline message): "ignore" (HTTP 200, so Telegram does not redeliver it);
    * otherwise the cut-down update, for `Update.de_json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_ID = 2**53  # Telegram's ids fit in 52 bits; anything larger is not from Telegram
NOT_AN_UPDATE = "not a Telegram update"


@dataclass(frozen=True)
class Verdict:
    kind: str  # "bad", "ignore" or "update"
    reason: str = ""
    body: dict[str, Any] | None = None


def _int(value: Any) -> bool:
    return type(value) is int and abs(value) < MAX_ID


def _str(value: Any) -> bool:
    return type(value) is str


def _user(value: Any) -> bool:
    return (isinstance(value, dict) and _int(value.get("id")) and type(value.get("is_bot")) is bool
            and _str(value.get("first_name")) and (value.get("language_code") is None
                                                   or _str(value.get("language_code"))))


def _entity(value: Any) -> bool:
    return (isinstance(value, dict) and _str(value.get("type")) and _int(value.get("offset"))
            and _int(value.get("length")))


def _message(value: Any) -> dict[str, Any] | None:
    """The message cut down to what the bot reads, or None when a field it reads is missing or of the wrong type.

    A sticker, photo or voice message keeps no payload: without text it reaches the "not text" handler all the same.
    """
    if not (isinstance(value, dict) and _int(value.get("message_id")) and _int(value.get("date"))):
        return None
    chat = value.get("chat")
    if not (isinstance(chat, dict) and _int(chat.get("id")) and _str(chat.get("type"))):
        return None
    kept = {"message_id": value["message_id"], "date": value["date"],
            "chat": {"id": chat["id"], "type": chat["type"]}}
    if "from" in value:
        if not _user(value["from"]):
            return None
        kept["from"] = value["from"]
    if "text" in value:
        if not _str(value["text"]):
            return None
        kept["text"] = value["text"]
    if "entities" in value:
        if not (isinstance(value["entities"], list) and all(_entity(e) for e in value["entities"])):
            return None
        kept["entities"] = [{"type": e["type"], "offset": e["offset"], "length": e["length"]}
                            for e in value["entities"]]
    return kept


def check(raw: bytes) -> Verdict:
    """Decide what to do with one webhook body."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested deeper than the parser allows
        return Verdict("bad", NOT_AN_UPDATE)
    if not isinstance(body, dict) or not _int(body.get("update_id")):
        return Verdict("bad", NOT_AN_UPDATE)
    if "message" in body:
        message = _message(body["message"])
        if message is None:
            return Verdict("bad", NOT_AN_UPDATE)
        return Verdict("update", body={"update_id": body["update_id"], "message": message})
    if "callback_query" in body:
        query = body["callback_query"]
        if not (isinstance(query, dict) and _str(query.get("id")) and _user(query.get("from"))
                and (query.get("data") is None or _str(query.get("data")))):
            return Verdict("bad", NOT_AN_UPDATE)
        if "message" not in query:
            return Verdict("ignore")  # a press on an inline message: the bot sends none
        message = _message(query["message"])
        if message is None:
            return Verdict("bad", NOT_AN_UPDATE)
        kept = {"id": query["id"], "from": query["from"], "chat_instance": str(query.get("chat_instance", "")),
                "message": message}
        if query.get("data") is not None:
            kept["data"] = query["data"]
        return Verdict("update", body={"update_id": body["update_id"], "callback_query": kept})
    return Verdict("ignore")  # edited messages, channel posts, business messages...: never asked for
