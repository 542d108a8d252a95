"""What a printed batch of invitations looks like, the same for `sipas-bot invite` (its --format csv and --qr-dir
sheet) and the dashboard's invitations page: the records and CSV of the codes, and the cards of the A4 sheet
(`bot.survey.qr`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.survey.batches import Batch

CSV_COLUMNS = ("token", "code", "centre", "service", "survey", "expires_at", "web_link", "telegram_link")


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def dmy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def records(batch: Batch) -> list[dict]:
    """One dict per invitation: token, code, centre, service, survey, expires_at (ISO, UTC) and links."""
    return [{"token": inv.token, "code": inv.display_code, "centre": inv.centre, "service": inv.service,
             "survey": inv.survey, "expires_at": iso_utc(inv.expires_at), "links": batch.links.of(inv.token)}
            for inv in batch.issued]


def csv_text(rows: list[dict]) -> str:
    """The records as CSV with the columns of CSV_COLUMNS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([r["token"], r["code"], r["centre"], r["service"] or "", r["survey"], r["expires_at"],
                         r["links"].get("web", ""), r["links"].get("telegram", "")])
    return out.getvalue()


def sheet_title(batch: Batch) -> str:
    return f"Phiếu mời đánh giá sự hài lòng – {batch.centre_name}"


def cards(batch: Batch) -> list:
    """The sheet's cards (`bot.survey.qr.Card`), each with the QR code of its invitation's link."""
    from bot.survey.qr import Card, instruction, qr_png  # qrcode and PIL load only for QR codes

    links, valid = batch.links, dmy(batch.valid_until)
    return [Card(inv.display_code, qr_png(links.for_qr(inv.token) or ""), batch.centre_name, batch.service_name,
                 instruction(inv.display_code, valid, web_base=links.web_base, bot=links.bot))
            for inv in batch.issued]


def sheet(batch: Batch) -> str:
    """The batch's printable A4 sheet: one self-contained HTML document (`bot.survey.qr.sheet_html`)."""
    from bot.survey.qr import sheet_html

    return sheet_html(cards(batch), title=sheet_title(batch))
