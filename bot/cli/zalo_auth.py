"""`sipas-bot zalo authorize` and `sipas-bot zalo status`: the Zalo OA's OAuth authorization (bot/zalo/oauth.py).

`authorize` prints the address to open (PKCE; its verifier kept in the database), then `authorize --code CODE`
exchanges the code Zalo sent to the redirect for the first token pair (the HTTP service does the same at
/zalo/oauth/callback when SIPAS_PUBLIC_URL is set). From then on the service renews the tokens itself
(bot/zalo/tokens.py). `status` says whether the OA is authorized and until when; it never shows a token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services

if TYPE_CHECKING:
    from bot.services import Services

# The `zalo` group of bot/cli/zalo.py, which imports this module right after defining it. Looked up rather than
# imported: importing bot.cli.zalo back from here would be an import cycle, which pyproject's contract forbids.
zalo: click.Group = cli.commands["zalo"]  # type: ignore[assignment]


@zalo.command()
@click.option("--code", help="The code Zalo sent to the redirect address (or that whole address, pasted).")
@click.option("--state", help="The state of that address (default: the authorization started last).")
@click.option("--redirect-uri", help="Where Zalo sends the code (default: SIPAS_PUBLIC_URL/zalo/oauth/callback); "
              "must be the app's registered callback URL.")
@click.pass_obj
def authorize(settings, code: str | None, state: str | None, redirect_uri: str | None) -> None:
    """Authorize the Zalo OA: print the address to open, or, with --code, store the first token pair."""
    from bot.errors import UserError

    if code is None:
        if state is not None:
            raise UserError.say("admin.zalo_option_with_code", option="--state")
        authorization = with_services(settings, lambda services: _start(services, redirect_uri), instruments=False)
        click.echo(say("admin.zalo_authorize_open", url=authorization.url, redirect_uri=authorization.redirect_uri,
                       state=authorization.state))
        from bot.zalo.oauth import callback_url

        own = authorization.redirect_uri == callback_url(settings)
        click.echo(say("admin.zalo_authorize_next_callback" if own else "admin.zalo_authorize_next_code",
                       state=authorization.state))
        return
    if redirect_uri is not None:
        raise UserError.say("admin.zalo_option_without_code", option="--redirect-uri")
    pair = with_services(settings, lambda services: _exchange(services, code, state), instruments=False)
    from bot.zalo.oauth import valid_until

    click.echo(say("admin.zalo_authorized", until=valid_until(pair.expires_at, settings)))


async def _start(services: Services, redirect_uri: str | None):
    from bot.zalo import oauth

    return await oauth.start(services, redirect_uri)


async def _exchange(services: Services, code: str, state: str | None):
    import aiohttp

    from bot.zalo import oauth

    async with aiohttp.ClientSession() as http:
        return await oauth.exchange(services, http, code, state)


@zalo.command()
@click.pass_obj
def status(settings) -> None:
    """Whether the Zalo OA is authorized, and until when its access token is valid (never the token)."""
    import datetime as dt

    from bot.storage.models import utcnow
    from bot.zalo import tokens
    from bot.zalo.oauth import aware, valid_until

    row = with_services(settings, tokens.status, instruments=False)
    if row is None:
        click.echo(say("admin.zalo_status_none"))
        return
    expires_at = aware(row.expires_at)
    state = say("admin.zalo_status_valid" if expires_at > utcnow() else "admin.zalo_status_expired")
    refreshed = aware(row.refreshed_at)
    click.echo(say("admin.zalo_status", state=state, until=valid_until(expires_at, settings),
                   refreshed=valid_until(refreshed, settings), refreshes=row.refreshes,
                   refresh_until=valid_until(refreshed + dt.timedelta(days=90), settings)))
