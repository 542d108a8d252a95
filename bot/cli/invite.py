"""`sipas-bot invite`: issue invitations for a centre (and service) as text, JSON or CSV, optionally with QR codes
and a printable sheet.

Tokens and short codes exist only in this command's output (the database keeps keyed hashes), so a lost output
cannot be printed again: issue new invitations and let the old ones expire unused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services
from bot.errors import UserError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services
    from bot.survey.invitations import IssuedInvitation

MAX_COUNT = 10_000
MAX_DAYS = 366
SHEET = "invitations.html"
STATE_KEY = "telegram_bot_username"  # where the running Telegram bot records its own username
_BOT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")  # Telegram: 5-32 letters, digits, underscores
_WEB_BASE = re.compile(r"^https?://[^/\s]+\S*$")
CSV_COLUMNS = ("token", "code", "centre", "service", "survey", "expires_at", "web_link", "telegram_link")


@dataclass(frozen=True)
class Links:
    web_base: str | None  # SIPAS_PUBLIC_URL without the trailing slash
    bot: str | None  # Telegram bot username without "@"

    def of(self, token: str) -> dict[str, str]:
        links = {}
        if self.web_base:
            links["web"] = f"{self.web_base}/s/{token}"
        if self.bot:
            links["telegram"] = f"https://t.me/{self.bot}?start={token}"
        return links

    def for_qr(self, token: str) -> str | None:
        # Telegram first: the chat keeps the survey open if the citizen is interrupted, a browser tab may not.
        links = self.of(token)
        return links.get("telegram") or links.get("web")

    def missing(self) -> str | None:
        gaps = [] if self.web_base else [say("admin.gap_web")]
        if not self.bot:
            gaps.append(say("admin.gap_telegram"))
        return say("admin.missing_links", gaps="; ".join(gaps)) if gaps else None


@dataclass(frozen=True)
class Batch:
    issued: list[IssuedInvitation]
    links: Links
    centre_name: str
    service_name: str | None
    valid_until: dt.date  # the last local day on which the invitations are valid all day


def _web_base(settings: Settings) -> str | None:
    url = (settings.public_url or "").strip().rstrip("/")
    if url and not _WEB_BASE.match(url):
        raise UserError.say("admin.public_url_bad", url=settings.public_url)
    return url or None


def _bot_name(raw: str | None, source: str) -> str | None:
    name = (raw or "").strip().removeprefix("@")
    if name and not _BOT_NAME.match(name):
        raise UserError.say("admin.bot_name_bad", source=source, raw=raw)
    return name or None


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
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _dmy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _records(batch: Batch) -> list[dict]:
    return [{"token": inv.token, "code": inv.display_code, "centre": inv.centre, "service": inv.service,
             "survey": inv.survey, "expires_at": _iso_utc(inv.expires_at), "links": batch.links.of(inv.token)}
            for inv in batch.issued]


def _csv(records: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow([r["token"], r["code"], r["centre"], r["service"] or "", r["survey"], r["expires_at"],
                         r["links"].get("web", ""), r["links"].get("telegram", "")])
    return out.getvalue()


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
    from bot.survey.qr import Card, instruction, qr_png, sheet_html  # qrcode and PIL load only for QR codes

    cards = []
    for inv in batch.issued:
        png = qr_png(batch.links.for_qr(inv.token) or "")
        (qr_dir / f"{inv.display_code}.png").write_bytes(png)
        cards.append(Card(inv.display_code, png, batch.centre_name, batch.service_name,
                          instruction(inv.display_code, _dmy(batch.valid_until), batch.links.bot)))
    sheet = qr_dir / SHEET
    sheet.write_text(sheet_html(cards, title=f"Phiếu mời đánh giá sự hài lòng – {batch.centre_name}"),
                     encoding="utf-8")
    return sheet


@cli.command("invite")
@click.option("--centre", "centre_code", required=True, help="Code of the centre the invitations are for.")
@click.option("--service", "service_code", help="Code of the service (thủ tục hành chính), if known.")
@click.option("--survey", "survey_id", help="Instrument id (default: SIPAS_DEFAULT_SURVEY).")
@click.option("--count", type=int, default=1, show_default=True, help=f"How many invitations (1 to {MAX_COUNT}).")
@click.option("--expires-days", type=int, help="Days they stay valid (default: SIPAS_INVITATION_DAYS, 30).")
@click.option("--qr-dir", type=click.Path(path_type=Path),
              help=f"Write one QR PNG per invitation and a printable A4 sheet ({SHEET}) here.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
@click.pass_obj
def invite(settings: Settings, centre_code: str, service_code: str | None, survey_id: str | None, count: int,
           expires_days: int | None, qr_dir: Path | None, output_format: str) -> None:
    """Issue invitations: one link token and one short code each, shown only in this output."""
    from bot.storage.models import AppState
    from bot.survey import directory, invitations

    days = settings.invitation_days if expires_days is None else expires_days
    # Every check that needs no database runs first, so a mistake costs nothing and issues nothing.
    if not 1 <= count <= MAX_COUNT:
        raise UserError.say("admin.count_range", max=MAX_COUNT, got=count)
    if not 1 <= days <= MAX_DAYS:
        raise UserError.say("admin.days_range", max=MAX_DAYS, got=days)
    if qr_dir is not None:
        _check_qr_dir(qr_dir)
    web_base = _web_base(settings)
    configured_bot = _bot_name(settings.telegram_bot_username, "SIPAS_TELEGRAM_BOT_USERNAME")

    async def work(services: Services) -> Batch:
        survey = services.instrument(survey_id).id
        async with services.db.transaction() as session:
            centre = await directory.find_centre(session, centre_code)
            service = await directory.find_service(session, service_code) if service_code else None
            stored = await session.get(AppState, STATE_KEY)
            # The setting wins over what the running bot recorded, so an operator can override a stale name.
            links = Links(web_base, configured_bot or _bot_name(stored.value if stored else None,
                                                                 say("admin.stored_bot_name")))
            if qr_dir is not None:
                if not (links.web_base or links.bot):
                    raise UserError.say("admin.qr_needs_link")
                _make_qr_dir(qr_dir)
            issued = await invitations.issue(session, services.secret_key, centre=centre, service=service,
                                             survey=survey, count=count, expires_days=days,
                                             timezone=settings.timezone)
        # Validity ends at local midnight, so the printed last day ("Hạn: 25/12") is valid all day long.
        valid_until = services.local_date(issued[0].expires_at - dt.timedelta(microseconds=1))
        return Batch(issued, links, centre.name, service.name if service else None, valid_until)

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
    if (missing := batch.links.missing()) is not None:
        click.echo(missing, err=note_to_stderr)
    if qr_dir is None:
        return
    if count > 500:
        click.echo(say("admin.qr_writing", count=count, seconds=count // 100 + 1), err=True)
    try:
        sheet = _write_qr(batch, qr_dir)
    except OSError as error:
        raise UserError.say("admin.qr_write_failed", count=count, folder=qr_dir, error=error) from error
    click.echo(say("admin.qr_done", count=count, folder=qr_dir, sheet=sheet), err=note_to_stderr)
