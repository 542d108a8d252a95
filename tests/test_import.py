"""`sipas-bot import`, run as a real process on a real SQLite file: good CSV and XLSX files, every bad input with
its exact message and nothing written, --skip-invalid, and the same file twice."""

import datetime as dt
import hashlib
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
from sqlalchemy import func, select

from bot.paper.checks import Problem, reason
from bot.paper.importer import problem_lines
from bot.reports.dataset import load_ratings
from bot.storage.models import ImportBatch, Response
from bot.survey import directory

SAVE_AS = 'in Excel use Save As and pick "CSV UTF-8 (Comma delimited)" or "Excel Workbook (.xlsx)"'


def database_env(settings) -> dict:
    """Point the process at the test's database (a PostgreSQL run sets it; SQLite follows the data dir)."""
    if not settings.database_url:
        return {}
    return {"SIPAS_DATABASE_URL": settings.database_url, "SIPAS_SECRET_KEY": settings.secret_key.get_secret_value()}


async def seed(services) -> None:
    async with services.db.transaction() as session:
        await directory.add_centre(session, "HUE01", "Trung tâm Phục vụ hành chính công tỉnh Huế")
        await directory.add_centre(session, "DN02", "Trung tâm Phục vụ hành chính công Đà Nẵng")
        await directory.add_service(session, "HT01", "Đăng ký khai sinh")


async def stored(services) -> tuple[list[Response], list[ImportBatch]]:
    async with services.db.reading() as session:
        responses = (await session.scalars(select(Response).order_by(Response.submitted_on))).all()
        batches = (await session.scalars(select(ImportBatch))).all()
    return list(responses), list(batches)


async def count(services, model) -> int:
    async with services.db.reading() as session:
        return await session.scalar(select(func.count()).select_from(model))


def csv_bytes(lines: list[str], bom: bool = True) -> bytes:
    text = "\n".join(lines) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


GOOD = [
    "centre,service,submitted_on,submission_mode,access_1,access_3,staff_2,feedback_1,feedback_2,harassment,comment",
    'hue01,ht01,2024-05-01,1,5,,4,NA,na,1,"Tốt, gọi tôi 0912 345 678"',
    " Dn02 ,,2024-05-02,2,,3, 1 ,,4,,",
    'HUE01,Ht01,2024-05-03,3,4,4,4,2,,2,"Nhân viên tận tình,\nhướng dẫn kỹ"',
]


async def test_good_csv_is_stored_as_paper_responses_and_refused_the_second_time(services, cli, cli_process, settings,
                                                                                tmp_path):
    await seed(services)
    path = tmp_path / "phieu-thang-5.csv"
    path.write_bytes(csv_bytes(GOOD))
    code, out, err = cli_process("import", str(path), "--survey", "sipas-2023", env=database_env(settings))
    assert (code, err) == (0, "")
    assert out == f"imported 3 responses to sipas-2023 from {path} (0 rows skipped; batch 1)\n"

    responses, batches = await stored(services)
    assert len(responses) == 3 and len(batches) == 1
    batch = batches[0]
    assert (batch.content_hash, batch.filename, batch.instrument, batch.rows) == (
        hashlib.sha256(path.read_bytes()).hexdigest(), "phieu-thang-5.csv", "sipas-2023", 3)
    assert {(r.channel, r.import_batch_id, r.instrument_version) for r in responses} == {("paper", batch.id, 1)}
    first, second, third = responses
    assert first.comment == "Tốt, gọi tôi [số điện thoại]"  # redacted like a chat comment
    assert third.comment == "Nhân viên tận tình,\nhướng dẫn kỹ"
    assert second.comment is None and second.service_id is None
    # Present but empty = skipped (None); a column not in the file was not asked (no entry).
    assert first.answers == {"submission_mode": 1, "harassment": 1}
    assert second.answers == {"submission_mode": 2, "harassment": None, "comment": None}
    assert "informal_payment" not in first.answers

    async with services.db.reading() as session:
        frame = await load_ratings(session, services.instrument("sipas-2023"))
    frame = frame.sort_values("submitted_on").reset_index(drop=True)
    assert frame["centre"].tolist() == ["HUE01", "DN02", "HUE01"]
    assert frame["service"].fillna("-").tolist() == ["HT01", "-", "HT01"]
    assert frame["channel"].tolist() == ["paper"] * 3
    columns = ["access_1", "access_2", "access_3", "staff_2", "feedback_1", "feedback_2"]
    expected = np.array([[5, np.nan, np.nan, 4, 0, 0],  # NA is 0, skipped and not asked are NaN
                         [np.nan, np.nan, 3, 1, np.nan, 4],
                         [4, np.nan, 4, 4, 2, np.nan]])
    np.testing.assert_array_equal(frame[columns].to_numpy(), expected)

    code, out, err = cli("import", str(path), "--survey", "sipas-2023", env=database_env(settings))
    when = batch.imported_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(settings.timezone))
    when = when.strftime("%Y-%m-%d %H:%M (Asia/Ho_Chi_Minh)")
    assert (code, out) == (1, "")
    assert err == (f"Error: this file was already imported on {when} (3 responses to sipas-2023 from "
                   "phieu-thang-5.csv); nothing was imported\n")
    assert await count(services, Response) == 3 and await count(services, ImportBatch) == 1


async def test_xlsx_and_csv_without_bom_or_with_semicolons(services, cli, settings, tmp_path):
    await seed(services)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Centre", "service", "submitted_on", "access_1", "procedure_1", "feedback_1", "comment"])
    sheet.append(["hue01", None, dt.datetime(2024, 6, 1), 5, 4.0, "NA", "Rất hài lòng"])  # Excel's own types
    sheet.append(["DN02", "HT01", "2024-06-02", "3", None, 1, None])
    sheet.append([None] * 7)  # blank rows are not responses
    book.create_sheet("ghi chú").append(["ignored: only the first sheet is read"])
    book.save(tmp_path / "forms.xlsx")
    (tmp_path / "plain.csv").write_bytes(csv_bytes(
        ["centre,submitted_on,staff_1,feedback_1", "dn02,2024-06-03,2,NA"], bom=False))
    (tmp_path / "excel-vi.csv").write_bytes(csv_bytes(
        ["centre;submitted_on;staff_1;comment", "HUE01;2024-06-04;4;Phòng chờ chật, nóng"]))

    for batch, name in enumerate(("forms.xlsx", "plain.csv", "excel-vi.csv"), start=1):
        code, out, err = cli("import", name, "--survey", "sipas-quick", env=database_env(settings))
        assert code == 0, err
        rows = 2 if name == "forms.xlsx" else 1
        assert out == f"imported {rows} responses to sipas-quick from {name} (0 rows skipped; batch {batch})\n"

    async with services.db.reading() as session:
        frame = await load_ratings(session, services.instrument("sipas-quick"))
    frame = frame.sort_values("submitted_on").reset_index(drop=True)
    assert frame["submitted_on"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-06-01", "2024-06-02", "2024-06-03", "2024-06-04"]
    np.testing.assert_array_equal(
        frame[["access_1", "procedure_1", "staff_1", "feedback_1"]].to_numpy(),
        [[5, 4, np.nan, 0], [3, np.nan, np.nan, 1], [np.nan, np.nan, 2, 0], [np.nan, np.nan, 4, np.nan]])
    responses, batches = await stored(services)
    assert [r.comment for r in responses] == ["Rất hài lòng", None, None, "Phòng chờ chật, nóng"]
    assert {r.channel for r in responses} == {"paper"}
    assert sorted(b.filename for b in batches) == ["excel-vi.csv", "forms.xlsx", "plain.csv"]


BAD = [
    "centre,service,submitted_on,submission_mode,access_1,staff_2,feedback_1,harassment,comment",
    'HUE01,HT01,2024-05-01,1,5,4,NA,1,"Một ý kiến\ntrên hai dòng"',  # row 2 (two lines in the file, one row)
    "XX99,,2024-05-01,1,5,4,4,1,",  # 3
    "HUE01,ZZ,2024-05-01,1,5,4,4,1,",  # 4
    "HUE01,,2099-01-01,1,5,4,4,1,",  # 5
    "HUE01,,01/05/2024,1,5,4,4,1,",  # 6
    "HUE01,,2024-02-30,1,5,4,4,1,",  # 7
    ",,2024-05-01,1,5,4,4,1,",  # 8
    "HUE01,,,1,5,4,4,1,",  # 9
    "HUE01,,2024-05-01,1,5,6,4,1,",  # 10
    "HUE01,,2024-05-01,1,NA,4.5,4,1,",  # 11
    "HUE01,,2024-05-01,1,5,4,x,1,",  # 12
    "HUE01,,2024-05-01,1,5,4,4,4,",  # 13
    "HUE01,,2024-05-01,na,5,4,4,1,",  # 14
    ",,,,,,,,",  # 15: blank, ignored
    "dn02,,2024-05-04,2,3,3,,,",  # 16
]
BAD_LINES = [
    'row 3, column centre, value "XX99": no centre with this code; see `sipas-bot centre list`',
    'row 4, column service, value "ZZ": no service with this code; see `sipas-bot service list`',
    'row 5, column submitted_on, value "2099-01-01": the date is in the future',
    'row 6, column submitted_on, value "01/05/2024": a date must be written YYYY-MM-DD, for example 2024-05-31',
    'row 7, column submitted_on, value "2024-02-30": there is no such date',
    'row 8, column centre, value "": a centre code is required',
    'row 9, column submitted_on, value "": a date is required (YYYY-MM-DD)',
    'row 10, column staff_2, value "6": a rating must be a whole number from 1 to 5',
    'row 11, column access_1, value "NA": NA (not applicable) is not allowed for this question',
    'row 11, column staff_2, value "4.5": a rating must be a whole number from 1 to 5',
    'row 12, column feedback_1, value "x": a rating must be a whole number from 1 to 5 or NA',
    'row 13, column harassment, value "4": not one of the options 1, 2, 3',
    'row 14, column submission_mode, value "na": NA (not applicable) is not allowed for this question',
]


async def test_bad_rows_are_listed_and_nothing_is_imported_unless_skip_invalid(services, cli, cli_process, settings,
                                                                              tmp_path):
    await seed(services)
    (tmp_path / "bad.csv").write_bytes(csv_bytes(BAD))
    code, out, err = cli_process("import", "bad.csv", "--survey", "sipas-2023", env=database_env(settings))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "Error: nothing was imported: 12 of 14 rows have problems (fix them, or use --skip-invalid to import the "
        "other 2):", *(f"  {line}" for line in BAD_LINES)]
    assert await count(services, Response) == 0 and await count(services, ImportBatch) == 0

    code, out, err = cli("import", "bad.csv", "--survey", "sipas-2023", "--skip-invalid", env=database_env(settings))
    assert code == 0
    assert out == "imported 2 responses to sipas-2023 from bad.csv (12 rows skipped; batch 1)\n"
    assert err.splitlines() == ["skipped 12 rows with problems:", *(f"  {line}" for line in BAD_LINES)]
    responses, batches = await stored(services)
    assert [(r.submitted_on.isoformat(), r.comment) for r in responses] == [
        ("2024-05-01", "Một ý kiến\ntrên hai dòng"), ("2024-05-04", None)]
    assert batches[0].rows == 2


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


FILE_ERRORS = {
    "unknown column": ("f.csv", csv_bytes(["centre,submitted_on,staff_1,staff_9,ghi chú", "HUE01,2024-05-01,4,4,"]), [
        "Error: nothing was imported; the header row (row 1) of f.csv has problems:",
        '  unknown columns "staff_9", "ghi chú"; the columns of sipas-quick are: centre, service, submitted_on, '
        "access_1, procedure_1, staff_1, result_1, feedback_1, comment"]),
    "missing columns": ("f.csv", csv_bytes(["service,access_1,access_1", "HT01,4,4"]), [
        "Error: nothing was imported; the header row (row 1) of f.csv has problems:",
        '  column "access_1" appears twice',
        '  no "centre" column (the header row must name it)',
        '  no "submitted_on" column (the header row must name it)']),
    "empty file": ("f.csv", b"", ["Error: f.csv is empty"]),
    "only a BOM": ("f.csv", b"\xef\xbb\xbf\r\n", ["Error: f.csv is empty"]),
    "header only": ("f.xlsx", None, ["Error: f.xlsx has a header row but no responses below it"]),
    "binary": ("f.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
               [f"Error: f.png is neither a CSV file (UTF-8 text) nor an XLSX workbook; {SAVE_AS}"]),
    "windows code page": ("f.csv", "centre,submitted_on,comment\nHUE01,2024-05-01,Đà\n".encode("cp1258"),
                          ["Error: f.csv is neither an XLSX workbook nor a CSV file in UTF-8 (row 2 has text in "
                           f"another encoding, as an older 'CSV' save in the Windows code page writes); {SAVE_AS}"]),
    "old xls": ("f.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
                [f"Error: f.xls is an old Excel .xls file, which cannot be read; {SAVE_AS}"]),
    "zip, not xlsx": ("f.xlsx", zip_bytes(),
                      [f"Error: f.xlsx is a zip file but not a readable XLSX workbook; {SAVE_AS}"]),
    "no file": ("missing.csv", ..., ["Error: missing.csv does not exist"]),
    "every row bad": ("f.csv", csv_bytes(["centre,submitted_on,staff_1", "HUE01,2024-05-01,0"]), [
        "Error: nothing was imported: the only row has problems:",
        '  row 2, column staff_1, value "0": a rating must be a whole number from 1 to 5']),
}


async def test_file_level_errors_import_nothing(services, cli, settings, tmp_path):
    await seed(services)
    for number, (name, data, _) in enumerate(FILE_ERRORS.values()):
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        if data is None:
            book = openpyxl.Workbook()
            book.active.append(["centre", "submitted_on", "access_1"])
            book.save(folder / name)
        elif data is not ...:
            (folder / name).write_bytes(data)

    def run(number: int, name: str):
        return cli("import", name, "--survey", "sipas-quick", "--skip-invalid", env=database_env(settings),
                   cwd=tmp_path / f"case{number}")

    with ThreadPoolExecutor(max_workers=4) as pool:  # independent processes that only read the database
        results = list(pool.map(run, range(len(FILE_ERRORS)), [name for name, _, _ in FILE_ERRORS.values()]))
    for case, (code, out, err) in zip(FILE_ERRORS, results, strict=True):
        assert (code, out, err.splitlines()) == (1, "", FILE_ERRORS[case][2]), case
    assert await count(services, Response) == 0 and await count(services, ImportBatch) == 0


def test_a_long_list_of_problems_is_cut_after_the_first_hundred():
    problems = [Problem(row, "staff_1", "9", reason("rating")) for row in range(2, 252)]
    lines = problem_lines(problems)
    assert len(lines) == 101 and lines[99].startswith("row 101, column staff_1")
    assert lines[-1] == "... and 150 more problems"
