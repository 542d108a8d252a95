"""`sipas-bot report --by centre` counts the follow-up cases per centre and period, worked out by hand: opened, and
of those closed, closed on time and still open past the due date (JSON, CSV columns, XLSX columns)."""

import csv
import datetime as dt
import io
import json

from case_world import ALL_FIVE, add_centre, complete, ratings, sweep
from openpyxl import load_workbook

from bot.reports.build import build_report
from bot.reports.cases import OPEN_STATUSES
from bot.reports.memory import ReportMemory
from bot.reports.request import parse_request
from bot.survey import case_access
from bot.survey.cases import STATUSES


def on(day: int, month: int) -> dt.datetime:
    return dt.datetime(2025, month, day, 2, 0, tzinfo=dt.UTC)  # 9:00 in Hà Nội, 2025


async def move(services, case_id, action, day, **values):
    async with services.db.transaction() as session:
        await case_access.move_case(session, case_access.ADMIN, case_id, action, now=day, today=day.date(),
                                    **values)


async def cases_of_march_and_april(services):
    """HCC: 3/3 (Mon, due 10/3) closed 7/3 on time; 4/3 (due 11/3) closed 14/3 late; 5/3 open (overdue); 6/3 all
    fives (no case); 1/4 started, open (overdue). DH: 10/3 a harassment report, new (overdue)."""
    hcc = await add_centre(services, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
    dh = await add_centre(services, "dh")
    ids = {}
    for chat, (code, day, answers, harassment) in enumerate([
            (hcc, on(3, 3), ratings(staff_1=1), "1"), (hcc, on(4, 3), ratings(access_1=2), "1"),
            (hcc, on(5, 3), ratings(result_1=2), "1"), (hcc, on(6, 3), ALL_FIVE, "1"),
            (hcc, on(1, 4), ratings(feedback_1=1), "1"), (dh, on(10, 3), ALL_FIVE, "2")], start=1):
        await complete(services, code, answers, harassment=harassment, chat=chat, now=day)
        await sweep(services, day + dt.timedelta(minutes=5))
        listed = await case_access.list_cases_in(services, case_access.ADMIN, day.date())
        ids.update({view.opened_on: view.id for view in listed})
    await move(services, ids[dt.date(2025, 3, 3)], "start", on(4, 3))
    await move(services, ids[dt.date(2025, 3, 3)], "resolve", on(7, 3), note="Đã xin lỗi")
    await move(services, ids[dt.date(2025, 3, 4)], "start", on(5, 3))
    await move(services, ids[dt.date(2025, 3, 4)], "resolve", on(14, 3), note="Đã sửa biển hiệu")
    await move(services, ids[dt.date(2025, 4, 1)], "start", on(2, 4))


async def test_report_by_centre_counts_cases_opened_closed_on_time_and_overdue(services, cli, tmp_path):
    await cases_of_march_and_april(services)
    code, out, err = cli("report", "--survey", "sipas-2023", "--min-n", "1", "--period", "month", "--format", "json",
                         "--total")
    assert code == 0, err
    rows = {(r["centre"], r["period"]): r["cases"] for r in json.loads(out)["rows"]}
    assert rows == {
        (None, "2025-03"): {"opened": 4, "closed": 2, "closed_on_time": 1, "open_overdue": 2},  # the province
        ("HCC", "2025-03"): {"opened": 3, "closed": 2, "closed_on_time": 1, "open_overdue": 1},
        ("DH", "2025-03"): {"opened": 1, "closed": 0, "closed_on_time": 0, "open_overdue": 1},
        (None, "2025-04"): {"opened": 1, "closed": 0, "closed_on_time": 0, "open_overdue": 1},
        ("HCC", "2025-04"): {"opened": 1, "closed": 0, "closed_on_time": 0, "open_overdue": 1}}
    code, out, _ = cli("report", "--survey", "sipas-2023", "--min-n", "1", "--format", "csv", "--to", "2025-03-31")
    table = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert {r["centre"]: [r[f"cases_{c}"] for c in ("opened", "closed", "closed_on_time", "open_overdue")]
            for r in table} == {"HCC": ["3", "2", "1", "1"], "DH": ["1", "0", "0", "1"]}
    code, _, err = cli("report", "--survey", "sipas-2023", "--min-n", "1", "--format", "xlsx", "-o",
                       str(tmp_path / "r.xlsx"))
    assert code == 0, err
    sheet = load_workbook(tmp_path / "r.xlsx")["Tổng hợp"]
    headers = [cell.value for cell in sheet[1]]
    first = headers.index("Phản hồi cần xử lý: đã mở")
    assert headers[first:first + 4] == ["Phản hồi cần xử lý: đã mở", "Đã xử lý", "Xử lý đúng hạn",
                                        "Quá hạn chưa xử lý"]
    by_centre = {row[0]: list(row[first:first + 4]) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert by_centre == {"HCC": [4, 2, 1, 2], "DH": [1, 0, 0, 1]}


async def test_a_report_by_service_keeps_its_shape(services, cli):
    await cases_of_march_and_april(services)
    code, out, _ = cli("report", "--survey", "sipas-2023", "--min-n", "1", "--by", "centre,service", "--format",
                       "json")
    assert code == 0 and all("cases" not in row for row in json.loads(out)["rows"])


async def test_a_served_report_counts_a_case_moved_since_it_was_kept(services):
    # `serve` keeps reports in memory while no response changes (bot.reports.memory); a case closed meanwhile must
    # still show in the next report, as it does in a fresh one.
    await cases_of_march_and_april(services)
    services.reports = ReportMemory()
    request = parse_request(survey="sipas-2023", min_n=1, period="month", date_from="2025-03-01",
                            date_to="2025-04-30")

    async def hcc_march():
        report = await build_report(services, request)
        return next(row["cases"] for row in report.rows if row["centre"] == "HCC" and row["period"] == "2025-03")
    assert await hcc_march() == {"opened": 3, "closed": 2, "closed_on_time": 1, "open_overdue": 1}
    listed = await case_access.list_cases_in(services, case_access.ADMIN, dt.date(2025, 3, 20))
    late = next(view.id for view in listed if view.opened_on == dt.date(2025, 3, 5))
    computed = services.reports.computed
    await move(services, late, "assign", on(18, 3), assignee="Nguyễn Thị Lan")  # nothing a report counts
    assert await hcc_march() == {"opened": 3, "closed": 2, "closed_on_time": 1, "open_overdue": 1}
    assert services.reports.computed == computed
    await move(services, late, "start", on(19, 3))
    await move(services, late, "resolve", on(20, 3), note="Đã gọi lại cho công dân")
    assert await hcc_march() == {"opened": 3, "closed": 3, "closed_on_time": 1, "open_overdue": 0}
    assert services.reports.computed == computed + 1  # March again; April, whose cases did not move, is kept


def test_the_open_statuses_the_reports_look_for_are_the_cases_open_ones():
    assert tuple(status for status in STATUSES if status != "resolved") == OPEN_STATUSES
