"""`sipas-bot invite --poster`, run as a real process on a real SQLite file: the A4 counter poster of a centre's
open-survey address, its QR code read back with a decoder, every mistake in one line with nothing written; and,
where Debian's chromium is installed, the poster printed to PDF (one A4 page) and its QR code measured on screen."""

import base64
import io
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from bot.instruments import load_instruments
from bot.storage.models import Invitation
from bot.survey import directory
from bot.survey.poster import open_survey_url, poster_html

CENTRE = "Trung tâm Phục vụ hành chính công phường Sài Gòn"
BASE = "https://khaosat.example.vn/sipas/"
URL = "https://khaosat.example.vn/sipas/c/HCM-Q1"
ENV = {"SIPAS_PUBLIC_URL": BASE, "SIPAS_TELEGRAM_BOT_USERNAME": "", "SIPAS_DEFAULT_SURVEY": "sipas-2023"}
IMAGE = re.compile(r'<img class="qr" [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


async def seed(services, open_surveys: bool) -> None:
    async with services.db.transaction() as session:
        await directory.add_centre(session, "HCM-Q1", CENTRE, open_surveys=open_surveys)


def qr_text(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


def embedded_qr(page: str) -> Image.Image:
    [encoded] = IMAGE.findall(page)
    return Image.open(io.BytesIO(base64.b64decode(encoded)))


def html_files(folder: Path) -> list[Path]:
    """Every poster, finished or partial, under ``folder`` (files only: a test makes a folder of such a name)."""
    return sorted(p for p in folder.rglob("*") if p.suffix in (".html", ".partial") and p.is_file()
                  and "data" not in p.relative_to(folder).parts)


async def test_the_poster_carries_the_centre_and_its_open_survey_address(services, cli_process, tmp_path):
    await seed(services, open_surveys=False)
    counter = tmp_path / "counter"
    counter.mkdir()
    # A centre that takes invitations only would print an address that leads nowhere: refused, with the fix.
    code, out, err = cli_process("invite", "--poster", "hcm-q1", env=ENV, cwd=counter)
    assert (code, out) == (1, "")
    assert err == ("Error: centre HCM-Q1 does not accept surveys without an invitation, so the poster's QR code "
                   "would not work; turn them on with `sipas-bot centre set HCM-Q1 --open-surveys`; nothing was "
                   "written\n")
    assert html_files(tmp_path) == []
    assert cli_process("centre", "set", "HCM-Q1", "--open-surveys")[0] == 0

    code, out, err = cli_process("invite", "--poster", "hcm-q1", env=ENV, cwd=counter)
    assert code == 0, err
    poster = counter / "poster-HCM-Q1.html"  # the stored form of the code, in the current folder
    assert html_files(tmp_path) == [poster]
    assert out.splitlines() == [
        f"Poster of {CENTRE}: {poster.resolve()}", f"Its QR code leads to {URL}",
        "Open the file in a browser and print it on A4 paper at 100% scale (not “fit to page”): the QR code is "
        "12 cm wide."]
    page = poster.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    assert unicodedata.normalize("NFC", CENTRE) in page
    assert f'<div class="url">{URL}</div>' in page  # for those who type it
    # Self-contained: the one image is inlined and nothing is fetched from elsewhere.
    assert page.count("<img ") == 1 and "http" not in page.replace(URL, "")
    qr = embedded_qr(page)
    assert qr.format == "PNG" and qr.size[0] == qr.size[1] >= 1000  # sharp when printed 12 cm wide
    assert qr_text(qr) == [URL]
    assert int(re.search(r"\.qr \{ width: (\d+)mm", page).group(1)) >= 100

    questions = len(load_instruments(None)["sipas-2023"].questions())
    minutes = -(-questions // 4)
    for text in ("Mời Ông/Bà đánh giá sự hài lòng", "Mở camera điện thoại.",
                 "Quét mã QR, rồi chạm vào đường liên kết hiện ra.",
                 f"Trả lời {questions} câu hỏi ngắn, trong khoảng {minutes} phút.",
                 "Ẩn danh: chúng tôi không hỏi tên hay số điện thoại của Ông/Bà.",
                 "Không cần cài ứng dụng, không cần tài khoản.",
                 f'<p class="other" lang="en">Rate our service: scan the QR code with your phone&#x27;s camera. '
                 f"Anonymous, about {minutes} minutes, no app or account needed.</p>"):
        assert text in page, text
    assert page.count("<li>") == 3

    # A poster issues nothing.
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 0

    # An existing file is kept unless --force; with it, the poster replaces it (here for a shorter survey).
    mine = tmp_path / "mine.html"
    mine.write_text("x")
    code, out, err = cli_process("invite", "--poster", "HCM-Q1", "--out", str(mine), env=ENV)
    assert (code, out, mine.read_text()) == (1, "", "x")
    assert err == f"Error: {mine} exists already; add --force to overwrite it or choose another file with --out\n"
    code, _, err = cli_process("invite", "--poster", "HCM-Q1", "--out", str(mine), "--force",
                               env={**ENV, "SIPAS_DEFAULT_SURVEY": "sipas-quick"})
    assert code == 0, err
    quick = len(load_instruments(None)["sipas-quick"].questions())
    page = mine.read_text(encoding="utf-8")
    assert f"Trả lời {quick} câu hỏi ngắn, trong khoảng {-(-quick // 4)} phút." in page
    assert qr_text(embedded_qr(page)) == [URL]
    assert html_files(tmp_path) == [poster, mine]  # no partial file left beside it


async def test_every_mistake_is_one_line_exit_1_and_writes_nothing(services, cli, tmp_path):
    await seed(services, open_surveys=True)
    async with services.db.transaction() as session:
        await directory.add_centre(session, "CLOSED", "UBND xã Bình Chánh")
    (tmp_path / "a-file").write_text("x")
    (tmp_path / ".taken.html.partial").mkdir()  # where the poster would be written first: the write fails
    no_url = {**ENV, "SIPAS_PUBLIC_URL": ""}
    cases = [
        (["--poster", "HCM-Q1"], no_url, "Error: --poster needs SIPAS_PUBLIC_URL: the poster's QR code leads to "
         "SIPAS_PUBLIC_URL/c/CODE; set SIPAS_PUBLIC_URL to the service's public address (for example "
         "https://survey.province.gov.vn)"),
        (["--poster", "HCM-Q1"], {**ENV, "SIPAS_PUBLIC_URL": "khaosat.example.vn"},
         "Error: SIPAS_PUBLIC_URL must be an http:// or https:// address (got 'khaosat.example.vn')"),
        (["--poster", "nope"], ENV, "Error: no centre with code 'NOPE'; see `sipas-bot centre list`"),
        (["--poster", "a b"], ENV, "Error: centre code 'a b' must be 1 to 40 letters"),
        (["--poster", "closed"], ENV, "Error: centre CLOSED does not accept surveys without an invitation, so the "
         "poster's QR code would not work; turn them on with `sipas-bot centre set CLOSED --open-surveys`; "
         "nothing was written"),
        (["--poster", "HCM-Q1", "--out", str(tmp_path / "no" / "such" / "p.html")], ENV,
         f"Error: the folder {tmp_path / 'no' / 'such'} does not exist"),
        (["--poster", "HCM-Q1", "--out", str(tmp_path / "a-file" / "p.html")], ENV,
         f"Error: the folder {tmp_path / 'a-file'} does not exist"),
        (["--poster", "HCM-Q1", "--out", str(tmp_path)], ENV, "is a directory"),
        (["--poster", "HCM-Q1", "--out", str(tmp_path / "taken.html")], ENV,
         f"Error: cannot write the poster to {tmp_path / 'taken.html'}: Is a directory"),
        (["--poster", "HCM-Q1", "--count", "1", "--format", "json"], ENV,
         "Error: --poster cannot be combined with --count, --format: a poster issues no invitations"),
        (["--poster", "HCM-Q1", "--centre", "HCM-Q1"], ENV, "Error: --poster cannot be combined with --centre"),
        (["--centre", "HCM-Q1", "--out", "p.html", "--force"], ENV, "Error: --out, --force only go with --poster"),
        ([], ENV, "Error: give --centre CODE (to issue invitations) or --poster CODE (for a counter poster)"),
    ]
    for args, env, expected in cases:
        code, out, err = cli("invite", *args, env=env)
        assert (code, out) == (1, ""), (args, err)
        assert err.startswith("Error: ") and expected in err and len(err.splitlines()) == 1, (args, err)
    assert html_files(tmp_path) == []
    assert (tmp_path / ".taken.html.partial").is_dir()  # not ours: left alone
    # In Vietnamese, the admin CLI's default language.
    code, _, err = cli("invite", "--poster", "HCM-Q1", env={**no_url, "SIPAS_ADMIN_LANGUAGE": "vi"})
    assert code == 1 and err.startswith("Lỗi: --poster cần SIPAS_PUBLIC_URL")
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_the_address_quotes_the_code_and_the_page_escapes_the_name():
    assert open_survey_url("https://x.vn/a/", "HCM Q1/2") == "https://x.vn/a/c/HCM%20Q1%2F2"
    page = poster_html("Trung tâm <b>&</b>", "https://x.vn/c/A", questions=6, minutes=2, language="en")
    assert "<b>&</b>" not in page and "Trung tâm &lt;b&gt;&amp;&lt;/b&gt;" in page
    assert '<html lang="en">' in page and "Answer 6 short questions, in about 2 minutes." in page
    assert '<p class="other" lang="vi">Đánh giá sự phục vụ' in page


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_printed_it_is_one_a4_page_and_the_qr_code_is_over_10_cm(tmp_path):
    # The longest name a centre may have (300 characters) and a long address: still one page.
    name = ("Trung tâm Phục vụ hành chính công tỉnh Thừa Thiên Huế, Chi nhánh Bộ phận Một cửa liên thông "
            "của Ủy ban nhân dân phường Phú Hội " * 3)[:300]
    url = open_survey_url("https://dichvucong.thuathienhue.gov.vn/khao-sat-su-hai-long/sipas", "TTPVHCC-HUE_2025")
    poster = tmp_path / "poster.html"
    poster.write_text(poster_html(name, url, questions=20, minutes=5), encoding="utf-8")
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    pdf, shot = tmp_path / "poster.pdf", tmp_path / "poster.png"
    for option in (f"--print-to-pdf={pdf}", f"--screenshot={shot}"):
        subprocess.run([*browser, "--hide-scrollbars", "--no-pdf-header-footer", "--window-size=794,1123", option,
                        poster.as_uri()], capture_output=True, timeout=120, check=True)
    data = pdf.read_bytes()
    assert len(re.findall(rb"/Type\s*/Page(?!s)", data)) == 1
    [box] = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert abs(float(box[0]) - 595.3) < 2 and abs(float(box[1]) - 841.9) < 2  # A4 in points
    # On screen the page is 794 px wide for 210 mm (96 px an inch): the code, quiet zone aside, spans 10 cm+.
    [found] = zxingcpp.read_barcodes(Image.open(shot))
    assert found.text == url
    width_px = found.position.top_right.x - found.position.top_left.x
    assert width_px * 25.4 / 96 >= 100, width_px
