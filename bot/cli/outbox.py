"""`sipas-bot outbox list`: the messages the outbox still holds (bot/survey/outbox.py), waiting to be sent or
given up, so an admin sees what did not reach its chat or phone and why. A phone number (platform "zns") is shown
masked (84912***678); staff chat ids are shown as they are. Message texts are not shown."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from bot.cli import cli, number, say, with_services

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

PHONE_PLATFORMS = ("zns",)


@cli.group("outbox")
def outbox_group() -> None:
    """The outbox of alerts and ZNS invitations."""


@outbox_group.command("list")
@click.pass_obj
def outbox_list(settings: Settings) -> None:
    """List the messages waiting to be sent or given up: platform, recipient, attempts, next attempt, error."""
    rows = with_services(settings, _rows, instruments=False)
    if not rows:
        click.echo(say("admin.outbox_empty"))
        return
    click.echo(say("admin.outbox_header", count=number(len(rows))))
    click.echo(say("admin.outbox_columns"))
    for platform, recipient, attempts, next_at, error, failed in rows:
        state = say("admin.outbox_failed" if failed else "admin.outbox_waiting")
        when = "–" if failed else _when(next_at) if next_at else say("admin.outbox_new")
        click.echo(f"{platform:<9} {recipient:<17} {attempts:>7}  {when:<21} {state:<11} {error or '–'}")


async def _rows(services: Services) -> list[tuple]:
    from sqlalchemy import select

    from bot.storage.models import OutboxMessage
    from bot.zalo.phones import mask_phone

    async with services.db.reading() as session:
        found = (await session.execute(select(
            OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.attempts, OutboxMessage.next_attempt_at,
            OutboxMessage.last_error, OutboxMessage.failed).order_by(
            OutboxMessage.failed.desc(), OutboxMessage.platform, OutboxMessage.next_attempt_at))).all()
    return [(platform, mask_phone(chat) if platform in PHONE_PLATFORMS and "***" not in chat else chat, attempts,
             next_at, error, bool(failed)) for platform, chat, attempts, next_at, error, failed in found]


def _when(moment: dt.datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") + "Z"
