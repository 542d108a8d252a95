"""The counter poster: one A4 page with the QR code of a centre's open-survey address, for counters whose
receipts carry no QR code. Pure rendering: strings and numbers in, HTML out.

The file is self-contained (the QR code inlined as a data: URI) so it can be mailed and printed from any browser.
The page is exactly A4 with no printer margin of its own (`@page { margin: 0 }`), so browsers add no header or
footer line, and the QR code is 12 cm wide: at least 10 cm even when someone prints it "fit to page".
"""

from __future__ import annotations

import base64
import html
from urllib.parse import quote

from bot.survey.qr import qr_png
from bot.texts import say

QR_MM = 120
# 40 pixels a module: about 300 dpi at 12 cm, so a PDF viewer's smoothing cannot blur the modules' edges.
QR_BOX = 40
# The page around the code is white, so the image needs only part of the 4-module quiet zone the standard asks for.
QR_BORDER = 2


def open_survey_url(base: str, code: str) -> str:
    """The address of a centre's open survey: ``{base}/c/{code}``, the code URL-quoted."""
    return f"{base.rstrip('/')}/c/{quote(code, safe='')}"


def _name_size(name: str) -> str:
    # A long official name ("Trung tâm Phục vụ hành chính công tỉnh ...") must not push the QR code off the page.
    return "20pt" if len(name) <= 70 else "16pt" if len(name) <= 140 else "13pt" if len(name) <= 220 else "11pt"


_CSS = f"""
@page {{ size: A4 portrait; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; }}
body {{ font-family: "Noto Sans", "Segoe UI", Arial, sans-serif; color: #000; background: #ddd; }}
.page {{ width: 210mm; height: 297mm; margin: 0 auto; padding: 12mm 16mm 10mm; background: #fff; overflow: hidden;
  display: flex; flex-direction: column; align-items: center; text-align: center; }}
.centre, h1 {{ text-wrap: balance; }}
/* At most 4 lines, ending in "…" (a 300-character name, the longest stored, takes 3 lines at 11pt). */
.centre {{ font-weight: bold; line-height: 1.2; display: -webkit-box; -webkit-box-orient: vertical;
  -webkit-line-clamp: 4; line-clamp: 4; overflow: hidden; }}
h1 {{ font-size: 34pt; line-height: 1.15; margin: 5mm 0 0; }}
.qr {{ width: {QR_MM}mm; height: {QR_MM}mm; margin-top: 6mm; image-rendering: pixelated; }}
.address {{ font-size: 11pt; margin-top: 1mm; }}
.url {{ font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 15pt; font-weight: bold;
  word-break: break-all; margin-top: 1mm; }}
ol {{ list-style: none; counter-reset: step; margin: 7mm 0 0; padding: 0; width: 100%;
  display: flex; gap: 5mm; text-align: left; }}
li {{ counter-increment: step; flex: 1; display: flex; gap: 2.5mm; align-items: flex-start;
  font-size: 14pt; line-height: 1.25; }}
/* A bordered circle, not a filled one: browsers leave out backgrounds when printing unless told otherwise. */
li::before {{ content: counter(step); flex-shrink: 0; width: 10mm; height: 10mm; border: 0.7mm solid #000;
  border-radius: 50%; display: flex; align-items: center; justify-content: center; font-weight: bold;
  font-size: 15pt; }}
.promise {{ margin-top: 6mm; font-size: 13pt; line-height: 1.35; border-top: 0.4mm solid #000; padding-top: 4mm;
  width: 100%; }}
.promise strong {{ font-size: 14pt; }}
.other {{ margin-top: auto; font-size: 11pt; line-height: 1.3; color: #333; }}
.note {{ width: 210mm; margin: 4mm auto; font-size: 10pt; color: #333; }}
@media print {{
  body {{ background: none; }}
  .note {{ display: none; }}
  .page {{ break-after: avoid; }}
}}
"""


def poster_html(centre_name: str, url: str, *, questions: int, minutes: int, language: str = "vi") -> str:
    """The A4 poster of ``url`` for the centre ``centre_name``, in ``language`` with one line in the other.

    ``questions`` and ``minutes`` are what the survey at ``url`` asks and takes, for the third step.
    """
    other = "en" if language == "vi" else "vi"

    def text(key: str, lang: str = language, **values: object) -> str:
        return html.escape(say(f"citizen.{key}", lang, **values))

    image = base64.b64encode(qr_png(url, box_size=QR_BOX, border=QR_BORDER)).decode("ascii")
    steps = "".join(f"<li>{text(key, questions=questions, minutes=minutes)}</li>"
                    for key in ("poster_step_camera", "poster_step_scan", "poster_step_answer"))
    title = text("poster_document_title", centre=centre_name)
    return (f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f"<style>{_CSS}</style>\n</head>\n<body>\n<main class=\"page\">\n"
            f'<div class="centre" style="font-size: {_name_size(centre_name)}">{html.escape(centre_name)}</div>\n'
            f"<h1>{text('poster_title')}</h1>\n"
            f'<img class="qr" alt="{text("poster_qr_alt")}" src="data:image/png;base64,{image}">\n'
            f'<div class="address">{text("poster_type_address")}</div>\n'
            f'<div class="url">{html.escape(url)}</div>\n'
            f"<ol>{steps}</ol>\n"
            f'<p class="promise"><strong>{text("poster_anonymous")}</strong><br>{text("poster_no_app")}</p>\n'
            f'<p class="other" lang="{other}">{text("poster_other_language", other, minutes=minutes)}</p>\n'
            f'</main>\n<p class="note">{text("poster_print_note")}</p>\n</body>\n</html>\n')
