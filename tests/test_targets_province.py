"""The province's targets (`target set --province`): the "Toàn tỉnh" rows of `report --total` carry them, in JSON,
the table, CSV, XLSX and the dashboard's province box; on the data of tests/test_report.py (HL in July 2024, DH in
August)."""

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from test_report import QUICK, seed
from test_targets import above


@pytest.fixture
async def hand(services):
    return await seed(services)


def test_set_list_and_remove_the_provinces_targets(cli):
    assert cli("centre", "add", "hl", "Trung tâm Hải Lăng")[0] == 0
    assert cli("target", "set", "--centre", "HL", "--year", "2026", "--sipas", "90")[0] == 0
    code, out, err = cli("target", "set", "--province", "--year", "2026", "--sipas", "85", "--element", "staff=88")
    assert (code, out.strip()) == (0, "province targets for 2026: sipas 85, staff 88"), err
    assert cli("target", "list")[1].splitlines() == ["(province)       2026  sipas 85, staff 88",
                                                     "HL               2026  sipas 90"]
    code, out, _ = cli("target", "remove", "--province", "--year", "2026")
    assert (code, out.strip()) == (0, "removed the province's 2026 targets")
    assert cli("target", "list")[1].splitlines() == ["HL               2026  sipas 90"]
    code, _, err = cli("target", "remove", "--province", "--year", "2026")
    assert code == 1 and err.strip() == "Error: the province has no targets for 2026; see `sipas-bot target list`"
    vi = {"SIPAS_ADMIN_LANGUAGE": "vi"}
    code, out, _ = cli("target", "set", "--province", "--year", "2027", "--sipas", "80", env=vi)
    assert out.strip() == "mục tiêu toàn tỉnh năm 2027: sipas 80"
    assert cli("target", "list", env=vi)[1].splitlines()[0] == "(toàn tỉnh)      2027  sipas 80"


@pytest.mark.parametrize("whose", [[], ["--centre", "HL", "--province"]])
@pytest.mark.parametrize("command", [["set", "--sipas", "90"], ["remove"]])
def test_a_centre_or_the_province_never_both_nor_neither(cli, whose, command):
    assert cli("centre", "add", "HL", "Trung tâm Hải Lăng")[0] == 0
    code, out, err = cli("target", *command, "--year", "2026", *whose)
    assert (code, out) == (1, "")
    assert err.strip() == ("Error: say whose targets: --centre CODE (a centre) or --province (the whole province), "
                           "one of the two")
    assert cli("target", "list")[1].strip().startswith("no targets yet")


async def test_the_province_rows_carry_the_provinces_target(services, hand, cli, tmp_path):
    assert cli("target", "set", "--province", "--year", "2024", "--sipas", "90", "--element", "staff=80")[0] == 0
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--total", "--format",
                         "json")
    assert code == 0, err
    rows = json.loads(out)["rows"]
    totals = [row for row in rows if row.get("total")]
    assert [row["period"] for row in totals] == ["2024-07", "2024-08"]
    for total in totals:
        low, high = total["sipas_ci"]
        aim = total["target"]["sipas"]
        assert aim["target"] == 90 and aim["gap"] == pytest.approx(90 - total["sipas"])
        assert aim["p_above"] == pytest.approx(above(90, total["sipas"], low, high))
        staff = total["target"]["elements"]["staff"]
        assert staff["gap"] == pytest.approx(80 - total["elements"]["staff"])
    # A centre's row does not take the province's target.
    assert all(row["target"] is None for row in rows if not row.get("total"))

    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--total")
    july = next(line for line in out.splitlines() if line.startswith("Toàn tỉnh") and "7/2024" in line)
    gap = 90 - totals[0]["sipas"]
    assert july.endswith(f"90 (còn {gap:.1f}; {round(100 * totals[0]['target']['sipas']['p_above'])}%)".replace(
        ".", ","))
    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--total", "--format", "csv")
    table = [row for row in csv.DictReader(io.StringIO(out)) if row["total"] == "true"]
    assert [row["target_sipas"] for row in table] == ["90.0", "90.0"]
    book = tmp_path / "r.xlsx"
    assert cli("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--total", "--format", "xlsx", "-o",
               str(book))[0] == 0
    sheet = [[cell.value for cell in row] for row in load_workbook(book)["Tổng hợp"].iter_rows()]
    first = sheet[0].index("Mục tiêu SIPAS")
    province = [row[first:first + 2] for row in sheet[1:] if row[0] == "Toàn tỉnh"]
    assert province == [[90, round(90 - total["sipas"], 2)] for total in totals]
    # Without --total, or in another year, nobody's row has it.
    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--format", "json")
    assert all(row["target"] is None for row in json.loads(out)["rows"])
