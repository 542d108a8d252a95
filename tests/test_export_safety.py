"""Output safety of every CSV and XLSX file we write: a citizen's comment "=HYPERLINK(...)" given through the real
web survey, and a centre called "+1 test", leave as text, never as a formula: in the responses export (CLI, CSV
and XLSX), the report (CLI, CSV and XLSX) and their API variants. A text cell that starts with = + - @, a tab or a
carriage return gets an apostrophe in a CSV file and is a quoted text cell in a workbook; numbers, negative ones
included, stay numbers."""

import csv
import io

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import update
from test_report import QUICK, seed
from web_browser import Browser

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.storage.models import Service
from bot.survey import directory
from bot.survey.batches import issue_batch

EVIL = '=HYPERLINK("http://x.example","bấm vào đây")'
PLUS = "+1 test"


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def workbook_cells(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_text_cell(cells: list, text: str) -> None:
    """``text`` is in the workbook, as a text cell Excel keeps as text (its quote prefix), never a formula."""
    found = [cell for cell in cells if cell.value == text]
    assert found, f"{text!r} is not in the workbook"
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in found), [
        (cell.coordinate, cell.data_type, cell.quotePrefix) for cell in found]
    assert not [cell for cell in cells if cell.data_type == "f"]  # no formula anywhere


@pytest.fixture
async def answered(settings, cli):
    """A real response through the web survey at centre P1 ("+1 test"), its comment a formula; an admin key."""
    app = create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"}))
    async with TestClient(TestServer(app)) as client:
        async with app[SERVICES].db.transaction() as session:
            await directory.add_centre(session, "P1", PLUS)
        token = (await issue_batch(app[SERVICES], centre_code="P1", survey=QUICK)).issued[0].token
        browser = Browser(client)
        page = await browser.submit(await browser.get(f"/s/{token}"), "vi")
        for _ in range(5):
            page = await browser.choose(page, "Hài lòng")
        page = await browser.submit(page, "answer", text=EVIL)
        await browser.close()
        assert page.has("Xin cảm ơn")
        code, key, err = cli("apikey", "create", "--role", "admin")
        assert code == 0, err
        yield client, {"Authorization": f"Bearer {key.strip()}"}


async def test_the_responses_export_keeps_the_comment_text(answered, cli, tmp_path):
    client, admin = answered
    assert cli("export", "responses", "--survey", QUICK, "-o", "r.csv")[0] == 0
    assert cli("export", "responses", "--survey", QUICK, "-o", "r.xlsx")[0] == 0
    api = await client.get("/api/v1/responses.csv", params={"survey": QUICK}, headers=admin)
    assert api.status == 200
    for data in ((tmp_path / "r.csv").read_bytes(), await api.read()):
        rows = csv_cells(data)
        comment = rows[0].index("comment")
        assert [row[comment] for row in rows[1:]] == ["'" + EVIL]
        assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    cells = workbook_cells((tmp_path / "r.xlsx").read_bytes())
    assert_text_cell(cells, EVIL)
    assert [cell.value for cell in cells if cell.value in (1, 2, 3, 4, 5)]  # the ratings are numbers still


async def test_the_report_keeps_the_centre_name_text(answered, cli, tmp_path):
    client, admin = answered
    options = ("--survey", QUICK, "--min-n", "1", "--by", "centre")
    assert cli("report", *options, "--format", "csv", "-o", "r.csv")[0] == 0
    assert cli("report", *options, "--format", "xlsx", "-o", "r.xlsx")[0] == 0
    query = {"survey": QUICK, "min_n": "1", "by": "centre"}
    api_csv = await client.get("/api/v1/reports/sipas.csv", params=query, headers=admin)
    api_xlsx = await client.get("/api/v1/reports/sipas.xlsx", params=query, headers=admin)
    assert (api_csv.status, api_xlsx.status) == (200, 200)
    for data in ((tmp_path / "r.csv").read_bytes(), await api_csv.read()):
        rows = csv_cells(data)
        assert [row[rows[0].index("centre_name")] for row in rows[1:]] == ["'" + PLUS]
        assert float(rows[1][rows[0].index("sipas")]) > 0  # a number, no apostrophe
    for data in ((tmp_path / "r.xlsx").read_bytes(), await api_xlsx.read()):
        cells = workbook_cells(data)
        assert_text_cell(cells, PLUS)
        assert any(isinstance(cell.value, float) and cell.data_type == "n" for cell in cells)


async def test_negative_numbers_stay_numbers(services, cli, tmp_path):
    await seed(services)  # July higher than August: the province's change against the month before is negative
    options = ("--survey", QUICK, "--min-n", "1", "--period", "month", "--compare", "previous", "--total")
    assert cli("report", *options, "--format", "csv", "-o", "r.csv")[0] == 0
    assert cli("report", *options, "--format", "xlsx", "-o", "r.xlsx")[0] == 0
    rows = csv_cells((tmp_path / "r.csv").read_bytes())
    august = next(row for row in rows[1:] if row[rows[0].index("period")] == "2024-08"
                  and row[rows[0].index("total")] == "true")
    change = august[rows[0].index("change_sipas")]
    assert float(change) < 0 and change.startswith("-")  # "-12.5", not "'-12.5"
    assert not [cell for row in rows for cell in row if cell.startswith("'")]
    cells = workbook_cells((tmp_path / "r.xlsx").read_bytes())
    negative = [cell for cell in cells if isinstance(cell.value, float) and cell.value < 0]
    assert negative and all(cell.data_type == "n" for cell in negative)
    assert not [cell for cell in cells if isinstance(cell.value, str) and cell.value[:2] in ("'-", "-1", "-2")]


@pytest.mark.parametrize("name", ["\t=1+2", "\r@SUM(A1)", "-2+3", "@cmd"])
async def test_a_leading_tab_cr_minus_or_at_is_guarded(services, cli, tmp_path, name):
    await seed(services)
    async with services.db.transaction() as session:
        await session.execute(update(Service).values(name=name))
    options = ("--survey", QUICK, "--min-n", "1", "--by", "service")
    assert cli("report", *options, "--format", "csv", "-o", "r.csv")[0] == 0
    assert cli("report", *options, "--format", "xlsx", "-o", "r.xlsx")[0] == 0
    rows = csv_cells((tmp_path / "r.csv").read_bytes())
    # A carriage return is a line feed in our CSV files (bot.cells): left bare, it would start a new row.
    assert {row[rows[0].index("service_name")] for row in rows[1:]} == {"'" + name.replace("\r", "\n"), ""}
    # XML reads a bare \r as \n: the workbook's reader sees what Excel shows.
    assert_text_cell(workbook_cells((tmp_path / "r.xlsx").read_bytes()), name.replace("\r", "\n"))


async def test_a_carriage_return_inside_a_name_cannot_start_a_row(services, cli, tmp_path):
    await seed(services)
    async with services.db.transaction() as session:
        await session.execute(update(Service).values(name=f"Khai sinh\r{EVIL}"))
    assert cli("report", "--survey", QUICK, "--min-n", "1", "--by", "service", "--format", "csv", "-o", "r.csv")[0] == 0
    data = (tmp_path / "r.csv").read_bytes()
    assert b"\r" not in data
    rows = csv_cells(data)
    assert {row[rows[0].index("service_name")] for row in rows[1:]} == {f"Khai sinh\n{EVIL}", ""}
    assert all(len(row) == len(rows[0]) for row in rows)  # no row was split
