"""`sipas-bot import` (paper forms typed into a spreadsheet) and `sipas-bot export responses`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli import cli, with_services
from bot.config import Settings
from bot.errors import UserError
from bot.paper import exporter, importer
from bot.services import Services


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--survey", "survey_id", required=True, help="Instrument id of the paper form (e.g. sipas-2023).")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and list the others.")
@click.pass_obj
def import_responses(settings: Settings, file: Path, survey_id: str, skip_invalid: bool) -> None:
    """Import paper forms from a CSV (UTF-8) or XLSX file in the wide format (see README)."""
    if not file.is_file():
        raise UserError(f"{file} does not exist")

    async def work(services: Services) -> importer.ImportResult:
        instrument = services.instrument(survey_id)
        return await importer.import_file(services, file, instrument, skip_invalid=skip_invalid,
                                          progress=sys.stderr.isatty())

    result = with_services(settings, work)
    if result.problems:
        click.echo(f"skipped {result.skipped:,} rows with problems:", err=True)
        for line in importer.problem_lines(result.problems):
            click.echo(f"  {line}", err=True)
    click.echo(f"imported {result.imported} responses to {survey_id} from {file} ({result.skipped} rows skipped)")


@cli.group()
def export() -> None:
    """Write stored data to files."""


@export.command("responses")
@click.option("--survey", "survey_id", help="Instrument id (default: SIPAS_DEFAULT_SURVEY, sipas-2023).")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day (inclusive).")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day (inclusive).")
@click.option("--format", "fmt", type=click.Choice(exporter.FORMATS),
              help="File format (default: from the file name, else csv).")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="The file to write.")
@click.pass_obj
def export_responses(settings: Settings, survey_id: str | None, date_from: str | None, date_to: str | None,
                     fmt: str | None, output: Path) -> None:
    """The anonymous responses in the importer's wide format, with a codebook."""
    first, last = exporter.parse_day(date_from, "--from"), exporter.parse_day(date_to, "--to")
    if first and last and first > last:
        raise UserError(f"--from {first} is after --to {last}")
    fmt, codebook_path = exporter.plan_output(output, fmt)

    async def work(services: Services) -> tuple[str, int]:
        instrument = services.instrument(survey_id)
        async with services.db.reading() as session:
            table = await exporter.load_wide(session, instrument, first, last)
        exporter.write_export(table, exporter.codebook(instrument), output, fmt, codebook_path)
        return instrument.id, len(table)

    survey, count = with_services(settings, work)
    where = f"codebook in {codebook_path}" if codebook_path else 'codebook in the sheet "codebook"'
    click.echo(f"exported {count} {survey} responses to {output} ({where})")
