"""`sipas-bot admin login-link`: a one-time link into the dashboard (/dashboard), and the one `serve --demo` prints
the first time, for a generated admin key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services
from bot.errors import UserError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

LINK_MINUTES = 15  # bot.survey.login_links.VALID, written out so that --help imports no database code


def base_url(settings: Settings) -> str:
    """Where a browser reaches this service: the public URL, else the address it listens on (loopback for all)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return (settings.public_url or f"http://{host}:{settings.port}").rstrip("/")


def login_url(settings: Settings, token: str) -> str:
    return f"{base_url(settings)}/dashboard/login/{token}"


@cli.group()
def admin() -> None:
    """The dashboard's administration."""


@admin.command("login-link")
@click.option("--key-id", type=int, metavar="ID", help="Log in as this API key (`sipas-bot apikey list`).")
@click.option("--role", metavar="admin|staff|viewer", help="Make a new key of this role and log in as it.")
@click.option("--centre", "centre_code", help="The new key's centre (staff and viewer keys).")
@click.pass_obj
def login_link(settings: Settings, key_id: int | None, role: str | None, centre_code: str | None) -> None:
    """Print a dashboard login link, usable once within 15 minutes."""
    from bot.survey.api_keys import check_role
    from bot.survey.login_links import create_link_token, new_key_link

    if (key_id is None) == (role is None):
        raise UserError.say("admin.login_link_needs_one")
    if role is not None:
        check_role(role, centre_code)  # before the database: a bad role changes nothing

    async def work(services: Services) -> str:
        async with services.db.transaction() as session:
            if key_id is not None:
                return await create_link_token(session, key_id)
            return (await new_key_link(session, role, centre_code, "dashboard"))[1]

    token = with_services(settings, work, instruments=False)
    click.echo(say("admin.login_link", minutes=LINK_MINUTES, link=login_url(settings, token)))


async def demo_login(services: Services) -> str:
    """`serve --demo`: a login link for a new admin key when there is no admin key yet, else where the
    dashboard is."""
    from bot.survey.login_links import admin_key_exists, new_key_link

    settings = services.settings
    async with services.db.transaction() as session:
        if await admin_key_exists(session):
            return say("admin.login_link_again", dashboard=f"{base_url(settings)}/dashboard")
        key_id, token = await new_key_link(session, "admin", None, "demo")
    return say("admin.login_link_demo", id=key_id, minutes=LINK_MINUTES, link=login_url(settings, token))
