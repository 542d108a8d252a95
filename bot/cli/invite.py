"""`sipas-bot invite`: issue invitations for a centre (and service) as text, JSON or CSV, optionally with QR codes
and a printable sheet; or, with `--poster`, write a centre's counter poster (`bot.survey.poster`), which issues
nothing; or, with `--phone`, send one invitation to a citizen's phone as a ZNS message (`bot.zalo.zns`).

Tokens and short codes exist only in this command's output (the database keeps keyed hashes), so a lost output
cannot be printed again: issue new invitations and let the old ones expire unused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services
from bot.errors import UserError
from bot.survey import batch_sheet

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services
    from bot.survey.batches import Batch

MAX_COUNT = 10_000
MAX_DAYS = 366
SHEET = "invitations.html"
# The options of poster mode; every other option is about issuing invitations, which a poster does not do.
POSTER_OPTIONS = ("poster_code", "out", "force")
PHONE_OPTIONS = ("phone", "centre_code", "service_code", "survey_id")  # what goes with --phone
CSV_COLUMNS = batch_sheet.CSV_COLUMNS


def _check_qr_dir(qr_dir: Path) -> None:
    """Refuse, before anything is issued, a folder that cannot take the files or holds an earlier sheet."""
    if qr_dir.exists() and not qr_dir.is_dir():
        raise UserError.say("admin.qr_dir_file", folder=qr_dir)
    if (qr_dir / SHEET).exists():
        # Overwriting would lose the only printable copy of invitations issued earlier.
        raise UserError.say("admin.qr_dir_used", sheet=qr_dir / SHEET)


def _make_qr_dir(qr_dir: Path) -> None:
    try:
        qr_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError.say("admin.qr_dir_create", folder=qr_dir, reason=error.strerror or error) from error
    if not os.access(qr_dir, os.W_OK):
        raise UserError.say("admin.qr_dir_write", folder=qr_dir)


def _iso_utc(moment: dt.datetime) -> str:
    return batch_sheet.iso_utc(moment)


def _dmy(day: dt.date) -> str:
    return batch_sheet.dmy(day)


def _records(batch: Batch) -> list[dict]:
    return batch_sheet.records(batch)


def _csv(records: list[dict]) -> str:
    return batch_sheet.csv_text(records)


def _text(batch: Batch, settings: Settings) -> str:
    first = batch.issued[0]
    what = say("admin.issued_centre", code=first.centre, name=batch.centre_name)
    if first.service:
        what += say("admin.issued_service", code=first.service, name=batch.service_name)
    lines = [say("admin.issued_many" if len(batch.issued) > 1 else "admin.issued_one", count=len(batch.issued),
                 what=what, survey=first.survey, day=_dmy(batch.valid_until), timezone=settings.timezone,
                 at=_iso_utc(first.expires_at)), ""]
    token_label, valid_label = say("admin.label_token"), say("admin.label_valid_to")
    for inv in batch.issued:
        links = batch.links.of(inv.token)
        lines.append(inv.display_code)
        lines += [f"  {kind + ':':<10}{url}" for kind, url in links.items()]
        if not links:
            lines.append(f"  {token_label:<10}{inv.token}")
        lines += [f"  {valid_label:<10}{_dmy(batch.valid_until)}", ""]
    return "\n".join(lines).rstrip("\n")


def _write_qr(batch: Batch, qr_dir: Path) -> Path:
    from bot.survey.qr import sheet_html  # qrcode and PIL load only for QR codes

    cards = batch_sheet.cards(batch)
    for card in cards:
        (qr_dir / f"{card.code}.png").write_bytes(card.png)
    sheet = qr_dir / SHEET
    sheet.write_text(sheet_html(cards, title=batch_sheet.sheet_title(batch)), encoding="utf-8")
    return sheet


@cli.command("invite")
@click.option("--centre", "centre_code", help="Code of the centre the invitations are for (required unless --poster).")
@click.option("--service", "service_code", help="Code of the service (thủ tục hành chính), if known.")
@click.option("--survey", "survey_id", help="Instrument id (default: SIPAS_DEFAULT_SURVEY).")
@click.option("--count", type=int, default=1, show_default=True, help=f"How many invitations (1 to {MAX_COUNT}).")
@click.option("--expires-days", type=int, help="Days they stay valid (default: SIPAS_INVITATION_DAYS, 30).")
@click.option("--qr-dir", type=click.Path(path_type=Path),
              help=f"Write one QR PNG per invitation and a printable A4 sheet ({SHEET}) here.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
@click.option("--poster", "poster_code", metavar="CENTRE",
              help="Issue nothing: write an A4 poster with the QR code of this centre's open-survey address.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --poster: the file to write (default: poster-CENTRE.html here).")
@click.option("--force", is_flag=True, help="With --poster: overwrite the --out file if it exists.")
@click.option("--phone", metavar="NUMBER",
              help="Send one invitation to this Vietnamese mobile number (0…, 84…, +84…) as a ZNS message.")
@click.pass_context
def invite(ctx: click.Context, centre_code: str | None, service_code: str | None, survey_id: str | None,
           count: int, expires_days: int | None, qr_dir: Path | None, output_format: str,
           poster_code: str | None, out: Path | None, force: bool, phone: str | None) -> None:
    """Issue invitations: one link token and one short code each, shown only in this output. With --poster,
    write a counter poster instead; with --phone, send one invitation by ZNS."""
    settings: Settings = ctx.obj
    given = [name for name in ctx.params if ctx.get_parameter_source(name) is not click.ParameterSource.DEFAULT]
    if phone is not None:
        if clash := [name for name in given if name not in PHONE_OPTIONS]:
            raise UserError.say("admin.phone_with", options=_flags(ctx, clash))
        if centre_code is None:
            raise UserError.say("admin.invite_needs_centre")
        _by_phone(settings, phone, centre_code, service_code, survey_id)
        return
    if poster_code is not None:
        if clash := [name for name in given if name not in POSTER_OPTIONS]:
            raise UserError.say("admin.poster_with", options=_flags(ctx, clash))
        _poster(settings, poster_code, out, force)
        return
    if only := [name for name in given if name in POSTER_OPTIONS]:
        raise UserError.say("admin.poster_only", options=_flags(ctx, only))
    if centre_code is None:
        raise UserError.say("admin.invite_needs_centre")
    _issue(settings, centre_code, service_code, survey_id, count, expires_days, qr_dir, output_format)


def _flags(ctx: click.Context, names: list[str]) -> str:
    """The options ``names`` as typed on the command line ("--count, --format")."""
    return ", ".join(max(p.opts, key=len) for p in ctx.command.params if p.name in names)


def _issue(settings: Settings, centre_code: str, service_code: str | None, survey_id: str | None, count: int,
           expires_days: int | None, qr_dir: Path | None, output_format: str) -> None:
    from bot.survey.batches import bot_name, issue_batch, web_base

    days = settings.invitation_days if expires_days is None else expires_days
    # Every check that needs no database runs first, so a mistake costs nothing and issues nothing.
    if not 1 <= count <= MAX_COUNT:
        raise UserError.say("admin.count_range", max=MAX_COUNT, got=count)
    if not 1 <= days <= MAX_DAYS:
        raise UserError.say("admin.days_range", max=MAX_DAYS, got=days)
    if qr_dir is not None:
        _check_qr_dir(qr_dir)
    web_base(settings)
    bot_name(settings.telegram_bot_username, "SIPAS_TELEGRAM_BOT_USERNAME")

    def ready_for_qr(links) -> None:
        if qr_dir is not None:
            if not (links.web_base or links.bot):
                raise UserError.say("admin.qr_needs_link")
            _make_qr_dir(qr_dir)

    async def work(services: Services) -> Batch:
        return await issue_batch(services, centre_code=centre_code, service_code=service_code, survey=survey_id,
                                 count=count, expires_days=days, before_issue=ready_for_qr)

    batch = with_services(settings, work)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")  # centre names are Vietnamese
    records = _records(batch)
    if output_format == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(_csv(records), nl=False)
    else:
        click.echo(_text(batch, settings))
    # Notes go to stderr for json and csv, so the output stays machine-readable.
    note_to_stderr = output_format != "text"
    if gaps := batch.links.gaps():
        click.echo(say("admin.missing_links", gaps="; ".join(say(gap) for gap in gaps)), err=note_to_stderr)
    if qr_dir is None:
        return
    if count > 500:
        click.echo(say("admin.qr_writing", count=count, seconds=count // 100 + 1), err=True)
    try:
        sheet = _write_qr(batch, qr_dir)
    except OSError as error:
        raise UserError.say("admin.qr_write_failed", count=count, folder=qr_dir, error=error) from error
    click.echo(say("admin.qr_done", count=count, folder=qr_dir, sheet=sheet), err=note_to_stderr)


def _by_phone(settings: Settings, phone: str, centre_code: str, service_code: str | None,
              survey_id: str | None) -> None:
    """Queue one invitation to ``phone`` by ZNS; every check that needs no database runs first."""
    from bot.zalo.phones import normalise_phone
    from bot.zalo.zns import check_ready, invite_by_phone

    number = normalise_phone(phone)
    check_ready(settings)

    async def work(services: Services):
        return await invite_by_phone(services, number, centre_code, service_code, survey_id)

    sent = with_services(settings, work)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    what = say("admin.issued_centre", code=sent.issued.centre, name=sent.centre_name)
    if sent.issued.service:
        what += say("admin.issued_service", code=sent.issued.service, name=sent.service_name)
    click.echo(say("admin.zns_queued", phone=sent.phone_masked, what=what, survey=sent.issued.survey,
                   code=sent.issued.display_code, day=_dmy(sent.valid_until)))


def _poster(settings: Settings, raw_code: str, out: Path | None, force: bool) -> None:
    """Write the counter poster of centre ``raw_code`` (`bot.survey.poster`) and say where it is."""
    from bot.cli.mistakes import check_writable
    from bot.survey import directory
    from bot.survey.batches import web_base

    # Every check that needs no database runs first; nothing is written until every check has passed.
    base = web_base(settings)
    if base is None:
        raise UserError.say("admin.poster_needs_url")
    code = directory.normalize_code(raw_code, "centre code")
    path = out if out is not None else Path(f"poster-{code}.html")
    check_writable(path, "--out")
    if path.exists() and not force:
        raise UserError.say("admin.poster_exists", path=path)

    async def work(services: Services) -> tuple[str, bool, int]:
        async with services.db.reading() as session:
            centre = await directory.find_centre(session, code)
            # The open survey is the default instrument; the poster promises what it asks.
            return centre.name, centre.open_surveys, len(services.instrument(None).questions())

    name, accepts_open, questions = with_services(settings, work)
    if not accepts_open:
        raise UserError.say("admin.poster_not_open", code=code)
    from bot.survey.poster import QR_MM, open_survey_url, poster_html  # qrcode and PIL load only here

    url = open_survey_url(base, code)
    # Four short questions a minute, as the survey's own introduction says (surveys/replies.py).
    page = poster_html(name, url, questions=questions, minutes=max(1, -(-questions // 4)))
    # Written beside it and renamed, so a failure (a full disk) leaves no half poster and no earlier one damaged.
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):  # not there, or not ours to remove (a folder of that name)
            partial.unlink()
        raise UserError.say("admin.poster_write_failed", path=path, reason=error.strerror or error) from error
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")  # centre names are Vietnamese
    click.echo(say("admin.poster_written", name=name, path=path.resolve(), url=url, cm=QR_MM // 10))
