"""Logs carry no secret and nothing about a citizen, at any level.

`install(settings, secret_key)` (once, at start-up) puts a `Redactor` on the root logger's handlers. It rewrites each
record's final text (message, arguments, traceback) before any handler writes it:
    * known secret values: the bot token, the webhook secret, the database password, the secret key;
    * the shape of a bot token (``123456:AA...``) and of ``/bot<anything>/`` in URLs (httpx logs every URL);
    * citizens' data in the libraries' debug output of updates and API calls: what follows ``/start``, invitation
      tokens (32 URL-safe characters) and short codes, message texts, and chat and user ids;
    * the values of SQL statements and the rows read, as SQLAlchemy's and aiosqlite's loggers show them.
Our own log lines name a chat only by `chat_ref`, a hash keyed with the secret key: a bare SHA-256 of a chat id
can be reversed by trying every plausible id.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets

from sqlalchemy.engine import make_url

from bot.config import Settings

_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")
_BOT_PATH = re.compile(r"/bot[^/\s'\"]+/")
_START = re.compile(r"/start(?:@\w+)?(\s+|=)[^\s'\"\\]+")
_INVITATION_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])")
_SHORT_CODE = re.compile(r"(?<![A-Za-z0-9])[A-HJKMNP-Z2-9]{4}[\s.\-_/]?[A-HJKMNP-Z2-9]{4}(?![A-Za-z0-9])")
# text='...', 'text': '...', "text": "..." (reprs, dicts and JSON of updates and API calls), and ids.
_QUOTED = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_TEXT_FIELD = re.compile(r"""(['"]?\b(?:text|caption|data|query|first_name|last_name|username|title)['"]?\s*[:=]\s*)"""
                         + _QUOTED)
_ID_FIELD = re.compile(r"""(['"]?\b(?:id|chat_id|user_id|from_chat_id)['"]?\s*[:=]\s*)['"]?-?\d+['"]?""")
REDACTED = "[redacted]"
# SQLAlchemy's engine logs the parameters of every statement and the rows it reads (a comment, an alert);
# aiosqlite logs each call with its arguments.
_SQL_VALUES = re.compile(r"^(\[[^\]]*\]|Row) .*", re.DOTALL)
_CALL_ARGS = re.compile(r"functools\.partial\(.*\)", re.DOTALL)

_key = secrets.token_bytes(32)  # until install(): still keyed, just not stable across processes


def chat_ref(platform: str, chat_id: int | str) -> str:
    """How a log line names a chat: stable within a deployment, useless without the secret key."""
    return hmac.new(_key, f"log-chat:{platform}:{chat_id}".encode(), hashlib.sha256).hexdigest()[:12]


def redact(text: str, known: tuple[str, ...] = ()) -> str:
    """``text`` without the known secret values and the shapes above."""
    for value in known:
        text = text.replace(value, REDACTED)
    text = _BOT_PATH.sub("/bot[redacted]/", text)
    text = _TOKEN_SHAPE.sub(REDACTED, text)
    text = _TEXT_FIELD.sub(lambda m: m.group(1) + "'[redacted]'", text)
    text = _START.sub(lambda m: "/start" + m.group(1) + REDACTED, text)
    text = _ID_FIELD.sub(lambda m: m.group(1) + REDACTED, text)
    text = _INVITATION_TOKEN.sub(REDACTED, text)
    return _SHORT_CODE.sub(REDACTED, text)


class Redactor(logging.Filter):
    """A handler filter: formats the record once, redacted, so no handler can print the original."""

    def __init__(self, known: tuple[str, ...] = ()) -> None:
        super().__init__()
        # Longest first, so a value that contains another is removed whole.
        self.known = tuple(sorted({v for v in known if v and len(v) >= 4}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_sipas_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, still redacted
            message = f"{record.msg} {record.args}"
        if record.name.startswith("sqlalchemy.engine"):
            message = _SQL_VALUES.sub(lambda m: m.group(1) + " " + REDACTED, message)
        elif record.name.startswith("aiosqlite"):
            message = _CALL_ARGS.sub("functools.partial(" + REDACTED + ")", message)
        record.msg, record.args = redact(message, self.known), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.known)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.known)
        record._sipas_redacted = True
        return True


def secret_values(settings: Settings, secret_key: bytes) -> tuple[str, ...]:
    values = [secret.get_secret_value() for secret in
              (settings.telegram_token, settings.telegram_webhook_secret, settings.secret_key) if secret is not None]
    values.append(secret_key.decode("utf-8", "replace"))
    if settings.database_url:
        password = make_url(settings.database_url).password
        if password:
            values.append(str(password))
    return tuple(values)


def install(settings: Settings, secret_key: bytes, logger: logging.Logger | None = None) -> Redactor:
    """Key `chat_ref` with the secret key and put a `Redactor` on every handler of ``logger`` (the root), replacing
    one installed before. Call it after the handlers are set up (logging.basicConfig)."""
    global _key
    _key = hmac.new(secret_key, b"log-chat-key", hashlib.sha256).digest()
    redactor = Redactor(secret_values(settings, secret_key))
    handlers = list((logger or logging.getLogger()).handlers)
    if logger is None and logging.lastResort is not None:
        handlers.append(logging.lastResort)  # what prints warnings when no handler was configured
    for handler in handlers:
        for old in [f for f in handler.filters if isinstance(f, Redactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
