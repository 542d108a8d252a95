"""`sipas-bot target`: a centre's (or the province's) yearly targets for SIPAS and the element indices, shown in
reports (the province's in the "Toàn tỉnh" rows of `report --total`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services


@cli.group()
def target() -> None:
    """Targets per centre and year: reports show the gap and the chance the centre is above it already."""


@target.command("set")
@click.option("--centre", "centre_code", help="The centre's code.")
@click.option("--province", is_flag=True, help="The whole province's target instead (the --total rows).")
@click.option("--year", type=int, required=True, help="The year the target is for (2000-2100).")
@click.option("--sipas", type=float, help="Target for SIPAS, 0-100.")
@click.option("--element", "elements", multiple=True, metavar="CODE=VALUE",
              help="Target for an element index, 0-100: access, procedure, staff, result, feedback (repeatable).")
@click.pass_obj
def target_set(settings: Settings, centre_code: str | None, province: bool, year: int, sipas: float | None,
               elements: tuple[str, ...]) -> None:
    """Set (or change) targets: --centre CODE (or --province) --year 2026 --sipas 90 [--element access=85 ...]."""
    from bot.reports.targets import parse_goals, set_goals

    _whose(centre_code, province)
    goals = parse_goals(year, sipas, elements)  # before the database: a bad value changes nothing

    async def work(services: Services) -> tuple[str | None, dict[str, float]]:
        async with services.db.transaction() as session:
            centre = await _centre(session, centre_code)
            return centre and centre.code, await set_goals(session, centre, year, goals)

    code, stored = with_services(settings, work, instruments=False)
    if code is None:
        click.echo(say("admin.target_set_province", year=year, targets=_listed(stored)))
    else:
        click.echo(say("admin.target_set", code=code, year=year, targets=_listed(stored)))


@target.command("list")
@click.pass_obj
def target_list(settings: Settings) -> None:
    """List every target: centre, year, measures."""
    from bot.reports.targets import load_goals

    async def work(services: Services) -> dict:
        async with services.db.reading() as session:
            return await load_goals(session)

    goals = with_services(settings, work, instruments=False)
    if not goals:
        click.echo(say("admin.no_targets"))
    for (code, year), measures in goals.items():
        click.echo(f"{code or say('admin.target_province_label'):<16} {year}  {_listed(measures)}")


@target.command("remove")
@click.option("--centre", "centre_code", help="The centre's code.")
@click.option("--province", is_flag=True, help="The whole province's targets instead.")
@click.option("--year", type=int, required=True, help="The year whose targets go.")
@click.pass_obj
def target_remove(settings: Settings, centre_code: str | None, province: bool, year: int) -> None:
    """Remove a centre's (or the province's) targets for a year."""
    from bot.errors import NotFound
    from bot.reports.targets import remove_goals

    _whose(centre_code, province)

    async def work(services: Services) -> str | None:
        async with services.db.transaction() as session:
            centre = await _centre(session, centre_code)
            if not await remove_goals(session, centre, year):
                if centre is None:
                    raise NotFound.say("admin.no_target_province", year=year)
                raise NotFound.say("admin.no_target", code=centre.code, year=year)
            return centre and centre.code

    code = with_services(settings, work, instruments=False)
    if code is None:
        click.echo(say("admin.target_removed_province", year=year))
    else:
        click.echo(say("admin.target_removed", code=code, year=year))


def _whose(centre_code: str | None, province: bool) -> None:
    """Exactly one of --centre and --province (a UserError, exit code 1, otherwise)."""
    from bot.errors import UserError

    if (centre_code is None) == (not province):
        raise UserError.say("admin.target_whose")


async def _centre(session, centre_code: str | None):
    """The centre of --centre, or None for --province."""
    from bot.survey import directory

    return None if centre_code is None else await directory.find_centre(session, centre_code)


def _listed(measures: dict[str, float]) -> str:
    """"sipas 90, access 85" (values without a needless ".0")."""
    return ", ".join(f"{m} {v:g}" for m, v in measures.items())
