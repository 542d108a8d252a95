"""Where to act first: priorities (gap to the best centre or a target, times the criterion's weight in SIPAS) and
key drivers, worked by hand on the data of tests/test_report.py (sipas-quick, one criterion per element):

    HL  2024-07  access 5 4 5   procedure 5 4 4   staff 5 3 4   result 5 2 4   feedback NA NA 4
    DH  2024-08  access 2 5     procedure 3 5     staff 4 5     result 5 5     feedback 1 (skipped)

Satisfied shares: HL 100, 100, 66.67, 66.67, 100 (k = 5); DH 50, 50, 100, 100, 0 (k = 5).
The best centre per criterion (by the lower end of its Wilson interval, as the league table ranks): access 100
(HL, 3 of 3), procedure 100 (HL), staff 100 (DH, 2 of 2 against HL's 2 of 3), result 100 (DH), feedback 100 (HL).
"""

import csv
import datetime as dt
import io
import math
from statistics import NormalDist

import numpy as np
import pytest
from openpyxl import load_workbook
from test_report import QUICK, report, seed

from surveys.drivers import key_drivers

Z = NormalDist().inv_cdf(0.975)


@pytest.fixture
async def hand(services):
    return await seed(services)


def _gains(row):
    """The priorities as (code, benchmark, from, gap, weight, gain), numbers to 9 decimals (as the JSON)."""
    return [(p["code"], *(round(p[k], 9) if isinstance(p[k], float) else p[k] for k in (
        "benchmark", "benchmark_from", "gap", "weight", "gain"))) for p in row["priority"]]


def _expected(*items):
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in item) for item in items]


async def test_priorities_by_hand(services, hand):
    hl, dh = (await report(services)).rows
    # HL: staff and result at 66.67 against DH's 100: gap 33.33, weight 1/5, gain 6.67 each; tie in instrument order.
    assert _gains(hl) == _expected(("staff_1", 100.0, "best", 100 / 3, 0.2, 20 / 3),
                                        ("result_1", 100.0, "best", 100 / 3, 0.2, 20 / 3))
    assert hl["priority"][0]["satisfied_pct"] == pytest.approx(200 / 3) and hl["priority"][0]["element"] == "staff"
    # DH: feedback 0 -> 100: gain 100/5 = 20; access and procedure 50 -> 100: gain 50/5 = 10 each.
    assert _gains(dh) == _expected(("feedback_1", 100.0, "best", 100.0, 0.2, 20.0),
                                        ("access_1", 100.0, "best", 50.0, 0.2, 10.0),
                                        ("procedure_1", 100.0, "best", 50.0, 0.2, 10.0))
    # Reaching the benchmarks adds exactly the gains: DH's SIPAS 60 + 20 + 10 + 10 = 100.
    assert dh["sipas"] + sum(p["gain"] for p in dh["priority"]) == pytest.approx(100.0)


async def test_only_published_groups_set_the_benchmark_and_suppressed_ones_get_none(services, hand):
    # All time, DH (n = 2) is suppressed at min_n 3, and HL with it (the total minus HL would give DH away).
    rows = {r["centre"]: r for r in (await report(services, min_n=3)).rows}
    hl, dh = rows["HL"], rows["DH"]
    assert (hl["suppressed_reason"], dh["suppressed_reason"]) == ("complementary", "min_n")
    assert hl["priority"] is dh["priority"] is dh["drivers"] is None
    # By month, HL is alone in July and published, DH alone in August (n = 2) and suppressed.
    hl, dh = (await report(services, min_n=3, period="month")).rows
    assert dh["suppressed"] and dh["priority"] is None and dh["drivers"] is None
    assert hl["priority"] == []  # HL is the only published centre of July: it is its own best, nothing to gain


async def test_a_weight_counts_only_criteria_with_answers(services):
    # Two centres, feedback never answered ("not applicable"): k = 4, weight 1/4.
    rows = [("HL", False, "web", dt.date(2024, 5, 1), (5, 5, 5, 2, "NA"))] * 2
    rows += [("DH", False, "web", dt.date(2024, 5, 1), (5, 5, 5, 5, "NA"))] * 2
    await seed(services, rows)
    by_centre = {r["centre"]: r for r in (await report(services)).rows}
    # HL's result 0 against DH's 100: gain 100 * 1/4 = 25 = DH's SIPAS 100 minus HL's 75.
    assert _gains(by_centre["HL"]) == _expected(("result_1", 100.0, "best", 100.0, 0.25, 25.0))
    assert by_centre["DH"]["priority"] == []


async def test_the_best_centre_is_the_surest_one_not_a_small_one_at_100(services):
    # HL: 30 forms, every answer 5 (access 100%, Wilson 88.65-100). DH: 300 forms, access 291 of 300 satisfied
    # (97%, 94.40-98.41). By the lower end DH is the best centre for access, so DH has nothing to gain there
    # (with the best point value, HL's 100% from 30 answers set a gap of 3 points: gain 3/4).
    rows = [("HL", False, "web", dt.date(2024, 5, 1), (5, 5, 5, 5, "NA"))] * 30
    rows += [("DH", False, "web", dt.date(2024, 5, 2), (2, 5, 5, 5, "NA"))] * 9
    rows += [("DH", False, "web", dt.date(2024, 5, 2), (5, 5, 5, 5, "NA"))] * 291
    await seed(services, rows)
    by_centre = {r["centre"]: r for r in (await report(services)).rows}
    dh = by_centre["DH"]
    assert dh["criteria"]["access_1"]["satisfied_pct"] == pytest.approx(97.0)
    assert dh["criteria"]["access_1"]["ci"][0] > by_centre["HL"]["criteria"]["access_1"]["ci"][0]
    assert dh["priority"] == [] and by_centre["HL"]["priority"] == []


async def test_by_centre_and_service_compares_centres_within_a_service(services, hand):
    rows = (await report(services, by="centre,service")).rows
    # HL/KS and DH/(no service) are alone in their service: each is its own best.
    assert [(r["centre"], r["service"], r["priority"]) for r in rows] == [("HL", "KS", []), ("DH", None, [])]


def test_key_drivers_by_hand():
    # Group 0, criterion 0: x = 5, 4, 2, 1; the mean of each one's other ratings y = 4.5, 4, 2, 2.
    # Means 3 and 3.125; dx = 2, 1, -1, -2; dy = 1.375, 0.875, -1.125, -1.125;
    # Sxy = 2.75 + 0.875 + 1.125 + 2.25 = 7, Sxx = 10, Syy = 1.890625 + 0.765625 + 2 * 1.265625 = 5.1875.
    # The fifth respondent has one valid rating (0 = not applicable, 255 = no answer): no "other" mean, left out.
    ratings = np.array([[5, 5, 4], [4, 4, 4], [2, 3, 1], [1, 2, 2], [3, 0, 255],
                        [4, 4, 4], [4, 5, 3], [4, 2, 1]], dtype=np.uint8)
    group = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    drivers = key_drivers(group, ratings, 2)
    r = 7 / math.sqrt(10 * 5.1875)
    assert drivers.n[0].tolist() == [4, 4, 4]
    assert drivers.r[0, 0] == pytest.approx(r)
    # Fisher: tanh(atanh(r) -+ 1.96 / sqrt(4 - 3)).
    assert [drivers.low[0, 0], drivers.high[0, 0]] == pytest.approx([math.tanh(math.atanh(r) - Z),
                                                                     math.tanh(math.atanh(r) + Z)])
    # Group 1, criterion 0 is always 4: no spread, no correlation; n = 3 < 4: no interval either.
    assert drivers.n[1, 0] == 3 and math.isnan(drivers.r[1, 0]) and math.isnan(drivers.low[1, 1])
    # Group 1, criterion 1: x = 4, 5, 2; y = 4, 3.5, 2.5 (means 11/3, 10/3); dx = 1/3, 4/3, -5/3;
    # dy = 2/3, 1/6, -5/6: Sxy = 2/9 + 2/9 + 25/18 = 11/6, Sxx = 42/9, Syy = 21/18.
    assert drivers.r[1, 1] == pytest.approx((11 / 6) / math.sqrt(42 / 9 * 21 / 18))


async def test_drivers_in_the_json_rows(services, hand):
    hl, dh = (await report(services)).rows
    # HL access_1: x = 5, 4, 5; y = (5+5+5)/3, (4+3+2)/3, (4+4+4+4)/4 = 5, 3, 4; dx = 1/3, -2/3, 1/3, dy = 1, -1, 0:
    # Sxy = 1, Sxx = 2/3, Syy = 2, r = 1 / sqrt(4/3) = sqrt(3)/2; n = 3, too few for Fisher's interval.
    assert hl["drivers"]["access_1"]["r"] == pytest.approx(math.sqrt(3) / 2)
    assert hl["drivers"]["access_1"]["n"] == 3 and hl["drivers"]["access_1"]["ci"] == [None, None]
    # feedback_1 was rated by one HL respondent: r needs three.
    assert hl["drivers"]["feedback_1"] == {"r": None, "ci": [None, None], "n": 1}
    assert dh["drivers"]["access_1"]["n"] == 2 and dh["drivers"]["access_1"]["r"] is None


async def test_a_driver_counted_for_fewer_than_min_n_respondents_shows_its_n_only(services):
    day = dt.date(2024, 5, 1)
    await seed(services, [("HL", False, "web", day, values) for values in
                          [(5, 5, 5, 5, 5), (4, 4, 4, 4, 4), (2, 2, 2, 2, 1), (3, 3, 3, 3, "NA")]])
    [row] = (await report(services, min_n=4)).rows
    # access_1: x = 5, 4, 2, 3 and y = 5, 4, 1.75, 3 (the other ratings' means): r is shown (n = 4 = min_n) ...
    x, y = np.array([5, 4, 2, 3.0]), np.array([5, 4, 1.75, 3])
    assert row["drivers"]["access_1"]["r"] == pytest.approx(np.corrcoef(x, y)[0, 1])
    # ... feedback_1 (x = 5, 4, 1, y = 5, 4, 2) would have one too, but only 3 respondents count for it.
    assert row["drivers"]["feedback_1"] == {"r": None, "ci": [None, None], "n": 3}
    [everything] = (await report(services, min_n=1)).rows
    assert everything["drivers"]["feedback_1"]["r"] == pytest.approx(
        np.corrcoef([5, 4, 1.0], [5, 4, 2.0])[0, 1])


async def test_table_line_csv_columns_and_xlsx_sheet(services, hand, cli, tmp_path):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1")
    assert code == 0, err
    lines = out.splitlines()
    dh = next(i for i, line in enumerate(lines) if line.startswith("DH "))
    assert lines[dh + 1] == ("  Ưu tiên cải thiện: Tiếp nhận, xử lý góp ý (+20,00 điểm SIPAS); Tiếp cận dịch vụ "
                             "(+10,00); Thủ tục hành chính (+10,00)")  # the questions' short texts
    hl = next(i for i, line in enumerate(lines) if line.startswith("HL "))
    assert lines[hl + 1] == ("  Ưu tiên cải thiện: Công chức giải quyết công việc (+6,67 điểm SIPAS); "
                             "Kết quả giải quyết (+6,67)")

    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "csv")
    assert code == 0, err
    by_centre = {row["centre"]: row for row in csv.DictReader(io.StringIO(out))}
    assert [by_centre["DH"][f"priority_{i}"] for i in (1, 2, 3)] == ["feedback_1", "access_1", "procedure_1"]
    assert [by_centre["DH"][f"priority_{i}_gain"] for i in (1, 2, 3)] == ["20.0", "10.0", "10.0"]
    assert [by_centre["HL"][f"priority_{i}"] for i in (1, 2, 3)] == ["staff_1", "result_1", ""]
    assert by_centre["HL"]["access_1_driver_r"] == "0.87"  # sqrt(3)/2 = 0.866
    assert by_centre["HL"]["target_sipas"] == ""  # no target set

    target = tmp_path / "r.xlsx"
    assert cli("report", "--survey", QUICK, "--min-n", "1", "--format", "xlsx", "-o", str(target))[0] == 0
    sheet = [[c.value for c in row] for row in load_workbook(target)["Ưu tiên cải thiện"].iter_rows()]
    headers = sheet[0]
    for header in ("Tiêu chí", "Hài lòng (%)", "Mức so sánh (%)", "Khoảng cách", "Trọng số", "SIPAS tăng thêm"):
        assert header in headers
    dh_rows = [dict(zip(headers, row, strict=True)) for row in sheet[1:] if row[0] == "DH"]
    # Ranked ones first, then the criteria at the benchmark (DH's staff and result, at 100): no gap, no gain.
    assert [(r["Thứ tự ưu tiên"], r["Mã tiêu chí"], r["SIPAS tăng thêm"]) for r in dh_rows] == [
        (1, "feedback_1", 20), (2, "access_1", 10), (3, "procedure_1", 10), (None, "staff_1", 0), (None, "result_1", 0)]
    first = dh_rows[0]
    assert (first["Hài lòng (%)"], first["Mức so sánh (%)"], first["So với"], first["Khoảng cách"],
            first["Trọng số"]) == (0, 100, "trung tâm tốt nhất", 100, 0.2)
