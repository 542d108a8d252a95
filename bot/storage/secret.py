"""The secret key behind every keyed hash (invitation tokens, short codes, chat ids)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bot.config import Settings
from bot.errors import UserError

KEY_FILE = "secret.key"


def load_secret_key(settings: Settings, *, embedded: bool) -> bytes:
    """The configured key, or on the embedded default the one kept in the data dir (created on first use)."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value().strip()
        if len(value) < 32:
            raise UserError.say("admin.secret_short")
        return value.encode("utf-8")
    if not embedded:
        raise UserError.say("admin.secret_needed")
    path = Path(settings.data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode("ascii")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one ``purpose`` ("token", "code", "chat"), as 64 hex characters."""
    return hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()
