"""`sipas-bot report --compare previous|same-last-year`: each group's change against its base period, by hand.

sipas-quick has one criterion per element, so an element index is one criterion's share of 4-5 answers:

    HL  2024-06  5 5 5 5 5 | 2 2 2 2 2 | 5 4 3 2 1   elements 2/3 2/3 1/3 1/3 1/3: SIPAS 100 * 7/15 = 46.67
    HL  2024-07  5 5 5 5 5 | 4 4 4 4 4 | 5 5 5 5 2   elements 1 1 1 1 2/3:         SIPAS 100 * 14/15 = 93.33
    DH  2024-07  5 5 5 5 5 | 1 1 1 1 1               SIPAS 50
    DH  2024-08  5 5 5 5 5 | 1 1 1 1 1               SIPAS 50 (change 0)
    HL  2023-07  4 4 4 4 4 | 1 1 1 1 1               SIPAS 50 (the same month a year earlier)

The change intervals are checked against the MOVER formula applied to the intervals the report itself gives
(another part of the issue changes how the SIPAS interval is computed; the change must follow it).
"""

import csv
import datetime as dt
import io
import json
import math
from statistics import NormalDist

import pytest
from openpyxl import load_workbook
from test_report import QUICK, report, seed

from bot.errors import UserError
from bot.reports.compare import base_range, months_before
from bot.reports.request import parse_request
from bot.storage.responses import build_response

RATIO = NormalDist().inv_cdf(0.975) / NormalDist().inv_cdf(0.95)  # one-sided -> equal-tailed end


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


HAND = [
    ("HL", False, "web", day("2024-06-03"), (5, 5, 5, 5, 5)),
    ("HL", False, "web", day("2024-06-10"), (2, 2, 2, 2, 2)),
    ("HL", False, "web", day("2024-06-30"), (5, 4, 3, 2, 1)),
    ("HL", False, "web", day("2024-07-01"), (5, 5, 5, 5, 5)),
    ("HL", False, "web", day("2024-07-15"), (4, 4, 4, 4, 4)),
    ("HL", False, "web", day("2024-07-31"), (5, 5, 5, 5, 2)),
    ("DH", False, "web", day("2024-07-02"), (5, 5, 5, 5, 5)),
    ("DH", False, "web", day("2024-07-03"), (1, 1, 1, 1, 1)),
    ("DH", False, "web", day("2024-08-02"), (5, 5, 5, 5, 5)),
    ("DH", False, "web", day("2024-08-03"), (1, 1, 1, 1, 1)),
    ("HL", False, "web", day("2023-07-10"), (4, 4, 4, 4, 4)),
    ("HL", False, "web", day("2023-07-11"), (1, 1, 1, 1, 1)),
]


def mover(estimate, interval, base, base_interval):
    """The MOVER difference worked out by hand: each side's own interval, later minus earlier."""
    change = estimate - base
    return change, [change - math.sqrt((estimate - interval[0]) ** 2 + (base_interval[1] - base) ** 2),
                    change + math.sqrt((interval[1] - estimate) ** 2 + (base - base_interval[0]) ** 2)]


@pytest.fixture
async def hand(services):
    return await seed(services, HAND)


def by_key(rows):
    return {(r["centre"], r["period"]): r for r in rows}


async def test_previous_month_by_hand(services, hand):
    rows = by_key((await report(services, period="month", compare="previous", date_from="2024-06-01")).rows)
    june, july = rows[("HL", "2024-06")], rows[("HL", "2024-07")]
    assert june["sipas"] == pytest.approx(100 * 7 / 15) and july["sipas"] == pytest.approx(100 * 14 / 15)
    assert june["change"] is None  # no HL responses in May
    found = july["change"]
    assert (found["against"], found["period"]) == ("previous", "2024-06")
    sipas = found["sipas"]
    assert sipas["base"] == pytest.approx(100 * 7 / 15)
    assert sipas["change"] == pytest.approx(100 * 7 / 15)  # 93.33 - 46.67
    _, interval = mover(july["sipas"], july["sipas_ci"], june["sipas"], june["sipas_ci"])
    assert sipas["change_ci"] == pytest.approx(interval, abs=1e-9)
    assert sipas["significant"] is (interval[0] > 0 or interval[1] < 0)
    # Elements: access 1 - 2/3, staff 1 - 1/3, feedback 2/3 - 1/3, each against its own interval; a one-sided
    # upper end (surveys.ceiling) is read 1.96 / 1.645 times as far from the estimate, as an equal-tailed one.
    def equal_tailed(row, element):
        low, high = row["elements_ci"][element]
        if element in row["elements_one_sided"]:
            high = min(100.0, row["elements"][element] + (high - row["elements"][element]) * RATIO)
        return [low, high]

    assert june["elements_one_sided"]  # the June ones with a third or two thirds of the answers satisfied
    for element, change in (("access", 100 / 3), ("staff", 200 / 3), ("feedback", 100 / 3)):
        measure = found["elements"][element]
        assert measure["base"] == pytest.approx(june["elements"][element])
        assert measure["change"] == pytest.approx(change)
        _, interval = mover(july["elements"][element], equal_tailed(july, element), june["elements"][element],
                            equal_tailed(june, element))
        assert measure["change_ci"] == pytest.approx(interval, abs=1e-9)
        assert measure["significant"] is (interval[0] > 0 or interval[1] < 0)
    dh_july, dh_august = rows[("DH", "2024-07")], rows[("DH", "2024-08")]
    assert dh_july["change"] is None  # DH had no June
    flat = dh_august["change"]["sipas"]
    assert flat["change"] == pytest.approx(0.0) and flat["significant"] is False  # 50 -> 50
    assert flat["change_ci"][0] < 0 < flat["change_ci"][1]


async def test_the_base_before_from_is_read(services, hand):
    # --from 2024-07-01 leaves June out of the report, not out of July's base.
    rows = by_key((await report(services, period="month", compare="previous", date_from="2024-07-01")).rows)
    assert ("HL", "2024-06") not in rows
    assert rows[("HL", "2024-07")]["change"]["sipas"]["base"] == pytest.approx(100 * 7 / 15)


async def test_suppressed_group_or_base_has_no_change(services, hand):
    rows = by_key((await report(services, period="month", compare="previous", min_n=2)).rows)
    assert rows[("HL", "2024-07")]["change"]["sipas"]["change"] == pytest.approx(100 * 7 / 15)
    rows = by_key((await report(services, period="month", compare="previous", min_n=2,
                                date_from="2024-07-01")).rows)
    assert rows[("HL", "2024-07")]["change"] is not None  # its base, June, lies before --from
    # min_n 3: DH's July (n = 2) is suppressed, and HL's July with it (the July total minus HL gives DH away).
    rows = by_key((await report(services, period="month", compare="previous", min_n=3)).rows)
    assert (rows[("DH", "2024-07")]["suppressed_reason"], rows[("DH", "2024-07")]["change"]) == ("min_n", None)
    assert (rows[("HL", "2024-07")]["suppressed_reason"], rows[("HL", "2024-07")]["change"]) == (
        "complementary", None)
    # A published group whose base is suppressed: DH's August with a third form (n = 3) against its July (n = 2).
    centres, _ = hand
    instrument = services.instrument(QUICK)
    async with services.db.transaction() as session:
        session.add(build_response(instrument, dict.fromkeys(instrument.criteria(), 5), centre_id=centres["DH"].id,
                                   service_id=None, channel="web", submitted_on=day("2024-08-04")))
    rows = by_key((await report(services, period="month", compare="previous", min_n=3)).rows)
    assert not rows[("DH", "2024-08")]["suppressed"] and rows[("DH", "2024-08")]["change"] is None


async def test_same_month_last_year(services, hand):
    rows = by_key((await report(services, period="month", compare="same-last-year")).rows)
    found = rows[("HL", "2024-07")]["change"]
    assert (found["against"], found["period"]) == ("same-last-year", "2023-07")
    assert found["sipas"]["base"] == pytest.approx(50.0)  # (4 4 4 4 4) and (1 1 1 1 1)
    assert found["sipas"]["change"] == pytest.approx(100 * 14 / 15 - 50)
    assert rows[("HL", "2024-06")]["change"] is None  # no June 2023
    quarterly = by_key((await report(services, period="quarter", compare="same-last-year")).rows)
    assert quarterly[("HL", "2024-Q3")]["change"]["period"] == "2023-Q3"
    yearly = by_key((await report(services, period="year", compare="previous")).rows)
    # 2024, HL's six responses: access 5,2,5,5,4,5 -> 5/6; procedure 5,2,4,5,4,5 -> 5/6; staff 5,2,3,5,4,5 -> 4/6;
    # result 5,2,2,5,4,5 -> 4/6; feedback 5,2,1,5,4,2 -> 3/6: SIPAS 100 * (5 + 5 + 4 + 4 + 3) / 30 = 70.
    assert yearly[("HL", "2024")]["sipas"] == pytest.approx(70.0)
    assert yearly[("HL", "2024")]["change"]["sipas"]["change"] == pytest.approx(20.0)  # against 50 in 2023


async def test_period_all_previous_range_of_equal_length(services, hand):
    rows = by_key((await report(services, compare="previous", date_from="2024-07-01", date_to="2024-07-31")).rows)
    found = rows[("HL", "all")]["change"]
    # 31 days before 1 July: 31 May to 30 June, which holds HL's June responses.
    assert found["period"] == "2024-05-31/2024-06-30"
    assert found["sipas"]["base"] == pytest.approx(100 * 7 / 15)
    assert rows[("DH", "all")]["change"] is None
    last_year = by_key((await report(services, compare="same-last-year", date_from="2024-07-01",
                                     date_to="2024-07-31")).rows)
    assert last_year[("HL", "all")]["change"]["period"] == "2023-07-01/2023-07-31"
    assert last_year[("HL", "all")]["change"]["sipas"]["base"] == pytest.approx(50.0)


def test_base_ranges_by_hand():
    def shifted(**options):
        return base_range(parse_request(**options))

    assert shifted(period="month", compare="previous", date_from="2024-03-31", date_to="2024-05-31") == (
        day("2024-02-29"), day("2024-04-30"))  # a shorter month takes its last day
    assert shifted(period="quarter", compare="previous", date_from="2024-01-01") == (day("2023-10-01"), None)
    assert shifted(period="week", compare="previous", date_to="2025-01-05") == (None, day("2024-12-29"))
    # Week 53 of 2020 (Sunday 3 January 2021) a year earlier: 2019 has 52 weeks, so its last week's Sunday.
    assert shifted(period="week", compare="same-last-year", date_to="2021-01-03") == (None, day("2019-12-29"))
    assert shifted(compare="same-last-year", date_from="2024-02-29", date_to="2024-03-01") == (
        day("2023-02-28"), day("2023-03-01"))
    assert months_before(day("2024-01-15"), 1) == day("2023-12-15")
    # A range to a month's last day is compared with the base month to its last day: June 30 -> May 31 (not 30),
    # 29 February -> 31 January, a quarter to 30 June -> 31 March.
    assert shifted(period="month", compare="previous", date_from="2024-06-01", date_to="2024-06-30") == (
        day("2024-05-01"), day("2024-05-31"))
    assert shifted(period="month", compare="previous", date_to="2024-02-29") == (None, day("2024-01-31"))
    assert shifted(period="quarter", compare="previous", date_to="2024-06-30") == (None, day("2024-03-31"))
    assert shifted(period="month", compare="same-last-year", date_to="2025-02-28") == (None, day("2024-02-29"))
    assert shifted(period="month", compare="previous", date_to="2024-07-30") == (None, day("2024-06-30"))


async def test_no_change_without_compare(services, hand):
    assert all(row["change"] is None for row in (await report(services, period="month")).rows)


async def test_table_csv_json_xlsx(services, hand, cli, tmp_path):
    common = ("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--compare", "previous")
    code, out, err = cli(*common)
    assert code == 0, err
    header = out.splitlines()[0]
    assert header.index("SIPAS (KTC 95%)") < header.index("Thay đổi") < header.index("Tiếp cận")
    july = next(line for line in out.splitlines() if line.startswith("HL ") and "tháng 7/2024" in line)
    rows = by_key((await report(services, period="month", compare="previous")).rows)
    mark = "*" if rows[("HL", "2024-07")]["change"]["sipas"]["significant"] else ""
    assert f"+46,67{mark}" in july
    june = next(line for line in out.splitlines() if line.startswith("HL ") and "tháng 6/2024" in line)
    assert " – " in june  # no base
    assert "Thay đổi: SIPAS so với kỳ trước" in out and "* = có ý nghĩa thống kê" in out

    code, out, err = cli(*common, "--format", "csv")
    assert code == 0, err
    table = {(r["centre"], r["period"]): r for r in csv.DictReader(io.StringIO(out))}
    found = table[("HL", "2024-07")]
    sipas = rows[("HL", "2024-07")]["change"]["sipas"]
    assert (found["change_against"], found["change_period"], found["change_sipas"]) == (
        "previous", "2024-06", "46.67")
    assert (found["change_sipas_low"], found["change_sipas_high"]) == tuple(
        str(round(v, 2)) for v in sipas["change_ci"])
    assert found["change_significant"] == str(sipas["significant"]).lower()
    assert found["change_staff"] == "66.67" and found["change_staff_low"]
    assert table[("HL", "2024-06")]["change_sipas"] == ""

    code, out, err = cli(*common, "--format", "json")
    assert code == 0, err
    data = {(r["centre"], r["period"]): r for r in json.loads(out)["rows"]}
    assert data[("HL", "2024-07")]["change"]["sipas"]["change"] == pytest.approx(100 * 7 / 15)

    target = tmp_path / "r.xlsx"
    code, _, err = cli(*common, "--format", "xlsx", "-o", str(target))
    assert code == 0, err
    workbook = load_workbook(target)
    assert workbook.sheetnames.index("So sánh") == workbook.sheetnames.index("Biểu đồ") - 1
    sheet = [[cell.value for cell in row] for row in workbook["So sánh"].iter_rows()]
    headers = sheet[0]
    for name in ("Kỳ so sánh", "SIPAS kỳ trước", "Thay đổi", "Cận dưới", "Cận trên", "Có ý nghĩa thống kê",
                 "Công chức trực tiếp giải quyết công việc: thay đổi"):
        assert name in headers
    line = next(r for r in sheet[1:] if r[0] == "HL" and r[2] == "tháng 7/2024")
    assert line[headers.index("Kỳ so sánh")] == "tháng 6/2024"
    assert line[headers.index("SIPAS kỳ trước")] == pytest.approx(46.67)
    assert line[headers.index("Thay đổi")] == pytest.approx(46.67)
    assert line[headers.index("Có ý nghĩa thống kê")] == ("Có" if sipas["significant"] else "Không")
    assert line[headers.index("Công chức trực tiếp giải quyết công việc: thay đổi")] == pytest.approx(66.67)
    june = next(r for r in sheet[1:] if r[0] == "HL" and r[2] == "tháng 6/2024")
    assert june[headers.index("Kỳ so sánh")] == "không có số liệu kỳ so sánh"
    code, _, err = cli("report", "--survey", QUICK, "--format", "xlsx", "-o", str(target))
    assert code == 0 and "So sánh" not in load_workbook(target).sheetnames  # only when asked for


@pytest.mark.parametrize(("arguments", "english", "vietnamese"), [
    (["--compare", "last"], "--compare must be one of previous, same-last-year, not 'last'",
     "--compare phải là một trong previous, same-last-year"),
    (["--compare", "previous"], "--compare with --period all needs both --from and --to",
     "--compare với --period all cần cả --from và --to"),
    (["--compare", "previous", "--from", "2024-01-01"], "needs both --from and --to", "cần cả --from và --to"),
])
def test_bad_compare(cli, arguments, english, vietnamese):
    code, _out, err = cli("report", *arguments)
    assert code == 1 and english in err and "Traceback" not in err
    code, _out, err = cli("report", *arguments, env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert code == 1 and vietnamese in err


def test_bad_compare_in_code():
    with pytest.raises(UserError):
        parse_request(compare="previous", date_to="2024-01-31")
    assert parse_request(compare=" Previous ", period="month").compare == "previous"


async def test_a_clear_change_is_significant(services, cli):
    # 20 forms all 1 in June (SIPAS 0), 20 all 5 in July (SIPAS 100): +100, whatever the interval method, with
    # n = 20 on each side neither interval reaches the middle, so the change's interval leaves 0 far out.
    await seed(services, [("HL", False, "web", day("2024-06-05"), (1, 1, 1, 1, 1))] * 20
               + [("HL", False, "web", day("2024-07-05"), (5, 5, 5, 5, 5))] * 20)
    rows = by_key((await report(services, period="month", compare="previous")).rows)
    sipas = rows[("HL", "2024-07")]["change"]["sipas"]
    assert sipas["change"] == pytest.approx(100.0) and sipas["significant"] is True
    assert sipas["change_ci"][0] > 50
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--compare", "previous")
    assert code == 0, err
    assert "+100,00*" in next(line for line in out.splitlines() if "tháng 7/2024" in line)


async def test_groups_match_on_every_key_even_without_a_service(services):
    # HL: June and July name service KS; DH's July and August name none: each is compared with its own group.
    rows = [(centre, centre == "HL", channel, when, values) for centre, _, channel, when, values in HAND]
    await seed(services, rows)
    found = {(r["centre"], r["service"], r["period"]): r["change"]
             for r in (await report(services, by="centre,service", period="month", compare="previous")).rows}
    assert found[("HL", "KS", "2024-07")]["sipas"]["change"] == pytest.approx(100 * 7 / 15)
    assert found[("DH", None, "2024-08")]["sipas"]["change"] == pytest.approx(0.0)
    assert found[("DH", None, "2024-07")] is None
