"""Rank intervals: each ranked group's place in its period and between which places it could sit (95%), from
2,000 seeded joint draws of every group's SIPAS (bot.reports.ranks)."""

import csv
import datetime as dt
import io

import numpy as np
import pytest
from openpyxl import load_workbook
from test_report import QUICK, report, seed

from bot.reports.ranks import rank_intervals

MAY, JUNE, JULY = dt.date(2024, 5, 5), dt.date(2024, 6, 5), dt.date(2024, 7, 5)


def forms(centre, day, values, count):
    return [(centre, False, "web", day, values)] * count


async def test_a_clear_winner_ranks_first_for_sure(services):
    # HL: 40 forms all 5 (SIPAS 100); DH: 20 all 5 and 20 all 2 (SIPAS 50): no draw puts DH above HL.
    await seed(services, forms("HL", JULY, (5, 5, 5, 5, 5), 40) + forms("DH", JULY, (5, 5, 5, 5, 5), 20)
               + forms("DH", JULY, (2, 2, 2, 2, 2), 20))
    rows = {r["centre"]: r for r in (await report(services)).rows}
    assert rows["HL"]["rank"] == {"rank": 1, "low": 1, "high": 1, "of": 2}
    assert rows["DH"]["rank"] == {"rank": 2, "low": 2, "high": 2, "of": 2}


async def test_indistinguishable_centres_both_span_first_to_second(services):
    same = [(5, 5, 5, 5, 5), (5, 5, 5, 5, 5), (1, 1, 1, 1, 1), (4, 4, 2, 2, 2)]  # SIPAS 60 each
    await seed(services, [("HL", False, "web", JULY, v) for v in same] + [("DH", False, "web", JULY, v)
                                                                            for v in same])
    rows = (await report(services)).rows
    assert [r["sipas"] for r in rows] == pytest.approx([60.0, 60.0])
    # Equal lower bounds: the keys decide the place (DH before HL); the intervals both cover places 1 and 2.
    assert [(r["centre"], r["rank"]) for r in rows] == [("DH", {"rank": 1, "low": 1, "high": 2, "of": 2}),
                                                         ("HL", {"rank": 2, "low": 1, "high": 2, "of": 2})]
    assert [r["rank"] for r in (await report(services)).rows] == [r["rank"] for r in rows]  # seeded: repeats


def test_three_groups_by_the_draws():
    # One far ahead (90, 88-92), two close behind (70, 60-80 and 69, 59-79): first for sure, then 2-3 for both.
    low, high = rank_intervals(np.array([[90.0, 88.0, 92.0], [70.0, 60.0, 80.0], [69.0, 59.0, 79.0]]), "all")
    assert low.tolist() == [1, 2, 2] and high.tolist() == [1, 3, 3]
    again = rank_intervals(np.array([[90.0, 88.0, 92.0], [70.0, 60.0, 80.0], [69.0, 59.0, 79.0]]), "all")
    assert [a.tolist() for a in again] == [low.tolist(), high.tolist()]  # seeded: the same every time


async def test_ranked_within_each_period_and_suppressed_not_ranked(services):
    # May: DH 1 form (suppressed at min_n 2); June: HL 3 forms (SIPAS 100); July: HL and DH with 3 forms each.
    # (A centre alone in its month with a suppressed one would be withheld too: the month's total gives it away.)
    await seed(services, forms("DH", MAY, (5, 5, 5, 5, 5), 1) + forms("HL", JUNE, (5, 5, 5, 5, 5), 3)
               + forms("HL", JULY, (5, 5, 5, 5, 5), 3) + forms("DH", JULY, (2, 2, 2, 2, 2), 3))
    rows = {(r["centre"], r["period"]): r for r in (await report(services, period="month", min_n=2)).rows}
    assert rows[("DH", "2024-05")]["suppressed"] and rows[("DH", "2024-05")]["rank"] is None
    assert rows[("HL", "2024-06")]["rank"] == {"rank": 1, "low": 1, "high": 1, "of": 1}  # alone in its period
    assert rows[("HL", "2024-07")]["rank"]["of"] == 2 and rows[("HL", "2024-07")]["rank"]["rank"] == 1
    assert rows[("DH", "2024-07")]["rank"]["rank"] == 2


async def test_rank_in_table_csv_and_xlsx(services, cli, tmp_path):
    await seed(services, forms("HL", JULY, (5, 5, 5, 5, 5), 40) + forms("DH", JULY, (5, 5, 5, 5, 5), 20)
               + forms("DH", JULY, (2, 2, 2, 2, 2), 20))
    common = ("report", "--survey", QUICK, "--min-n", "1")
    code, out, err = cli(*common)
    assert code == 0, err
    lines = out.splitlines()
    assert "Hạng (khoảng)" in lines[0]
    assert "1 (1–1)" in next(line for line in lines if line.startswith("HL "))
    assert "2 (2–2)" in next(line for line in lines if line.startswith("DH "))
    assert "khoảng 95% của hạng" in out
    code, out, err = cli(*common, "--format", "csv")
    assert code == 0, err
    table = {r["centre"]: r for r in csv.DictReader(io.StringIO(out))}
    assert [table["DH"][k] for k in ("rank", "rank_low", "rank_high", "rank_of")] == ["2", "2", "2", "2"]
    target = tmp_path / "r.xlsx"
    code, _, err = cli(*common, "--format", "xlsx", "-o", str(target))
    assert code == 0, err
    sheet = [[cell.value for cell in row] for row in load_workbook(target)["Tổng hợp"].iter_rows()]
    headers = sheet[0]
    hl = next(r for r in sheet[1:] if r[0] == "HL")
    assert [hl[headers.index(h)] for h in ("Hạng", "Hạng (từ)", "Hạng (đến)", "Số nhóm xếp hạng")] == [1, 1, 1, 2]
