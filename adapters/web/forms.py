"""Reading what a page's form posted, with a size limit, and turning it into one engine event.

Every form carries its CSRF token (``csrf``) and a nonce (``n``) made when the page was drawn: the nonce is the
event key, so the same form posted twice (a double tap, a reload of the POST) is applied once. A question's form
also names its question (``q``), so a form from an older page is refused instead of answering the current question.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from aiohttp import web

from surveys import events as ev

MAX_BODY = 16 * 1024  # a 1,000-character Vietnamese comment is under 10 KB once form-encoded
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class FormError(Exception):
    """A post we cannot read: its status and the web catalogue's text to show."""

    def __init__(self, status: int, text_key: str) -> None:
        super().__init__(text_key)
        self.status, self.text_key = status, text_key


@dataclass(frozen=True)
class Posted:
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")

    @property
    def event_key(self) -> str | None:
        nonce = self.get("n")
        return f"web:{nonce}" if _NONCE.match(nonce) else None


def new_nonce() -> str:
    return secrets.token_hex(16)


async def read_form(request: web.Request) -> Posted:
    """The posted fields (the first value of each), or FormError: too large, not a form, not UTF-8."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise FormError(413, "web.too_large")
    if request.content_type != "application/x-www-form-urlencoded":
        raise FormError(415 if request.content_type not in _FORM_TYPES else 400, "web.bad_form")
    body = await request.content.read(MAX_BODY + 1)  # a chunked body has no length to check first
    if len(body) > MAX_BODY:
        raise FormError(413, "web.too_large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "web.bad_form") from None
    return Posted({name: values[0] for name, values in parsed.items()})


def event_of(posted: Posted) -> ev.Event | str | None:
    """The event a question page's form stands for; a web text key when the citizen must first do something
    (choose an option); None when the form is not one we drew."""
    match posted.get("do"):
        case "answer":
            if "text" in posted.fields:  # only a comment question's form has the box
                text = posted.get("text")
                return ev.Text(text) if text.strip() else ev.Skip()  # no comment: the engine refuses if required
            choice = posted.get("choice")
            if not choice:
                return "web.choose_one"
            return ev.NotApplicable() if choice == "NA" else ev.Choose(choice)
        case "skip":
            return ev.Skip()
        case "back":
            return ev.Back()
        case "cancel":
            return ev.Cancel()
        case "yes":
            return ev.Cancel(confirmed=True)
        case "no":
            return ev.Resume()
        case "lang":
            language = posted.get("lang")
            return ev.SetLanguage(language) if language in ("vi", "en") else None
    return None
