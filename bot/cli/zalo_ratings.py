"""`sipas-bot zalo pull-ratings [--since DATE]`: the ZNS star ratings fetched through `GET /rating/get`, the
fallback for `user_feedback` webhooks that were missed. Each goes through `bot.zalo.ratings.record_rating`, the
webhook's own path, so a rating stored by both counts once."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from bot.cli import cli, number, say, with_services
from bot.errors import UserError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services

DEFAULT_DAYS = 7
# The `zalo` group of bot/cli/zalo.py, which imports this module right after defining it; looked up, not imported
# (importing bot.cli.zalo back would be an import cycle, which pyproject's contract forbids).
zalo: click.Group = cli.commands["zalo"]  # type: ignore[assignment]


@zalo.command("pull-ratings")
@click.option("--since", "since_text", metavar="DATE",
              help=f"First local day (YYYY-MM-DD) of ratings to fetch (default: {DEFAULT_DAYS} days ago).")
@click.pass_obj
def pull_ratings(settings: Settings, since_text: str | None) -> None:
    """Fetch the ZNS service ratings and store those not stored yet."""
    from zoneinfo import ZoneInfo

    template_id = (settings.zalo_zns_rating_template_id or settings.zalo_zns_template_id or "").strip()
    if not template_id:
        raise UserError.say("admin.ratings_no_template")
    zone = ZoneInfo(settings.timezone)
    now = dt.datetime.now(dt.UTC)
    if since_text is None:
        first_day = now.astimezone(zone).date() - dt.timedelta(days=DEFAULT_DAYS)
    else:
        try:
            first_day = dt.date.fromisoformat(since_text.strip())
        except ValueError:
            raise UserError.say("admin.ratings_since_bad", value=since_text) from None
    since = dt.datetime.combine(first_day, dt.time(), zone).astimezone(dt.UTC)

    async def work(services: Services) -> dict[str, int]:
        import aiohttp

        from bot.channels import fetch_zns_ratings
        from bot.zalo.ratings import record_rating
        from bot.zalo.tokens import OATokens

        async with aiohttp.ClientSession() as http:
            ratings = await fetch_zns_ratings(http, OATokens(services, http), settings, template_id, since, now)
        counts = {"stored": 0, "duplicate": 0, "unknown": 0, "invalid": 0}
        for rating in ratings:
            counts[await record_rating(services, **rating)] += 1
        return counts

    counts = with_services(settings, work)
    total = sum(counts.values())
    click.echo(say("admin.ratings_pulled", total=number(total), since=first_day.strftime("%d/%m/%Y"),
                   **{k: number(v) for k, v in counts.items()}))
