"""The `sipas-bot` command line.

`SipasGroup.invoke` and `run` are the one error boundary: a `UserError`, a broken instrument, a bad setting, a
path that does not exist or cannot be written and a database that cannot be reached each become one line in the
admin language (SIPAS_ADMIN_LANGUAGE, Vietnamese by default) with exit code 1, never a traceback; anything else is
a bug, said in one line that names the log file holding its traceback (`bot.cli.mistakes`). Each command module
below registers its commands on `cli`.

Start-up time matters here (people type these commands), so this module and the command modules import only
click at import time; the settings, the database, pandas, matplotlib and the chat libraries load inside the
commands that need them (`bench/cli_startup.py` measures it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

T = TypeVar("T")


def admin_language(settings: object = None) -> str:
    """The admin CLI's language: the settings' when they were read, else the environment's, else Vietnamese."""
    from bot.texts import language_of

    language = getattr(settings, "admin_language", None) or os.environ.get("SIPAS_ADMIN_LANGUAGE", "").strip()
    return language_of(language.lower())


def say(name: str, /, **values: object) -> str:
    """A text of the admin catalogue in the admin language of the running command."""
    from bot.texts import say as catalogue_say

    context = click.get_current_context(silent=True)
    return catalogue_say(name, admin_language(context.find_root().obj if context else None), **values)


def number(value: int) -> str:
    """A whole number with the admin language's thousands separator (1.234 in Vietnamese, 1,234 in English)."""
    from bot.errors import grouped

    context = click.get_current_context(silent=True)
    return grouped(value, admin_language(context.find_root().obj if context else None))


class AdminError(click.ClickException):
    """A mistake, shown as "Lỗi: ..." or "Error: ..." in the admin language."""

    def __init__(self, message: str, language: str) -> None:
        super().__init__(message)
        self.language = language

    def show(self, file=None) -> None:
        from bot.texts import say as catalogue_say

        click.echo(catalogue_say("admin.error", self.language, message=self.format_message()), err=True,
                   file=file)


class SipasGroup(click.Group):
    def invoke(self, ctx: click.Context):
        from bot.errors import UserError
        from surveys.loader import InstrumentError

        try:
            return super().invoke(ctx)
        except UserError as error:
            language = admin_language(ctx.obj)
            raise AdminError(error.text(language), language) from error
        except InstrumentError as error:
            raise AdminError(str(error), admin_language(ctx.obj)) from error
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if isinstance(error, BrokenPipeError) and stdout_closed():
                raise  # `sipas-bot centre list | head -1`: run() ends quietly, this is no database error
            raise _explained(error, ctx.obj) from error


def _explained(error: Exception, settings: object) -> AdminError:
    """The one line for an error no command turned into a `UserError`: a path, the database, or a bug."""
    from bot.cli import mistakes
    from bot.config import Settings

    settings = settings if isinstance(settings, Settings) else None
    language = admin_language(settings)
    message = mistakes.explain(error, settings, language)
    if message is None:
        from bot.texts import say as catalogue_say

        message = catalogue_say("admin.bug", language, kind=type(error).__name__,
                                log=mistakes.log_bug(error, settings))
    return AdminError(message, language)


@click.group(cls=SipasGroup)
@click.version_option(package_name="sipas-bot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """sipas-bot: citizen-satisfaction (SIPAS) surveys for public service centres."""
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        ctx.obj = Settings()
    except ValidationError as error:
        from bot.cli.mistakes import bad_settings

        raise bad_settings(error, admin_language()) from None


def with_services(settings: Settings, work: Callable[[Services], Awaitable[T]], *, migrate: bool = True,
                  instruments: bool = True) -> T:
    """Run ``work`` with the composed services (database up to date) in a fresh event loop. The reference-data
    commands pass ``instruments=False``: parsing the instrument files was a quarter of their start-up time."""
    import asyncio

    from bot.services import open_services

    async def runner() -> T:
        async with open_services(settings, migrate=migrate, instruments=instruments) as services:
            return await work(services)

    return asyncio.run(runner())


def run(args: list[str] | None = None) -> int:
    """Run the command line on ``args`` (default: the process's) and return its exit code: 0, or 1 with a
    message on stderr for every mistake, a usage mistake included, never a traceback."""
    try:
        code = cli.main(args=args, prog_name="sipas-bot", standalone_mode=False)
    except click.UsageError as error:  # one line too: the mistake, then where the command's help is
        from bot.texts import say as catalogue_say

        language = admin_language(error.ctx.find_root().obj if error.ctx else None)
        path = error.ctx.command_path if error.ctx else "sipas-bot"
        click.echo(catalogue_say("admin.error", language, message=catalogue_say(
            "admin.usage", language, message=error.format_message(), help=f"{path} --help")), err=True)
        return 1
    except click.ClickException as error:
        error.show()
        return 1
    except click.Abort:
        from bot.texts import say as catalogue_say

        click.echo(catalogue_say("admin.aborted", admin_language()), err=True)
        return 1
    except BrokenPipeError as error:
        if stdout_closed():
            return _closed_pipe()
        _explained(error, None).show()
        return 1
    except SystemExit as exit_:  # `try` ends with sys.exit(1) when the survey was not completed
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    except Exception as error:  # raised outside a command (parsing the group's own options): still one line
        _explained(error, None).show()
        return 1
    return code if isinstance(code, int) else 0


def stdout_closed() -> bool:
    """Whether whoever read our standard output has gone (`| head -1` took its line and left): the pipe's write
    end then reports an error. A broken pipe elsewhere (a database socket) is not this."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), or stdout is no file (tests)
        return False


def _closed_pipe() -> int:
    """Nothing to say and nobody to say it to: exit 1 without a word, as click does in its standalone mode."""
    import contextlib

    # Python flushes stdout again at exit and would print a BrokenPipeError: let that flush go to /dev/null.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1


def main() -> None:
    code = run()
    try:  # what `print` left in the buffer leaves now, while a closed pipe can still be told apart
        sys.stdout.flush()
    except BrokenPipeError:
        code = _closed_pipe()
    sys.exit(code)


# Command modules register themselves on `cli` when imported.
from bot.cli import admin, apikey, case, dashboard, data, invite, outbox, report, survey, target, zalo  # noqa: E402, F401
