"""`sipas-bot try`, `survey list`, `survey validate` and `serve`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

import click

from bot.channels import run_terminal_survey, summarise
from bot.cli import cli, with_services
from bot.config import Settings
from bot.instruments import load_instruments
from bot.services import Services
from surveys.loader import load_file


def _line_reader() -> Callable[[], str | None]:
    """Read answers from a person (with a prompt) or from a pipe (echoing each line, so the transcript reads)."""
    interactive = sys.stdin.isatty()

    def read() -> str | None:
        if interactive:
            try:
                return input("> ")
            except EOFError:
                return None
        line = sys.stdin.readline()
        if not line:
            return None
        click.echo(f"> {line.rstrip()}")
        return line

    return read


@cli.command("try")
@click.option("--survey", "survey_id", help="Instrument id (default: SIPAS_DEFAULT_SURVEY, sipas-2023).")
@click.option("--lang", "language", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--with-section", "sections", multiple=True, help="Include an optional section (repeatable).")
@click.option("--save", is_flag=True, help="Store the response (channel 'terminal') through the service layer.")
@click.option("--centre", "centre_code", help="With --save: the centre the response is for.")
@click.option("--service", "service_code", help="With --save: the service (procedure) it is about.")
@click.pass_obj
def try_survey(settings: Settings, survey_id: str | None, language: str, sections: tuple[str, ...], save: bool,
               centre_code: str | None, service_code: str | None) -> None:
    """Answer a survey in the terminal, one answer per line (works through a pipe too)."""
    instruments = load_instruments(settings.instruments_dir)
    survey_id = survey_id or settings.default_survey
    if survey_id not in instruments:
        raise click.ClickException(f"unknown survey '{survey_id}'; known: {', '.join(sorted(instruments))}")
    instrument = instruments[survey_id]
    unknown = sorted(set(sections) - set(instrument.optional_sections()))
    if unknown:
        raise click.ClickException(
            f"'{survey_id}' has no optional section {', '.join(unknown)}; "
            f"it has: {', '.join(instrument.optional_sections()) or 'none'}"
        )
    if save != bool(centre_code) or (service_code and not save):
        raise click.UsageError("--save needs --centre CODE (and --centre/--service make sense only with --save)")
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    read = _line_reader()

    async def read_async() -> str | None:
        return await asyncio.to_thread(read)

    async def run(services: Services | None):
        return await run_terminal_survey(services, instrument, language=language, sections=frozenset(sections),
                                         centre=centre_code, service_code=service_code, read=read_async,
                                         write=click.echo)

    result = with_services(settings, run) if save else asyncio.run(run(None))
    if result.status != "completed":
        click.echo(result.message, err=True)
        sys.exit(1)
    click.echo(summarise(instrument, result.answers or {}, language))
    if save:
        click.echo(f"\nsaved: 1 response to {survey_id} for centre {centre_code.strip().upper()} (channel terminal)")


@cli.group()
def survey() -> None:
    """The instruments (questionnaires) on offer."""


@survey.command("list")
@click.pass_obj
def survey_list(settings: Settings) -> None:
    """List instruments: id, version, scored criteria, title."""
    instruments = load_instruments(settings.instruments_dir)
    click.echo(f"{'id':<16} {'version':>7} {'criteria':>8}  title")
    for instrument in instruments.values():
        default = "  (default)" if instrument.id == settings.default_survey else ""
        click.echo(f"{instrument.id:<16} {instrument.version:>7} {len(instrument.criteria()):>8}  "
                   f"{instrument.title.get('vi')}{default}")


@survey.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
def survey_validate(file: str) -> None:
    """Check an instrument file; names the file, question and problem when it is broken."""
    instrument = load_file(file)
    questions = sum(len(s.questions) for s in instrument.sections)
    click.echo(f"{file}: OK: {instrument.id} version {instrument.version}, {questions} questions, "
               f"{len(instrument.criteria())} scored criteria")


@cli.command()
@click.pass_obj
def serve(settings: Settings) -> None:
    """Start the HTTP service (health check and instrument list; chat channels come in later releases)."""
    from bot.http.app import run_server

    load_instruments(settings.instruments_dir)  # fail fast on a broken instrument
    run_server(settings)
