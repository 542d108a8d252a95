"""Records, errors and wire helpers for the fake Telegram Bot API server in ``tests/fake_telegram.py``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any

from aiohttp import web

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message")
WEBHOOK_CONFLICT = ("Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                    "webhook first")
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
BLOCKED = "Forbidden: bot was blocked by the user"

# PTB sends str values verbatim (RequestParameter.json_value) and JSON-encodes everything else, so a str-typed
# parameter must never be json-decoded: text "123" would otherwise turn into an int.
STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "url", "secret_token", "callback_query_id", "action", "inline_message_id",
    "language_code", "ip_address", "business_connection_id", "message_effect_id", "file_id", "photo", "document",
    "voice", "sticker", "audio", "video", "animation", "emoji", "description", "short_description", "name",
})
HTML_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code",
                       "pre", "blockquote", "tg-emoji"})
MARKDOWN_V2_RESERVED = re.compile(r"(?<!\\)[.!\-=+#{}>]")


class ApiError(Exception):
    """A Bot API error reply: HTTP status, ``description`` and optional ``parameters`` (e.g. ``retry_after``)."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram sends with this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's ``Bad Request: ...`` description."""
    return ApiError(400, f"Bad Request: {detail}")


def injected_error(status: int, retry_after: int | None, description: str | None) -> ApiError:
    """The error ``FakeTelegram.fail_next`` makes a call return."""
    if status == 429 and retry_after is None:
        retry_after = 1
    default = {429: f"Too Many Requests: retry after {retry_after}", 403: BLOCKED}.get(status)
    if default is None:
        try:
            default = HTTPStatus(status).phrase
        except ValueError:
            default = "Error"
    return ApiError(status, description or default, {"retry_after": retry_after} if retry_after else None)


@dataclass
class UploadedFile:
    """One multipart file part as the fake received it (``method``/``chat_id``/``caption`` filled for sends)."""

    field: str
    filename: str | None
    content_type: str
    data: bytes
    method: str = ""
    chat_id: int | str | None = None
    caption: str | None = None
    file_id: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass
class Call:
    """One Bot API request: ``status`` is the HTTP status returned, ``injected`` marks a ``fail_next`` fault."""

    method: str
    params: dict[str, Any]
    time: float
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    result: Any = None
    error: str | None = None
    injected: bool = False
    held: bool = False  # the call hung on a `hold` (the process may have died waiting)

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status == 200


def keyboard_of(message: dict[str, Any] | None) -> list[list[tuple[str, str | None]]]:
    """The inline keyboard of a Message JSON as rows of ``(text, callback_data)``; ``[]`` if none."""
    rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard") or []
    return [[(button.get("text", ""), button.get("callback_data")) for button in row] for row in rows]


@dataclass
class Entry:
    """One transcript line: a bot message (as it is now), a user message, or a button press."""

    kind: str  # "bot", "user" or "press"
    chat_id: int
    message: dict[str, Any]  # current Message JSON; for "press", the message as it was when pressed
    time: float
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions of an edited bot message
    deleted: bool = False
    callback_data: str | None = None
    callback_query_id: str | None = None
    answer: dict[str, Any] | None = None  # answerCallbackQuery params, once the bot answered this press

    @property
    def message_id(self) -> int:
        """The message id (for a press: the pressed message's id)."""
        return self.message["message_id"]

    @property
    def text(self) -> str | None:
        """Text, or caption for media messages (HTML rendered to plain text, as Telegram returns it)."""
        return self.message.get("text", self.message.get("caption"))

    @property
    def keyboard(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of ``(text, callback_data)``."""
        return keyboard_of(self.message)

    @property
    def texts(self) -> list[str | None]:
        """Every version of the text, oldest first (the last one is the current text)."""
        return [m.get("text", m.get("caption")) for m in [*self.history, self.message]]

    def describe(self) -> str:
        """One readable line for failure messages."""
        if self.kind == "press":
            return f"press   #{self.message_id} {self.callback_data!r} answered={self.answer is not None}"
        flags = (" (deleted)" if self.deleted else "") + (f" (edited x{len(self.history)})" if self.history else "")
        keyboard = f" {self.keyboard}" if self.keyboard else ""
        return f"{self.kind:<7} #{self.message_id} {self.text!r}{keyboard}{flags}"


@dataclass
class Delivery:
    """An update handed to the bot: ``via`` "webhook" (a POST) or "poll" (a getUpdates result).

    Times are ``time.monotonic()``. ``reply_at`` is when the bot's next reply for that chat (sendMessage,
    editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendPhoto, sendDocument) arrived.
    """

    update_id: int
    chat_id: int | None
    via: str
    sent_at: float
    secret: str | None = None
    status: int | None = None
    responded_at: float | None = None
    error: str | None = None
    reply_at: float | None = None
    reply_method: str | None = None

    @property
    def response_time(self) -> float | None:
        """Seconds from POST to the webhook's HTTP response."""
        return None if self.responded_at is None else self.responded_at - self.sent_at

    @property
    def reply_latency(self) -> float | None:
        """Seconds from POST (or getUpdates reply) to the bot's next reply in that chat."""
        return None if self.reply_at is None else self.reply_at - self.sent_at


def decode_param(name: str, value: str) -> Any:
    """Undo PTB's per-value JSON encoding (see ``STRING_PARAMS``)."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters from the query string plus a form, multipart or JSON body; uploaded files separately."""
    params = {k: decode_param(k, v) for k, v in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        if request.can_read_body:
            params.update(await request.json())
        return params, files
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            with value.file as handle:
                files[key] = UploadedFile(key, value.filename, value.content_type, handle.read())
        else:
            params[key] = decode_param(key, value)
    return params, files


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise bad_request(f'can\'t parse entities: Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def render(text: str, parse_mode: str | None) -> str:
    """Validate ``text`` for ``parse_mode`` like Telegram does and return the plain text Telegram stores.

    HTML is checked (known tags, balanced, no bare ``<``/``&``) and rendered; MarkdownV2 is only checked for
    unescaped reserved characters outside formatting and returned as sent; other modes pass through.
    """
    mode = (parse_mode or "").lower()
    if mode == "html":
        if re.search(r"<(?![a-zA-Z/])", text) or re.search(r"&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)", text):
            raise bad_request("can't parse entities: Unsupported start tag or unescaped character")
        parser = _HtmlText()
        parser.feed(text)
        parser.close()
        if parser.open:
            tag = parser.open[-1]
            raise bad_request(f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{tag}"')
        return "".join(parser.parts)
    if mode == "markdownv2":
        plain = re.sub(r"```.*?```|`[^`]*`|\]\([^)]*\)", "", text, flags=re.DOTALL)
        plain = re.sub(r"(?m)^\*{0,2}>", "", plain)  # blockquote markers
        if match := MARKDOWN_V2_RESERVED.search(plain):
            raise bad_request(f"can't parse entities: Character '{match.group()}' is reserved and must be escaped "
                              "with the preceding '\\'")
    return text


def check_text(text: Any, *, caption: bool = False) -> str:
    """Telegram's emptiness and length checks for message text (or a caption)."""
    if caption:
        if text is not None and len(str(text)) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return "" if text is None else str(text)
    if text is None or not str(text).strip():
        raise bad_request("message text is empty")
    if len(str(text)) > MAX_TEXT:
        raise bad_request("message is too long")
    return str(text)


def check_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup; return the inline keyboard markup that Telegram echoes in the Message, if any."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif len(button) < 2:
                raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline "
                                  "keyboard")
    return {"inline_keyboard": markup["inline_keyboard"]}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def update_chat_id(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (message or callback_query.message)."""
    if "message" in update:
        return update["message"]["chat"]["id"]
    message = update.get("callback_query", {}).get("message")
    return message["chat"]["id"] if message else None


def update_type(update: dict[str, Any]) -> str:
    """The update's type, e.g. "message" or "callback_query"."""
    return next(key for key in update if key != "update_id")
