"""`sipas-bot try`, `survey list`, `survey validate` and `serve`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services
from bot.errors import UserError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services


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
    import asyncio

    from bot.channels import run_terminal_survey, summarise
    from bot.errors import UserError
    from bot.instruments import load_instruments

    instruments = load_instruments(settings.instruments_dir)
    survey_id = survey_id or settings.default_survey
    if survey_id not in instruments:
        raise UserError.say("admin.unknown_survey", survey=survey_id, known=", ".join(sorted(instruments)))
    instrument = instruments[survey_id]
    unknown = sorted(set(sections) - set(instrument.optional_sections()))
    if unknown:
        raise UserError.say("admin.no_section", survey=survey_id, sections=", ".join(unknown),
                            available=", ".join(instrument.optional_sections()) or say("admin.none"))
    if save != bool(centre_code) or (service_code and not save):
        raise UserError.say("admin.save_needs_centre")
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
        click.echo(say("admin.saved", survey=survey_id, centre=centre_code.strip().upper()))


@cli.group()
def survey() -> None:
    """The instruments (questionnaires) on offer."""


@survey.command("list")
@click.pass_obj
def survey_list(settings: Settings) -> None:
    """List instruments: id, version, scored criteria, title."""
    from bot.instruments import load_instruments

    instruments = load_instruments(settings.instruments_dir)
    name, version, criteria, title = say("admin.survey_columns").split("|")
    wide = (max(7, len(version)), max(8, len(criteria)))
    click.echo(f"{name:<16} {version:>{wide[0]}} {criteria:>{wide[1]}}  {title}")
    for instrument in instruments.values():
        default = "  " + say("admin.default") if instrument.id == settings.default_survey else ""
        click.echo(f"{instrument.id:<16} {instrument.version:>{wide[0]}} {len(instrument.criteria()):>{wide[1]}}  "
                   f"{instrument.title.get('vi')}{default}")


@survey.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
def survey_validate(file: str) -> None:
    """Check an instrument file; names the file, question and problem when it is broken."""
    from surveys.loader import load_file

    instrument = load_file(file)
    questions = sum(len(s.questions) for s in instrument.sections)
    click.echo(say("admin.survey_valid", file=file, id=instrument.id, version=instrument.version,
                   questions=questions, criteria=len(instrument.criteria())))


@cli.command()
@click.option("--demo", is_flag=True, help="First make sure a demo centre (DEMO, open surveys) exists, and print a "
              "fresh invitation link and its open-survey link to try the web survey, and the first time a dashboard "
              "login link for a new admin key (`make run` does this).")
@click.pass_obj
def serve(settings: Settings, demo: bool) -> None:
    """Start the HTTP service: the web survey, the chat channels that have tokens, /healthz."""
    from bot.http.app import check_listen, run_server
    from bot.instruments import load_instruments

    load_instruments(settings.instruments_dir)  # fail fast on a broken instrument
    if demo:
        check_listen(settings.host, settings.port)  # before issuing a link to a server that cannot start
        for line in with_services(settings, lambda services: demo_links(services)):
            click.echo(line)
        from bot.cli.dashboard import demo_login

        click.echo(with_services(settings, demo_login))  # a login link the first time (no admin key yet)
    run_server(settings)


DEMO_CENTRE = "DEMO"


async def demo_links(services: Services) -> list[str]:
    """The demo centre (made once) and a fresh invitation: the lines `serve --demo` prints."""
    from bot.survey import directory
    from bot.survey.batches import issue_batch

    settings = services.settings
    async with services.db.transaction() as session:
        try:
            await directory.find_centre(session, DEMO_CENTRE)
        except UserError:
            await directory.add_centre(session, DEMO_CENTRE, say("admin.demo_centre_name"), open_surveys=True)
    batch = await issue_batch(services, centre_code=DEMO_CENTRE)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = (settings.public_url or f"http://{host}:{settings.port}").rstrip("/")
    return [say("admin.demo_links", invitation=f"{base}/s/{batch.issued[0].token}", code=batch.issued[0].display_code,
                open=f"{base}/c/{DEMO_CENTRE}", codebox=f"{base}/s")]
