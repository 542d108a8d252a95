"""What the CLI boundary (`bot.cli`) says for the mistakes that are not a `UserError`: a bad SIPAS_ setting, a
path that does not exist or cannot be written, a database that cannot be reached, and a bug. Each becomes one line
in the admin language; a bug's traceback goes to a log file, never to the terminal.

Nothing here prints a database URL with its password, nor a secret setting's value.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import socket
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.counters import BUG_LOG
from bot.errors import UserError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from bot.config import Settings

# The settings whose expected form is not in their type.
_EXPECTED_BY_NAME = {"timezone": "admin.expect_timezone", "database_url": "admin.expect_database_url"}


def _say(name: str, language: str, **values: object) -> str:
    from bot.texts import say

    return say(name, language, **values)


def _expected(name: str, error: dict[str, Any], language: str) -> str:
    """The expected form of setting ``name`` from its type and bounds (``SIPAS_PORT``: a whole number 1-65535)."""
    import typing

    from bot.config import Settings

    if name in _EXPECTED_BY_NAME:
        return _say(_EXPECTED_BY_NAME[name], language)
    field = Settings.model_fields.get(name)
    if field is None:
        return error.get("msg", "")
    if typing.get_origin(field.annotation) is typing.Literal:
        return _say("admin.expect_one_of", language, choices=", ".join(map(str, typing.get_args(field.annotation))))
    kinds = {a for a in typing.get_args(field.annotation) or (field.annotation,) if a is not type(None)}
    if bool in kinds:
        return _say("admin.expect_bool", language)
    if not kinds & {int, float}:
        return error.get("msg", "")
    kind = _say("admin.expect_whole" if int in kinds else "admin.expect_number", language)
    bounds: dict[str, object] = {}
    for rule in field.metadata:
        for bound in ("ge", "gt", "le"):
            if getattr(rule, bound, None) is not None:
                bounds[bound] = getattr(rule, bound)
    if "ge" in bounds and "le" in bounds:
        return _say("admin.expect_between", language, kind=kind, low=bounds["ge"], high=bounds["le"])
    if "gt" in bounds:
        return _say("admin.expect_above", language, kind=kind, low=bounds["gt"])
    if "ge" in bounds:
        return _say("admin.expect_at_least", language, kind=kind, low=bounds["ge"])
    return kind


def bad_settings(error: ValidationError, language: str) -> UserError:
    """One line for every bad SIPAS_ setting: its name, the value given (not for secrets) and the expected form."""
    from pydantic import SecretStr

    from bot.config import Settings, shown_url

    problems = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem.get("loc") else ""
        field = Settings.model_fields.get(name)
        given = problem.get("input")
        secret = field is not None and SecretStr in {field.annotation, *getattr(field.annotation, "__args__", ())}
        if name == "database_url" and isinstance(given, str):
            given = shown_url(given)
        shown = "" if secret or not isinstance(given, str | int | float) else f"={given!s}"
        problems.append(_say("admin.bad_setting", language, setting=f"SIPAS_{name.upper()}{shown}",
                             expected=_expected(name, problem, language)))
    return UserError.say("admin.bad_settings", problems="; ".join(problems))


def _path_of(error: OSError) -> str | None:
    return str(error.filename) if error.filename not in (None, "") else None


def _database_password(settings: Settings | None) -> str | None:
    if settings is None or not settings.database_url:
        return None
    from sqlalchemy.engine import make_url

    password = make_url(settings.database_url).password
    return str(password) if password else None


def _reason(error: BaseException, settings: Settings | None) -> str:
    """``error``'s text without the database password (drivers may quote the URL or the DSN)."""
    text = str(getattr(error, "orig", None) or error) or type(error).__name__
    if password := _database_password(settings):
        text = text.replace(password, "***")
    return text.splitlines()[0] if text.strip() else type(error).__name__


# SQLSTATE classes of a database that cannot be used at all: connection, authorisation, no such database, too
# many connections, shutting down.
_CONNECT_STATES = ("08", "28", "3D", "53", "57")


def _is_database_error(error: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        state = str(getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or "")
        return state[:2] in _CONNECT_STATES
    if type(error).__module__.split(".")[0] == "asyncpg":  # raised on connect (bad password, no such database)
        return True
    # A refused or timed-out connection, a host that does not resolve: the database is the CLI's only peer.
    return isinstance(error, ConnectionError | socket.gaierror | TimeoutError) and _path_of(error) is None


def _is_damaged_file(error: BaseException) -> bool:
    """SQLite's answer for a file that is not a database (another file at its name, a damaged copy)."""
    from sqlalchemy.exc import DatabaseError

    orig = getattr(error, "orig", None)
    return isinstance(error, DatabaseError) and type(orig).__module__.startswith("sqlite3") and \
        any(words in str(orig) for words in ("file is not a database", "database disk image is malformed"))


def explain(error: BaseException, settings: Settings | None, language: str) -> str | None:
    """The one line for an OS error on a path or a database that cannot be reached; None for anything else."""
    if isinstance(error, OSError) and _path_of(error) is not None:
        path = _path_of(error)
        name = {errno.ENOENT: "admin.os_missing", errno.ENOTDIR: "admin.os_not_folder",
                errno.EISDIR: "admin.os_is_folder",
                errno.EEXIST: "admin.os_exists", errno.EACCES: "admin.os_denied", errno.EPERM: "admin.os_denied",
                errno.EROFS: "admin.os_denied", errno.ENOSPC: "admin.os_full"}.get(error.errno or 0, "admin.os_other")
        return _say(name, language, path=path, reason=error.strerror or error)
    url = settings.database_url_shown if settings is not None else "SIPAS_DATABASE_URL"
    if _is_damaged_file(error):
        return _say("admin.db_not_database", language, url=url, reason=_reason(error, settings))
    if _is_database_error(error):
        return _say("admin.db_unreachable", language, url=url, reason=_reason(error, settings))
    if isinstance(error, ModuleNotFoundError):
        return _say("admin.missing_package", language, package=error.name or str(error))
    return None


def log_bug(error: BaseException, settings: Settings | None) -> Path:
    """Append ``error``'s traceback (secrets and citizens' data redacted) to the data folder's errors.log, or to
    the temporary folder's when the data folder cannot take it; returns the file written."""
    from bot import logs

    known: list[str] = []
    if settings is not None:
        known = [s.get_secret_value() for s in (settings.telegram_token, settings.telegram_webhook_secret,
                                                settings.secret_key) if s is not None]
        known.append(_database_password(settings) or "")
    text = logs.redact("".join(traceback.format_exception(error)), tuple(k for k in known if len(k) >= 4))
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    folders = [settings.data_dir] if settings is not None else []
    for folder in [*folders, Path(tempfile.gettempdir())]:
        target = Path(folder) / BUG_LOG
        try:
            # On PostgreSQL nothing else may have made the data folder yet: a bug still belongs there.
            Path(folder).mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as log:
                log.write(f"--- {stamp} sipas-bot {os.getpid()}\n{text}\n")
            return target.resolve()
        except OSError:
            continue
    return Path(tempfile.gettempdir()) / BUG_LOG


def check_writable(path: Path, option: str) -> None:
    """Refuse, before any work, an output file whose folder does not exist or cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError.say("admin.output_no_folder", folder=folder, option=option)
    if path.is_dir():
        raise UserError.say("admin.os_is_folder", path=path)
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError.say("admin.output_denied", path=path, option=option)
