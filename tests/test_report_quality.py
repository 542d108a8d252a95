"""Data quality per report group (bot.reports.quality), worked by hand on sipas-quick:

    HL  invited          2024-07-01  5 5 5 5 NA
    HL  open             2024-07-02  4 4 . 2 NA     (. = skipped)
    HL  open, flagged    2024-07-03  5 4 4 4 4
    HL  invited          2024-07-04  3 . 4 4 .
    DH  invited          2024-07-05  5 5 5 5 5

HL: 4 responses, 2 open (50%), 1 flagged (25%); procedure skipped 1 (25%), staff skipped 1 (25%), feedback not
applicable 2 (50%) and skipped 1 (25%). DH: nothing to report (all 0).
"""

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from test_report import QUICK, report, seed

from bot.storage.models import Response

HAND = [
    ("HL", True, "telegram", dt.date(2024, 7, 1), (5, 5, 5, 5, "NA")),
    ("HL", True, "web", dt.date(2024, 7, 2), (4, 4, None, 2, "NA")),
    ("HL", True, "web", dt.date(2024, 7, 3), (5, 4, 4, 4, 4)),
    ("HL", True, "zalo", dt.date(2024, 7, 4), (3, None, 4, 4, None)),
    ("DH", True, "zalo", dt.date(2024, 7, 5), (5, 5, 5, 5, 5)),
]
ZERO = {"na_pct": 0.0, "skipped_pct": 0.0}


@pytest.fixture
async def hand(services):
    await seed(services, HAND)
    async with services.db.transaction() as session:  # the second and third came from an open survey
        await session.execute(update(Response).where(Response.submitted_on.in_(
            [dt.date(2024, 7, 2), dt.date(2024, 7, 3)])).values(open_survey=True))
        await session.execute(update(Response).where(Response.submitted_on == dt.date(2024, 7, 3)).values(
            flagged=True))


async def test_quality_by_hand(services, hand):
    hl, dh = (await report(services)).rows
    assert hl["centre"] == "HL"
    assert hl["quality"] == {"open_pct": 50.0, "flagged_pct": 25.0, "criteria": {
        "access_1": ZERO, "procedure_1": {"na_pct": 0.0, "skipped_pct": 25.0},
        "staff_1": {"na_pct": 0.0, "skipped_pct": 25.0}, "result_1": ZERO,
        "feedback_1": {"na_pct": 50.0, "skipped_pct": 25.0}}}
    assert dh["quality"] == {"open_pct": 0.0, "flagged_pct": 0.0, "criteria": {c: ZERO for c in hl["criteria"]}}
    # By origin: the open row is all open; HL/invited has 2 responses, feedback 1 not applicable and 1 skipped.
    rows = {(r["centre"], r["origin"]): r for r in (await report(services, by="centre,origin")).rows}
    assert rows[("HL", "open")]["quality"]["open_pct"] == 100.0
    assert rows[("HL", "open")]["quality"]["flagged_pct"] == 50.0
    assert rows[("HL", "invited")]["quality"]["criteria"]["feedback_1"] == {"na_pct": 50.0, "skipped_pct": 50.0}


async def test_no_quality_for_suppressed_groups(services, hand):
    # min_n = 2: DH (n = 1) is suppressed, and HL with it: the total of 5 minus HL would be DH.
    rows = (await report(services, min_n=2)).rows
    assert [(r["centre"], r["suppressed_reason"], r["quality"]) for r in rows] == [
        ("DH", "min_n", None), ("HL", "complementary", None)]


async def test_quality_in_json_csv_and_xlsx(services, hand, cli, tmp_path):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["rows"][0]["quality"]["criteria"]["feedback_1"] == {"na_pct": 50.0, "skipped_pct": 25.0}
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "csv")
    assert code == 0, err
    hl = next(row for row in csv.DictReader(io.StringIO(out)) if row["centre"] == "HL")
    assert (hl["open_pct"], hl["flagged_pct"], hl["feedback_1_na_pct"], hl["feedback_1_skipped_pct"],
            hl["staff_1_skipped_pct"], hl["suppressed_reason"]) == ("50.0", "25.0", "50.0", "25.0", "25.0", "")
    target = tmp_path / "report.xlsx"
    code, _out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "xlsx", "-o", str(target))
    assert code == 0, err
    sheet = [[cell.value for cell in row] for row in load_workbook(target)["Chất lượng dữ liệu"].iter_rows()]
    assert sheet[0] == ["Trung tâm", "Tên trung tâm", "Kỳ", "Số phiếu", "Khảo sát mở (%)", "Phiếu gắn cờ (%)",
                        "Mã tiêu chí", "Tiêu chí", "Tỷ lệ không áp dụng (%)", "Tỷ lệ bỏ qua (%)"]
    feedback = next(row for row in sheet if row[0] == "HL" and row[6] == "feedback_1")
    assert feedback[3:6] == [4, 50, 25] and feedback[8:] == [50, 25]
    assert len(sheet) == 1 + 2 * 5  # two groups, five criteria
