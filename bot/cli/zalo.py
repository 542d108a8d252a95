"""`sipas-bot zalo ...`: the Zalo OA's authorization (`bot/cli/zalo_auth.py`) and the ZNS ratings
(`bot/cli/zalo_ratings.py`), which register their commands on the `zalo` group below."""

from __future__ import annotations

from bot.cli import cli


@cli.group()
def zalo() -> None:
    """The Zalo Official Account: authorization and ZNS ratings."""


from bot.cli import zalo_auth, zalo_ratings  # noqa: E402, F401
