"""`sipas-bot import` (paper forms typed into a spreadsheet) and `sipas-bot export responses`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import admin_language, cli, number, say, with_services

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.paper.importer import ImportResult
    from bot.services import Services

# The same as bot.paper.exporter.FORMATS (a test checks it): the exporter loads pandas, --help should not.
EXPORT_FORMATS = ("csv", "xlsx")


class ImportGroup(click.Group):
    """`import FILE --survey ID` imports a file (as it always did); `import list` and `import undo BATCH` manage
    the batches. Anything that is not one of those names is a file: a file called "list" is `import ./list`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["file", *args]
        return super().parse_args(ctx, args)


@cli.group("import", cls=ImportGroup, options_metavar="", subcommand_metavar="FILE --survey ID [OPTIONS] | list | "
           "undo BATCH")
def import_group() -> None:
    """Import paper forms, or list and undo the imported batches.

    \b
    sipas-bot import FILE --survey ID [--skip-invalid] [--truncate] [--allow-duplicates]
    sipas-bot import list
    sipas-bot import undo BATCH

    FILE is a CSV (UTF-8) or XLSX file in the wide format (see README). --skip-invalid imports the good rows and
    lists the others; --truncate cuts comments longer than the survey allows; --allow-duplicates imports rows that
    repeat rows of an earlier batch (other forms with the same answers). `sipas-bot import FILE --help` shows the
    options."""


@import_group.command("file", hidden=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--survey", "survey_id", required=True, help="Instrument id of the paper form (e.g. sipas-2023).")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and list the others.")
@click.option("--truncate", is_flag=True, help="Cut comments longer than the survey allows (and list them).")
@click.option("--allow-duplicates", is_flag=True,
              help="Import rows that repeat rows of an earlier batch (other forms with the same answers).")
@click.pass_obj
def import_responses(settings: Settings, file: Path, survey_id: str, skip_invalid: bool, truncate: bool,
                     allow_duplicates: bool) -> None:
    """Import paper forms from a CSV (UTF-8) or XLSX file in the wide format (see README)."""
    from bot.errors import UserError
    from bot.paper import importer

    if not file.is_file():
        raise UserError.say("admin.file_missing", file=file)

    async def work(services: Services) -> ImportResult:
        instrument = services.instrument(survey_id)
        return await importer.import_file(services, file, instrument, skip_invalid=skip_invalid, truncate=truncate,
                                          allow_duplicates=allow_duplicates, progress=sys.stderr.isatty())

    result = with_services(settings, work)
    if result.problems:
        click.echo(say("admin.rows_skipped", count=number(result.skipped)), err=True)
        for line in importer.problem_lines(result.problems, admin_language(settings)):
            click.echo(f"  {line}", err=True)
    if result.warnings:
        click.echo(say("admin.comments_cut", count=number(len(result.warnings))), err=True)
        for line in importer.problem_lines(result.warnings, admin_language(settings)):
            click.echo(f"  {line}", err=True)
    click.echo(say("admin.imported", imported=result.imported, survey=survey_id, file=file, skipped=result.skipped,
                   batch=result.batch_id))


@import_group.command("list")
@click.pass_obj
def import_list(settings: Settings) -> None:
    """The imported batches: id, date, responses, survey, file."""
    from bot.paper.batches import list_batches
    from bot.paper.importer import imported_when

    async def work(services: Services) -> list:
        async with services.db.reading() as session:
            return await list_batches(session)

    batches = with_services(settings, work, instruments=False)
    if not batches:
        click.echo(say("admin.no_batches"))
        return
    click.echo(say("admin.batch_header"))
    for batch, stored in batches:
        click.echo(f"{batch.id:>5}  {imported_when(batch.imported_at, settings.timezone):<34} {number(stored):>8}  "
                   f"{batch.instrument:<12} {batch.filename}")


@import_group.command("undo")
@click.argument("batch")
@click.pass_obj
def import_undo(settings: Settings, batch: str) -> None:
    """Remove an imported batch and all its responses (one transaction)."""
    from bot.paper.batches import parse_batch_id, undo_batch

    batch_id = parse_batch_id(batch)

    async def work(services: Services) -> tuple:
        async with services.db.transaction() as session:
            return await undo_batch(session, batch_id)

    removed, count = with_services(settings, work, instruments=False)
    click.echo(say("admin.batch_undone", id=removed.id, file=removed.filename, count=number(count)))


@cli.group()
def export() -> None:
    """Write stored data to files."""


@export.command("responses")
@click.option("--survey", "survey_id", help="Instrument id (default: SIPAS_DEFAULT_SURVEY, sipas-2023).")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day (inclusive).")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day (inclusive).")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS),
              help="File format (default: from the file name, else csv).")
@click.option("--exclude-flagged", is_flag=True,
              help="Leave out the responses flagged as a burst from one client address (possible ballot stuffing).")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="The file to write.")
@click.pass_obj
def export_responses(settings: Settings, survey_id: str | None, date_from: str | None, date_to: str | None,
                     fmt: str | None, exclude_flagged: bool, output: Path) -> None:
    """The anonymous responses in the importer's wide format (and whether each came from an open survey or is
    flagged), with a codebook."""
    from bot.errors import UserError
    from bot.paper import exporter

    first, last = exporter.parse_day(date_from, "--from"), exporter.parse_day(date_to, "--to")
    if first and last and first > last:
        raise UserError.say("admin.from_after_to", first=first, last=last)
    fmt, codebook_path = exporter.plan_output(output, fmt)

    async def work(services: Services) -> tuple[str, int, int, int]:
        instrument = services.instrument(survey_id)
        async with services.db.reading() as session:
            table = await exporter.load_wide(session, instrument, first, last)
        table, left_out = exporter.without_flagged(table) if exclude_flagged else (table, 0)
        exporter.write_export(table, exporter.codebook(instrument), output, fmt, codebook_path)
        return instrument.id, len(table), exporter.flagged_count(table), left_out

    survey, count, flagged, left_out = with_services(settings, work)
    where = say("admin.codebook_file", path=codebook_path) if codebook_path else say("admin.codebook_sheet")
    click.echo(say("admin.exported", count=count, survey=survey, output=output, where=where))
    # As the report does: an admin should know the file holds responses that may be ballot stuffing.
    if flagged:
        click.echo(say("admin.export_flagged_included", count=number(flagged)), err=True)
    if left_out:
        click.echo(say("admin.export_flagged_excluded", count=number(left_out)), err=True)
