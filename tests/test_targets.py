"""`sipas-bot target`: set, list, remove, bad input; and what reports say about targets, by hand on the data of
tests/test_report.py (HL: SIPAS 86.67 from 100, 100, 66.67, 66.67, 100; staff 66.67; all in July 2024)."""

import csv
import io
import json
from statistics import NormalDist

import pytest
from openpyxl import load_workbook
from test_report import QUICK, seed

RATIO = NormalDist().inv_cdf(0.975) / NormalDist().inv_cdf(0.95)  # one-sided -> equal-tailed end

Z = NormalDist().inv_cdf(0.975)
PHI = NormalDist().cdf


@pytest.fixture
async def hand(services):
    return await seed(services)


def above(target, estimate, low, high):
    """P(true value > target) under the two-piece normal of the interval: each side's sd = (side length) / 1.96,
    the mass of each half proportional to its sd (surveys/spread.py)."""
    below_sd, above_sd = (estimate - low) / Z, (high - estimate) / Z
    share_below = below_sd / (below_sd + above_sd)
    if target >= estimate:  # P(X <= t) = share_below + (1 - share_below) * (2 Phi((t - e) / sd_up) - 1)
        return 1 - (share_below + (1 - share_below) * (2 * PHI((target - estimate) / above_sd) - 1))
    return 1 - 2 * share_below * PHI((target - estimate) / below_sd)


def test_set_list_and_remove(cli):
    assert cli("centre", "add", "hl", "Trung tâm Hải Lăng")[0] == 0
    code, out, err = cli("target", "set", "--centre", "hl", "--year", "2026", "--sipas", "90", "--element",
                         "access=85", "--element", "Staff = 87,5")
    assert code == 0, err
    assert out.strip() == "targets of centre HL for 2026: sipas 90, access 85, staff 87.5"
    # Setting again changes the measures given and keeps the others.
    code, out, _ = cli("target", "set", "--centre", "HL", "--year", "2026", "--sipas", "91")
    assert out.strip() == "targets of centre HL for 2026: sipas 91, access 85, staff 87.5"
    assert cli("target", "set", "--centre", "HL", "--year", "2027", "--element", "feedback=70")[0] == 0
    code, out, _ = cli("target", "list")
    assert out.splitlines() == ["HL               2026  sipas 91, access 85, staff 87.5",
                                "HL               2027  feedback 70"]
    code, out, _ = cli("target", "remove", "--centre", "HL", "--year", "2026")
    assert (code, out.strip()) == (0, "removed the 2026 targets of centre HL")
    assert cli("target", "list")[1].splitlines() == ["HL               2027  feedback 70"]
    code, _, err = cli("target", "remove", "--centre", "HL", "--year", "2026")
    assert code == 1 and err.strip() == "Error: centre HL has no targets for 2026; see `sipas-bot target list`"
    # A centre removed takes its targets with it.
    assert cli("centre", "remove", "HL")[0] == 0
    assert cli("target", "list")[1].strip().startswith("no targets yet")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--centre", "NOPE", "--sipas", "90"], "Error: no centre with code 'NOPE'; see `sipas-bot centre list`"),
    (["--centre", "HL", "--sipas", "101"], "Error: --sipas must be a number from 0 to 100 (percentage points), "
                                           "not '101.0'"),
    (["--centre", "HL", "--sipas", "-1"], "Error: --sipas must be a number from 0 to 100"),
    (["--centre", "HL", "--sipas", "nan"], "Error: --sipas must be a number from 0 to 100"),
    (["--centre", "HL", "--element", "access=abc"], "Error: --element access must be a number from 0 to 100 "
                                                    "(percentage points), not 'abc'"),
    (["--centre", "HL", "--element", "speed=80"], "Error: --element takes CODE=VALUE with CODE one of access, "
                                                  "procedure, staff, result, feedback (for example access=85), not "
                                                  "'speed=80'"),
    (["--centre", "HL", "--element", "access"], "Error: --element takes CODE=VALUE"),
    (["--centre", "HL"], "Error: give at least one target: --sipas VALUE or --element CODE=VALUE"),
])
def test_bad_input_says_what_and_changes_nothing(cli, arguments, message):
    assert cli("centre", "add", "HL", "Trung tâm Hải Lăng")[0] == 0
    code, out, err = cli("target", "set", "--year", "2026", *arguments)
    assert (code, out) == (1, "") and err.startswith(message) and err.count("\n") == 1, err
    assert cli("target", "list")[1].strip().startswith("no targets yet")


def test_bad_year(cli):
    assert cli("centre", "add", "HL", "Trung tâm Hải Lăng")[0] == 0
    for year in ("1999", "2101"):
        code, _, err = cli("target", "set", "--centre", "HL", "--year", year, "--sipas", "90")
        assert code == 1 and err.strip() == f"Error: --year must be a year from 2000 to 2100, not {year}"
    code, _, err = cli("target", "set", "--centre", "HL", "--year", "next", "--sipas", "90")
    assert code == 1 and "'next' is not a valid integer" in err


def test_the_vietnamese_texts(cli):
    vi = {"SIPAS_ADMIN_LANGUAGE": "vi"}
    assert cli("centre", "add", "HL", "Trung tâm Hải Lăng")[0] == 0
    code, out, _ = cli("target", "set", "--centre", "HL", "--year", "2026", "--sipas", "90", env=vi)
    assert out.strip() == "mục tiêu của trung tâm HL năm 2026: sipas 90"
    code, _, err = cli("target", "set", "--centre", "HL", "--year", "2026", "--sipas", "120", env=vi)
    assert code == 1 and err.strip() == "Lỗi: --sipas phải là một số từ 0 đến 100 (điểm phần trăm), không phải '120.0'"


def _json(cli, *options):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "json", *options)
    assert code == 0, err
    return {(r["centre"], r["period"]): r for r in json.loads(out)["rows"]}


async def test_report_gap_and_probability_by_hand(services, hand, cli, tmp_path):
    assert cli("target", "set", "--centre", "HL", "--year", "2024", "--sipas", "90", "--element", "staff=90",
               "--element", "access=95")[0] == 0
    rows = _json(cli, "--period", "year")
    hl = rows[("HL", "2024")]
    low, high = hl["sipas_ci"]
    sipas = hl["target"]["sipas"]
    # 90 - 86.67 = 3.33 below the target.
    assert sipas["target"] == 90 and sipas["gap"] == pytest.approx(90 - 260 / 3)
    assert sipas["p_above"] == pytest.approx(above(90, 260 / 3, low, high))
    # Elements: staff 66.67 (gap 23.33), access 100 (5 above its target 95).
    staff, access = hl["target"]["elements"]["staff"], hl["target"]["elements"]["access"]
    assert (staff["target"], staff["gap"]) == (90, pytest.approx(90 - 200 / 3))
    assert (access["target"], access["gap"]) == (95, pytest.approx(-5.0))
    # Access is 100 but on 3 answers: its interval reaches far below 95, so the chance it is above is small too.
    # Staff's upper end (2 of 3) is one-sided (surveys.ceiling): p_above reads it where an equal-tailed end would be,
    # 1.96 / 1.645 times as far from the estimate (at most 100).
    assert hl["elements_one_sided"] == ["staff", "result"]
    staff_low, staff_high = hl["elements_ci"]["staff"]
    moved = min(100.0, 200 / 3 + (staff_high - 200 / 3) * RATIO)
    assert staff["p_above"] == pytest.approx(above(90, 200 / 3, staff_low, moved))
    assert staff["p_above"] > above(90, 200 / 3, staff_low, staff_high)
    assert access["p_above"] == pytest.approx(above(95, 100.0, *hl["elements_ci"]["access"]))
    assert 0 < staff["p_above"] < access["p_above"] < 0.5
    assert set(hl["target"]["elements"]) == {"staff", "access"}
    assert rows[("DH", "2024")]["target"] is None  # DH has no target

    # The target for staff is HL's benchmark for staff_1 (gap 23.33, gain 23.33 / 5 = 4.67); result_1 keeps the
    # best centre's 100 (gain 6.67), so it comes first now.
    assert [(p["code"], p["benchmark_from"], round(p["gain"], 9)) for p in hl["priority"]] == [
        ("result_1", "best", round(100 / 3 / 5, 9)), ("staff_1", "target", round((90 - 200 / 3) / 5, 9))]

    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "year")
    hl_line = next(line for line in out.splitlines() if line.startswith("HL "))
    percent = round(100 * above(90, 260 / 3, low, high))
    assert "Mục tiêu" in out.splitlines()[0] and hl_line.endswith(f"90 (còn 3,3; {percent}%)")
    # The element targets on a line under the row, in the elements' order: access 100 is 5 above 95.
    lines = out.splitlines()
    under = [line for line in lines[lines.index(hl_line) + 1:lines.index(hl_line) + 3]
             if line.startswith("  Mục tiêu yếu tố: ")]
    assert under == [f"  Mục tiêu yếu tố: Tiếp cận 95 (vượt 5,0; {round(100 * access['p_above'])}%); "
                     f"Công chức 90 (còn 23,3; {round(100 * staff['p_above'])}%)"]
    assert sum(line.startswith("  Mục tiêu yếu tố") for line in lines) == 1  # DH has none

    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "year", "--format", "csv")
    assert code == 0
    hl_csv = next(r for r in csv.DictReader(io.StringIO(out)) if r["centre"] == "HL")
    assert (hl_csv["target_sipas"], hl_csv["target_sipas_gap"], hl_csv["target_access_gap"]) == ("90.0", "3.33", "-5.0")
    assert float(hl_csv["target_sipas_p_above"]) == pytest.approx(above(90, 260 / 3, low, high), abs=5e-5)

    book = tmp_path / "r.xlsx"
    code, _, err = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "year", "--format", "xlsx", "-o",
                       str(book))
    assert code == 0, err
    sheet = [[cell.value for cell in row] for row in load_workbook(book)["Tổng hợp"].iter_rows()]
    first = sheet[0].index("Mục tiêu SIPAS")  # after the summary's measures (the rank columns may follow)
    assert sheet[0][first:first + 3] == ["Mục tiêu SIPAS", "Còn cách mục tiêu", "Khả năng đã vượt mục tiêu (%)"]
    hl_cells = next(row for row in sheet if row[0] == "HL")
    assert hl_cells[first:first + 3] == [90, 3.33, round(100 * above(90, 260 / 3, low, high), 2)]
    # "Yếu tố": each element with a target gets three columns after the indices; DH's stay empty.
    elements = [[cell.value for cell in row] for row in load_workbook(book)["Yếu tố"].iter_rows()]
    access_at = elements[0].index("Tiếp cận dịch vụ: mục tiêu")
    assert elements[0][access_at:access_at + 3] == [
        "Tiếp cận dịch vụ: mục tiêu", "Tiếp cận dịch vụ: còn cách mục tiêu",
        "Tiếp cận dịch vụ: khả năng đã vượt mục tiêu (%)"]
    assert [header for header in elements[0] if header.endswith(": mục tiêu")] == [
        "Tiếp cận dịch vụ: mục tiêu", "Công chức trực tiếp giải quyết công việc: mục tiêu"]
    hl_elements = next(row for row in elements if row[0] == "HL")
    assert hl_elements[access_at:access_at + 6] == [95, -5.0, round(100 * access["p_above"], 2),
                                                    90, round(90 - 200 / 3, 2), round(100 * staff["p_above"], 2)]
    assert next(row for row in elements if row[0] == "DH")[access_at:] == [None] * 6


async def test_which_periods_meet_the_target_of_a_year(services, hand, cli):
    assert cli("target", "set", "--centre", "HL", "--year", "2024", "--sipas", "90")[0] == 0
    assert _json(cli, "--period", "month")[("HL", "2024-07")]["target"]["sipas"]["target"] == 90
    assert _json(cli, "--period", "quarter")[("HL", "2024-Q3")]["target"]["sipas"]["target"] == 90
    assert _json(cli)[("HL", "all")]["target"] is None  # all time: not within one year
    assert _json(cli, "--from", "2024-01-01", "--to", "2024-12-31")[("HL", "all")]["target"] is not None
    assert _json(cli, "--from", "2024-01-01")[("HL", "all")]["target"] is None
    assert cli("target", "set", "--centre", "HL", "--year", "2025", "--sipas", "95")[0] == 0
    assert _json(cli, "--period", "year")[("HL", "2024")]["target"]["sipas"]["target"] == 90  # its own year's
