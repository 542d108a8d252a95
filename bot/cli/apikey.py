"""`sipas-bot apikey`: keys of the HTTP API (`/api/v1`); a key is printed once and only its hash is stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services


@cli.group()
def apikey() -> None:
    """Keys of the HTTP API: admin (every centre), staff and viewer (one centre)."""


@apikey.command("create")
@click.option("--role", required=True, metavar="admin|staff|viewer|head", help="admin sees every centre; staff and "
              "viewer one centre (--centre); head: a centre's staff key that also sees sensitive follow-up cases.")
@click.option("--centre", "centre_code", help="The centre's code (staff and viewer keys; not for admin keys).")
@click.option("--name", help="Who or what uses the key, for `apikey list`.")
@click.pass_obj
def apikey_create(settings: Settings, role: str, centre_code: str | None, name: str | None) -> None:
    """Create a key and print it (once: only its hash is kept)."""
    from bot.survey.api_keys import check_role, create_key

    check_role(role, centre_code)  # before the database: a bad role changes nothing

    async def work(services: Services) -> tuple[int, str, str | None, str]:
        async with services.db.transaction() as session:
            row, secret = await create_key(session, role, centre_code, name)
            return row.id, row.role, centre_code.strip().upper() if centre_code else None, secret

    key_id, role, centre, secret = with_services(settings, work, instruments=False)
    click.echo(say("admin.apikey_created", id=key_id, role=role, centre=f", {centre}" if centre else ""), err=True)
    click.echo(secret)  # alone on stdout, so that a script can capture it


@apikey.command("list")
@click.pass_obj
def apikey_list(settings: Settings) -> None:
    """List the keys: id, name, role, centre, prefix, created, revoked (never the key)."""
    from bot.survey.api_keys import list_keys

    async def work(services: Services):
        async with services.db.reading() as session:
            return await list_keys(session)

    keys = with_services(settings, work, instruments=False)
    if not keys:
        click.echo(say("admin.apikey_none"))
        return
    click.echo(say("admin.apikey_list_header"))
    for key in keys:
        revoked = key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "-"
        click.echo("  ".join((str(key.id), key.name or "-", key.role, key.centre or "-", f"{key.prefix}…",
                              key.created_at.strftime("%Y-%m-%d %H:%M"), revoked)))


@apikey.command("revoke")
@click.argument("key_id", type=int, metavar="ID")
@click.pass_obj
def apikey_revoke(settings: Settings, key_id: int) -> None:
    """Revoke a key: calls with it get 401 from now on."""
    from bot.survey.api_keys import revoke_key

    async def work(services: Services) -> str:
        async with services.db.transaction() as session:
            return (await revoke_key(session, key_id)).prefix

    prefix = with_services(settings, work, instruments=False)
    click.echo(say("admin.apikey_revoked", id=key_id, prefix=prefix))
