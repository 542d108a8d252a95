"""Names that start like a formula (= + - @) are text in every CSV and XLSX file we write (issue 9): a service
called "=HYPERLINK(...)" must never become a live formula in a report or an export."""

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import update
from test_report import QUICK, seed

from bot.cells import csv_text, csv_untext
from bot.storage.models import Centre, Service

EVIL = '=HYPERLINK("http://x.example","bấm")'


async def evil_names(services) -> None:
    await seed(services)
    async with services.db.transaction() as session:
        await session.execute(update(Service).values(name=EVIL))
        await session.execute(update(Centre).where(Centre.code == "HL").values(name="+Hải Lăng"))
        await session.execute(update(Centre).where(Centre.code == "DH").values(name="@Đông Hà"))


async def test_the_report_workbook_has_no_formula(services, cli, tmp_path):
    await evil_names(services)
    code, _, err = cli("report", "--survey", QUICK, "--min-n", "1", "--by", "centre,service", "--format", "xlsx",
                       "-o", "r.xlsx")
    assert code == 0, err
    book = load_workbook(tmp_path / "r.xlsx")
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "@"))]
    assert {cell.value for cell in cells} == {EVIL, "+Hải Lăng", "@Đông Hà"}
    assert all(cell.data_type == "s" for cell in cells), [(c.coordinate, c.data_type) for c in cells]
    assert len([cell for cell in cells if cell.value == EVIL]) >= 3  # summary, elements, criteria


async def test_the_report_csv_and_the_export_codebook_guard_names(services, cli, tmp_path):
    await evil_names(services)
    code, _, err = cli("report", "--survey", QUICK, "--min-n", "1", "--by", "centre,service", "--format", "csv",
                       "-o", "r.csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert {row["service_name"] for row in rows} == {"'" + EVIL, ""}
    assert {row["centre_name"] for row in rows} == {"'+Hải Lăng", "'@Đông Hà"}
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_the_guard_round_trips():
    for text in ("=x", "'=x", "''", "'", "-5 sao", "@a", "bình thường", "", "'a"):
        assert csv_untext(csv_text(text)) == text
    assert csv_text(4) == 4 and csv_text(None) is None
