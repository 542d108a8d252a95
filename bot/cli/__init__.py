"""The `sipas-bot` command line.

`SipasGroup.invoke` is the one error boundary: a `UserError` or a broken instrument becomes a clear message with
exit code 1, never a traceback. Each command module below registers its commands on `cli`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from bot.config import Settings
from bot.errors import UserError
from bot.services import Services, open_services
from surveys.loader import InstrumentError

T = TypeVar("T")


class SipasGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (InstrumentError, UserError) as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=SipasGroup)
@click.version_option(package_name="sipas-bot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """sipas-bot: citizen-satisfaction (SIPAS) surveys for public service centres."""
    ctx.obj = Settings()


def with_services(settings: Settings, work: Callable[[Services], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run ``work`` with the composed services (database up to date) in a fresh event loop."""

    async def runner() -> T:
        async with open_services(settings, migrate=migrate) as services:
            return await work(services)

    return asyncio.run(runner())


def main() -> None:
    # Bad input of any kind (a usage mistake included) exits 1 with the message, never a traceback.
    try:
        code = cli.main(prog_name="sipas-bot", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        sys.exit(1)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


# Command modules register themselves on `cli` when imported.
from bot.cli import admin, data, invite, report, survey  # noqa: E402, F401
