"""`sipas-bot report` as a user runs it: the table, CSV, XLSX, the chart, bad input and an empty database."""

import csv
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook
from PIL import Image
from test_report import QUICK, report, seed

from bot.reports.chart import draw_chart
from bot.reports.xlsx import SHEETS

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def hand(services):
    return await seed(services)


async def test_table_in_vietnamese(services, hand, cli_process):
    code, out, err = cli_process("report", "--survey", QUICK, "--min-n", "3", "--period", "month")
    assert code == 0, err  # by month each month has one centre: no published total gives DH away
    lines = out.splitlines()
    for header in ("Trung tâm", "Kỳ", "Số phiếu", "SIPAS (KTC 95%)", "Tiếp cận", "Thủ tục", "Công chức", "Kết quả",
                   "Góp ý"):
        assert header in lines[0]
    hl = next(line for line in lines if line.startswith("HL "))
    assert "Hải Lăng" in hl and "tháng 7/2024" in hl
    assert "86,67 (10,50–99,72)" in hl and "66,67" in hl  # decimal comma; staff and result at 2/3
    dh = next(line for line in lines if line.startswith("DH "))
    assert "chưa đủ mẫu" in dh and "%" not in dh
    assert lines.index(hl) < lines.index(dh)
    assert "1 nhóm chưa đủ mẫu (dưới 3 phiếu)" in out


async def test_monthly_table_labels(services, hand, cli):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--by", "centre,service")
    assert code == 0, err
    assert "tháng 7/2024" in out and "tháng 8/2024" in out and "Dịch vụ" in out.splitlines()[0]
    assert "(không ghi)" in out  # DH's responses name no service


async def test_csv_rounds_to_two_decimals(services, hand, cli, tmp_path):
    target = tmp_path / "report.csv"
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "3", "--period", "month", "--format", "csv", "-o",
                         str(target))
    assert code == 0, err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads the names as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    hl, dh = rows
    assert (hl["centre"], hl["centre_name"], hl["period"], hl["n"], hl["suppressed"]) == (
        "HL", "Trung tâm Phục vụ hành chính công Hải Lăng", "2024-07", "3", "false")
    assert (hl["sipas"], hl["sipas_low"], hl["sipas_high"], hl["no_dissatisfied_pct"]) == (
        "86.67", "10.5", "99.72", "66.67")  # worked out in tests/test_report.py
    assert (hl["no_dissatisfied_low"], hl["no_dissatisfied_high"], hl["staff_low"], hl["staff_high"]) == (
        "20.77", "93.85", "4.38", "98.76")  # Wilson 2/3; staff 2/3 (tests/test_scoring.py)
    assert (hl["staff"], hl["staff_1_n"], hl["staff_1_satisfied_pct"], hl["staff_1_mean"]) == (
        "66.67", "3", "66.67", "4.0")
    assert (dh["n"], dh["suppressed"], dh["sipas"], dh["staff_1_n"]) == ("2", "true", "", "")
    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "3", "--format", "csv")
    assert out.splitlines()[0].startswith("centre,centre_name,period,n,suppressed,sipas,sipas_low,sipas_high")


async def test_xlsx_sheets_headers_rounding_and_chart(services, hand, cli, tmp_path):
    target, picture = tmp_path / "report.xlsx", tmp_path / "chart.png"
    code, _out, err = cli("report", "--survey", QUICK, "--min-n", "3", "--period", "month", "--format", "xlsx", "-o",
                         str(target), "--chart", str(picture))
    assert code == 0, err
    assert "Glyph" not in err  # every Vietnamese letter exists in the font
    book = load_workbook(target)
    assert book.sheetnames == list(SHEETS) == ["Tổng hợp", "Yếu tố", "Tiêu chí", "Tham gia", "Ưu tiên cải thiện",
                                               "Chất lượng dữ liệu", "Biểu đồ"]
    summary = [[cell.value for cell in row] for row in book["Tổng hợp"].iter_rows()]
    assert summary[0][:7] == ["Trung tâm", "Tên trung tâm", "Kỳ", "Số phiếu", "Chỉ số SIPAS", "Cận dưới", "Cận trên"]
    assert summary[1][:7] == ["HL", "Trung tâm Phục vụ hành chính công Hải Lăng", "tháng 7/2024", 3, 86.67, 10.5,
                              99.72]
    assert summary[2][0] == "DH" and summary[2][3] == 2 and summary[2][4] is None and "chưa đủ mẫu" in summary[2]
    assert book["Tổng hợp"].cell(2, 5).number_format == "0.00"
    elements = [[cell.value for cell in row] for row in book["Yếu tố"].iter_rows()]
    assert "Công chức trực tiếp giải quyết công việc" in elements[0]
    staff_column = elements[0].index("Công chức trực tiếp giải quyết công việc")
    assert elements[0][staff_column + 1:staff_column + 3] == [
        "Công chức trực tiếp giải quyết công việc: cận dưới", "Công chức trực tiếp giải quyết công việc: cận trên"]
    assert elements[1][staff_column:staff_column + 3] == [66.67, 4.38, 98.76]  # index and its interval
    assert summary[0][8:10] == ["Không có đánh giá không hài lòng: cận dưới",
                                "Không có đánh giá không hài lòng: cận trên"]
    assert summary[1][7:10] == [66.67, 20.77, 93.85]  # no rating of 1-2 on 2 of 3 forms, Wilson
    criteria = [[cell.value for cell in row] for row in book["Tiêu chí"].iter_rows()]
    assert criteria[0][3:8] == ["Mã tiêu chí", "Tiêu chí", "Yếu tố", "Số câu trả lời", "Hài lòng (%)"]
    assert len(criteria) == 1 + 5  # HL's five criteria; DH is suppressed
    staff = next(row for row in criteria if row[3] == "staff_1")
    assert staff[6:11] == [3, 66.67, 33.33, 0, 4]
    assert "Số lời mời" in [cell.value for cell in book["Tham gia"][1]]
    with zipfile.ZipFile(target) as archive:
        assert any(name.startswith("xl/media/") for name in archive.namelist())  # the chart, embedded
    assert picture.read_bytes().startswith(PNG)
    with Image.open(picture) as image:
        image.verify()


async def test_chart_draws_vietnamese_labels_without_missing_glyphs(services, hand, tmp_path):
    # pytest turns warnings into errors here, so a missing glyph ("Glyph ... missing from font") fails the test.
    result = await report(services, min_n=3, by="centre,service")
    assert draw_chart(result, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes().startswith(PNG)


async def test_participation_sheet_and_json_over_the_cli(services, hand, cli, tmp_path):
    code, _out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "json", "-o",
                         str(tmp_path / "r.json"), "--from", "2024-07-01", "--to", "2024-07-31")
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (data["from"], data["to"]) == ("2024-07-01", "2024-07-31")
    assert [(r["centre"], r["n"]) for r in data["rows"]] == [("HL", 3)]
    assert "report written to" in err


@pytest.mark.parametrize(("arguments", "message"), [
    (["--survey", "nope"], "unknown survey 'nope'"),
    (["--from", "2024-13-01"], "--from must be a date as YYYY-MM-DD"),
    (["--to", "01/07/2024"], "--to must be a date as YYYY-MM-DD"),
    (["--from", "2024-08-01", "--to", "2024-07-01"], "--from 2024-08-01 is after --to 2024-07-01"),
    (["--by", "centre,region"], "--by takes a comma-separated list of centre, service, channel, origin"),
    (["--format", "xlsx"], "-o FILE.xlsx"),
    (["--min-n", "0"], "--min-n must be at least 1"),
])
def test_bad_input_is_a_clear_error(cli, arguments, message):
    code, _out, err = cli("report", *arguments)
    assert code == 1
    assert err.startswith("Error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("arguments", "message"), [
    (["--period", "fortnight"], "--period must be one of week, month, quarter, year, all"),
    (["--format", "pdf"], "--format must be one of table, csv, xlsx, json"),
    (["--chart", "league.jpg"], "--chart draws a PNG picture"),
])
def test_more_bad_input_in_process(cli, arguments, message):
    code, _out, err = cli("report", *arguments)
    assert code == 1 and message in err


def test_bad_input_in_a_real_process_in_vietnamese(cli_process):
    code, out, err = cli_process("report", "--from", "2024-13-01", env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert code == 1 and out == ""
    assert err == ("Lỗi: --from phải là một ngày viết theo dạng YYYY-MM-DD (ví dụ 2024-07-01), "
                   "không phải '2024-13-01'\n")


def test_no_responses(cli, tmp_path):
    code, out, err = cli("report")
    assert code == 0, err
    assert "No responses to sipas-2023" in out
    code, out, err = cli("report", "--format", "json", "--period", "month", "--chart", str(tmp_path / "c.png"))
    assert code == 0, err
    assert json.loads(out) == {"survey": "sipas-2023", "period": "month", "by": ["centre"], "min_n": 30,
                               "from": None, "to": None, "origin": None, "exclude_flagged": False, "weight": None,
                               "flagged": {"included": 0, "excluded": 0}, "rows": []}
    assert "No responses" in err and not (tmp_path / "c.png").exists()
