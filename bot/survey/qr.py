"""QR codes and the printable invitation sheet: pure rendering, strings and bytes in, bytes and HTML out.

The sheet is one self-contained HTML file (QR images inlined as data: URIs) so it can be mailed, opened offline and
printed from any browser: A4 portrait, 3 x 4 cards per page, dashed lines to cut along.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage

from bot.errors import grouped
from bot.texts import say

COLUMNS, ROWS = 3, 4
PER_PAGE = COLUMNS * ROWS


@dataclass(frozen=True)
class Card:
    """One cut-out card: everything printed on it, already decided by the caller."""

    code: str  # display form, "ABCD-EFGH"
    png: bytes
    centre_name: str
    service_name: str | None
    instruction: str


def qr_png(data: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """``data`` as a black-on-white QR code in PNG (1 bit per pixel, so about 1 KB for a t.me link)."""
    # Level M survives a smudged or creased receipt and keeps a 70-character link at version 5 (37 modules).
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border,
                         image_factory=PilImage)
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def instruction(display_code: str, valid_until: str, *, web_base: str | None = None, bot: str | None = None,
                language: str = "vi") -> str:
    """The one line that tells the citizen what to do with the card (``valid_until`` as dd/mm/yyyy): the web page
    where the code can be typed when there is one (the QR holds its link), else the Telegram bot."""
    if web_base:
        address = re.sub(r"^https?://", "", web_base) + "/s"  # short enough to type from the card
        return say("citizen.card_instruction_web", language, code=display_code, address=address, valid=valid_until)
    # No sheet is made without a link (bot.cli.invite, bot.http.dashboard): without the web page, there is the bot.
    return say("citizen.card_instruction", language, code=display_code, bot=bot, valid=valid_until)


_CSS = f"""
@page {{ size: A4 portrait; margin: 8mm; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: "Noto Sans", "Segoe UI", Arial, sans-serif; color: #000; background: #eee; }}
.note {{ width: 194mm; margin: 6mm auto 0; font-size: 10pt; color: #444; }}
.page {{ width: 194mm; height: 280mm; margin: 6mm auto; background: #fff; display: grid;
  grid-template-columns: repeat({COLUMNS}, minmax(0, 1fr));
  grid-template-rows: repeat({ROWS}, minmax(0, 1fr)); }}
.card {{ border: 0.3mm dashed #999; padding: 2.5mm 3mm; display: flex; flex-direction: column; gap: 1mm;
  align-items: center; justify-content: space-between; text-align: center; overflow: hidden; }}
.centre, .service, .code, .hint {{ flex-shrink: 0; }}
/* Long names end in "…" after 3 (centre) or 2 (service) lines instead of pushing the QR off the card. */
.centre, .service {{ display: -webkit-box; -webkit-box-orient: vertical; overflow: hidden; line-height: 1.15; }}
.centre {{ font-size: 8pt; font-weight: bold; -webkit-line-clamp: 3; line-clamp: 3; max-height: 3.45em; }}
.service {{ font-size: 7pt; -webkit-line-clamp: 2; line-clamp: 2; max-height: 2.3em; }}
/* Only the QR gives way when long names crowd the card, so the instruction is never cut off. */
.qr {{ width: 30mm; height: 30mm; min-height: 22mm; flex-shrink: 1; object-fit: contain;
  image-rendering: pixelated; }}
.code {{ font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 18pt; font-weight: bold;
  letter-spacing: 0.5mm; line-height: 1; }}
.hint {{ font-size: 7.5pt; line-height: 1.2; }}
@media print {{
  body {{ background: none; }}
  .note {{ display: none; }}
  .page {{ margin: 0; break-after: page; }}
  .page:last-child {{ break-after: auto; }}
}}
"""


def _card_html(card: Card) -> str:
    image = base64.b64encode(card.png).decode("ascii")
    service = f'<div class="service">{html.escape(card.service_name)}</div>' if card.service_name else ""
    return (f'<div class="card"><div class="centre">{html.escape(card.centre_name)}</div>{service}'
            f'<img class="qr" alt="QR {html.escape(card.code)}" src="data:image/png;base64,{image}">'
            f'<div class="code">{html.escape(card.code)}</div>'
            f'<div class="hint">{html.escape(card.instruction)}</div></div>')


def sheet_html(cards: Sequence[Card], *, title: str) -> str:
    """A printable A4 sheet of ``cards``, 12 per page, as one self-contained HTML document."""
    pages = [cards[start:start + PER_PAGE] for start in range(0, len(cards), PER_PAGE)]
    body = "\n".join(f'<section class="page">{"".join(_card_html(card) for card in page)}</section>'
                     for page in pages)
    count = grouped(len(cards), "vi")
    return (f'<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f'<p class="note">{html.escape(title)}: {count} phiếu, {len(pages)} trang A4 '
            f"({PER_PAGE} phiếu mỗi trang). In khổ A4, tỉ lệ 100%, rồi cắt theo đường nét đứt.</p>\n"
            f"{body}\n</body>\n</html>\n")
