"""Safe publication (bot.reports.suppression): rows ranked within each period, criteria under min_n with only their
n, no withheld share recoverable from its group's element indices and SIPAS, and no suppressed group recoverable by
subtracting published groups from a published total (the subtraction attack, run on real reports)."""

import csv
import datetime as dt
import io
import random
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from test_report import QUICK, report, seed

from bot.reports import disclosure
from bot.reports.chart import chart_rows
from bot.reports.render import element_targets_text, target_text
from bot.reports.suppression import Withheld, determined, publish, withhold
from bot.storage.responses import build_response
from bot.survey import directory

JULY = dt.date(2024, 7, 5)


async def test_rows_are_ranked_within_each_period_never_across(services):
    # Per centre and quarter two responses, SIPAS 90 (high) or 10 (low): in Q1 HL is high and DH low, in Q2 the
    # other way round. Sorted across periods, HL-Q1 and DH-Q2 would come first.
    high, low = ((5, 5, 5, 5, 5), (5, 5, 5, 5, 3)), ((3, 3, 3, 3, 3), (4, 3, 3, 3, 3))
    rows = [(centre, False, "web", day, values) for centre, day, pair in (
        ("HL", dt.date(2024, 2, 1), high), ("DH", dt.date(2024, 2, 1), low),
        ("HL", dt.date(2024, 5, 1), low), ("DH", dt.date(2024, 5, 1), high)) for values in pair]
    await seed(services, rows)
    for period, keys in (("quarter", ["2024-Q1", "2024-Q2"]), ("month", ["2024-02", "2024-05"])):
        result = await report(services, period=period)
        assert [(r["period"], r["centre"]) for r in result.rows] == [
            (keys[0], "HL"), (keys[0], "DH"), (keys[1], "DH"), (keys[1], "HL")]
        assert [r["centre"] for r in chart_rows(result)] == ["DH", "HL"]  # the chart: the latest period, ranked


async def test_a_criterion_under_min_n_shows_only_its_n_and_cannot_be_rebuilt_from_sipas(services, cli):
    # One centre (so no other group to subtract), min_n = 2:
    #   access 5 4 5 -> 100     procedure 5 4 2 -> 66.67    staff 3 . 4 -> 50 (n = 2)
    #   result 5 2 4 -> 66.67   feedback 4 NA NA -> 100 (n = 1: suppressed)
    hand = [("HL", True, "telegram", JULY, (5, 5, 3, 5, 4)), ("HL", True, "telegram", JULY, (4, 4, None, 2, "NA")),
            ("HL", True, "telegram", JULY, (5, 2, 4, 4, "NA"))]
    await seed(services, hand)
    [everything] = (await report(services, min_n=1)).rows
    # Before: the feedback index is its one criterion, and 5 * SIPAS minus the four other shares is it as well:
    # 5 * 76.67 - (100 + 66.67 + 50 + 66.67) = 100.
    assert everything["sipas"] == pytest.approx(1150 / 15)
    assert 5 * everything["sipas"] - (100 + 200 / 3 + 50 + 200 / 3) == pytest.approx(100.0)
    [row] = (await report(services, min_n=2)).rows
    assert row["suppressed"] is False and row["suppressed_reason"] is None
    assert row["criteria"]["feedback_1"] == {"n": 1, "suppressed": True}
    # The feedback index is withheld; SIPAS would still give feedback away, so a second criterion goes too: the one
    # with the fewest answers (staff, n = 2), and its element index. SIPAS stays: now it only says staff + feedback
    # = 5 * 76.67 - (100 + 66.67 + 66.67) = 150.
    assert row["criteria"]["staff_1"] == {"n": 2, "suppressed": True}
    assert row["criteria"]["result_1"]["suppressed"] is False
    assert row["criteria"]["result_1"]["satisfied_pct"] == pytest.approx(200 / 3)
    assert row["elements"] == pytest.approx({"access": 100.0, "procedure": 200 / 3, "staff": None,
                                             "result": 200 / 3, "feedback": None})
    assert row["sipas"] == pytest.approx(1150 / 15)
    assert row["withheld"] == {"sipas": False, "elements": ["staff", "feedback"]}

    code, out, err = cli("report", "--survey", QUICK, "--min-n", "2", "--format", "csv")
    assert code == 0, err
    [line] = list(csv.DictReader(io.StringIO(out)))
    assert (line["feedback_1_n"], line["feedback_1_satisfied_pct"], line["feedback_1_mean"]) == ("1", "", "")
    assert (line["staff"], line["feedback"], line["sipas"], line["access"]) == ("", "", "76.67", "100.0")
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "2")
    assert code == 0, err
    table = out.splitlines()
    assert table[2].split()[-5:] == ["100,00", "66,67", "ẩn", "66,67", "ẩn"]  # the element columns
    assert any(line.startswith("“ẩn”: không công bố") for line in table)


async def test_the_second_criterion_comes_from_the_same_element(services):
    # sipas-2023, two responses, min_n = 2: the 13 criteria of access..result all 5 then 4 (100 each);
    # feedback_1 5 NA (n = 1), feedback_2 4 3 (50), feedback_3 5 2 (50).
    # SIPAS = (13 * 100 + 100 + 50 + 50) / 16 = 93.75. Withholding feedback_1 and the feedback index is not enough
    # (16 * 93.75 - 1300 - 50 - 50 = 100); feedback_2 (the same element, so no other index is lost) goes too.
    hand = [("HL", True, "web", JULY, (5,) * 13 + (5, 4, 5)), ("HL", True, "web", JULY, (4,) * 13 + ("NA", 3, 2))]
    await seed(services, hand, survey="sipas-2023")
    [row] = (await report(services, survey="sipas-2023", min_n=2)).rows
    assert row["sipas"] == pytest.approx(93.75)
    assert row["criteria"]["feedback_1"] == {"n": 1, "suppressed": True}
    assert row["criteria"]["feedback_2"] == {"n": 2, "suppressed": True}
    assert row["criteria"]["feedback_3"]["satisfied_pct"] == pytest.approx(50.0)
    assert row["elements"] == {"access": 100.0, "procedure": 100.0, "staff": 100.0, "result": 100.0, "feedback": None}
    assert row["withheld"] == {"sipas": False, "elements": ["feedback"]}


# The seeded grid for the subtraction attack (sipas-quick, min_n = 30, one period): centre, service, channel, n,
# and the share of "not applicable" feedback. Before this change, HL minus HL/KS and HL/KH rebuilt HL/none (n = 4);
# KS minus HL/KS, CL/KS and GL/KS rebuilt DH/KS (n = 3); HL minus its telegram row rebuilt its web row (n = 4), DH
# likewise (n = 3). GL has no small group, but GL/KH has about 20 feedback answers (under 30) and GL/KS 45: GL's
# feedback minus GL/KS's would rebuild GL/KH's, a criterion cell.
GRID = [("HL", "KS", "telegram", 40, 0.5), ("HL", "KH", "telegram", 35, 0.5), ("HL", None, "web", 4, 0.5),
        ("DH", "KS", "web", 3, 0.5), ("DH", "KH", "telegram", 50, 0.5),
        ("CL", "KS", "telegram", 31, 0.5), ("CL", "KH", "web", 2, 0.5), ("CL", None, "web", 33, 0.5),
        ("GL", "KS", "zalo", 45, 0.0), ("GL", "KH", "zalo", 40, 0.5)]
MIN_N = 30


async def seed_grid(services, grid=GRID, seed_number=12):
    """Four centres, two services, random answers (mostly satisfied; feedback "not applicable" as the grid says)."""
    instrument = services.instrument(QUICK)
    codes = list(instrument.criteria())
    draw = random.Random(seed_number)
    async with services.db.transaction() as session:
        centres = {code: (await directory.add_centre(session, code, f"Trung tâm {code}")).id
                   for code in ("HL", "DH", "CL", "GL")}
        kinds = {code: (await directory.add_service(session, code, f"Dịch vụ {code}")).id for code in ("KS", "KH")}
        for centre, service, channel, count, not_applicable in grid:
            for _ in range(count):
                answers = {c: draw.choice((1, 2, 3, 4, 4, 5, 5, 5)) for c in codes}
                if draw.random() < not_applicable:
                    answers["feedback_1"] = "NA"
                session.add(build_response(instrument, answers, centre_id=centres[centre],
                                           service_id=kinds.get(service), channel=channel, submitted_on=JULY))


def satisfied(row: dict, code: str) -> float:
    """A published cell's satisfied count, as an attacker rebuilds it: satisfied_pct x n / 100."""
    cell = row["criteria"][code]
    return cell["satisfied_pct"] * cell["n"] / 100 if cell["n"] else 0.0


def shown(row: dict, code: str) -> bool:
    return not row["suppressed"] and not row["criteria"][code]["suppressed"]


def key(row: dict, by: list[str]) -> tuple:
    return (*(row[d] for d in by), row["period"])


@pytest.mark.parametrize(("total", "parts"), [("centre", "centre,service"), ("service", "centre,service"),
                                              ("centre", "centre,channel")])
async def test_the_subtraction_attack_recovers_nothing(services, total, parts):
    await seed_grid(services)
    codes = list(services.instrument(QUICK).criteria())
    margin_by, child_by = total.split(","), parts.split(",")
    truth = {key(r, child_by): r for r in (await report(services, by=parts, min_n=1)).rows}
    truth_totals = {key(r, margin_by): r for r in (await report(services, by=total, min_n=1)).rows}
    margins = (await report(services, by=total, min_n=MIN_N)).rows
    children = (await report(services, by=parts, min_n=MIN_N)).rows
    assert any(r["suppressed_reason"] == "complementary" for r in children)
    attacked = 0
    for margin in margins:
        if margin["suppressed"]:
            continue
        under = [c for c in children if key(c, margin_by) == key(margin, margin_by)]
        # The n-weighted count of responses without a dissatisfied answer adds up too: whole rows, not one alone.
        hidden_rows = [c for c in under if c["suppressed"]]
        assert len(hidden_rows) != 1, (margin, hidden_rows)
        for code in codes:
            if not shown(margin, code):
                continue
            hidden = [c for c in under if not shown(c, code) and truth[key(c, child_by)]["criteria"][code]["n"]]
            left = satisfied(margin, code) - sum(satisfied(c, code) for c in under if shown(c, code))
            # The attack itself is right: what is left is exactly the withheld cells' satisfied counts together ...
            assert left == pytest.approx(sum(satisfied(truth[key(c, child_by)], code) for c in hidden), abs=1e-6)
            # ... and it never isolates one.
            assert len(hidden) != 1, (margin[total], code, hidden)
            attacked += 1
    assert attacked

    # The old rule (a group under min_n suppressed, nothing else) let the same attack rebuild a group exactly.
    leaks = 0
    for margin in truth_totals.values():
        if margin["n"] < MIN_N:
            continue
        under = [c for c in truth.values() if key(c, margin_by) == key(margin, margin_by)]
        small = [c for c in under if c["n"] < MIN_N]
        if len(small) == 1:
            left = satisfied(margin, "access_1") - sum(satisfied(c, "access_1") for c in under if c["n"] >= MIN_N)
            assert left == pytest.approx(satisfied(small[0], "access_1"), abs=1e-6)
            leaks += 1
    assert leaks >= 2


def equations_of(rows: list[dict], by: list[str], cells: list[tuple], codes: list[str], elements: list[str]):
    """A report's rows as linear equations in the satisfied counts of the centre x service ``cells`` (one unknown
    per cell and criterion): each published criterion sums its cells, each published element index and SIPAS sum
    its cells' counts divided by their n. Returns the equations and, per withheld figure, (row, code, vector)."""
    width = len(cells) * len(codes)
    equations, withheld = [], []
    for row in rows:
        members = [i for i, (centre, service) in enumerate(cells)
                   if all(row[d] == {"centre": centre, "service": service}[d] for d in by)]

        def vector(j, weight=1.0, members=members):
            v = np.zeros(width)
            v[[m * len(codes) + j for m in members]] = weight
            return v
        for j, code in enumerate(codes):
            (withheld.append((row, code, vector(j))) if not shown(row, code) else equations.append(vector(j)))
        if row["suppressed"]:
            continue
        n = [row["criteria"][code]["n"] for code in codes]
        for element in dict.fromkeys(elements):
            if row["elements"][element] is not None:
                equations.append(sum(vector(j, 1 / n[j]) for j in range(len(codes)) if elements[j] == element and n[j]))
        if row["sipas"] is not None:
            equations.append(sum(vector(j, 1 / n[j]) for j in range(len(codes)) if n[j]))
    return equations, withheld


@pytest.mark.parametrize("solved", [True, False], ids=["solved", "heuristic"])
async def test_no_withheld_figure_follows_from_every_published_figure_at_once(services, monkeypatch, solved):
    # A stronger attack than one subtraction: every figure of --by centre,service, --by centre, --by service and
    # the province total of each criterion, as linear equations in the centre x service satisfied counts at once;
    # a withheld figure is rebuilt when its vector lies in their row space (bot.reports.disclosure). "heuristic":
    # as in a period too large to solve.
    if not solved:
        monkeypatch.setattr(disclosure, "MAX_CELLS", 0)
    await seed_grid(services)
    instrument = services.instrument(QUICK)
    codes, elements = list(instrument.criteria()), list(instrument.criteria().values())
    cells = [(r["centre"], r["service"]) for r in (await report(services, by="centre,service", min_n=1)).rows]
    equations, withheld = [], []
    for by in (["centre", "service"], ["centre"], ["service"]):
        published, hidden = equations_of((await report(services, by=",".join(by), min_n=MIN_N)).rows, by, cells,
                                         codes, elements)
        equations += published
        withheld += hidden
    for j in range(len(codes)):
        equations.append(np.tile(np.eye(len(codes))[j], len(cells)))
    system = np.vstack(equations)
    rank = np.linalg.matrix_rank(system)
    assert len(withheld) > 40
    for row, code, vector in withheld:
        rebuilt = np.linalg.matrix_rank(np.vstack([system, vector])) == rank
        assert not rebuilt, (row.get("centre"), row.get("service"), code, row["suppressed_reason"])


async def test_two_centres_keeping_sipas_over_the_same_withheld_pair_would_give_both_away(services):
    # By centre, DH and CL each withhold access and feedback (bot.reports.suppression's rules). Had both kept SIPAS,
    # four equations would fix the four counts: the province's access and feedback counts minus HL's and GL's, and
    # each centre's SIPAS = (sum of its shares) / 5. So DH (the smaller) withholds SIPAS too, and then nothing follows.
    await seed_grid(services)
    truth = {r["centre"]: r for r in (await report(services, by="centre", min_n=1)).rows}
    rows = {r["centre"]: r for r in (await report(services, by="centre", min_n=MIN_N)).rows}
    assert rows["DH"]["sipas"] is None and rows["DH"]["withheld"] == {"sipas": True, "elements": ["access", "feedback"]}
    assert rows["CL"]["sipas"] is not None and rows["CL"]["withheld"]["elements"] == ["access", "feedback"]
    # The attack on what the rules alone published (DH's SIPAS as it was): unknowns a_DH, f_DH, a_CL, f_CL.
    n = {c: (truth[c]["criteria"]["access_1"]["n"], truth[c]["criteria"]["feedback_1"]["n"]) for c in ("DH", "CL")}
    known = {c: sum(satisfied(truth[c], code) / truth[c]["criteria"][code]["n"] for code in
                    ("procedure_1", "staff_1", "result_1")) for c in ("DH", "CL")}
    total = {code: sum(satisfied(truth[c], code) for c in ("DH", "CL")) for code in ("access_1", "feedback_1")}
    system = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1 / n["DH"][0], 1 / n["DH"][1], 0, 0],
                       [0, 0, 1 / n["CL"][0], 1 / n["CL"][1]]])
    values = [total["access_1"], total["feedback_1"], 5 * truth["DH"]["sipas"] / 100 - known["DH"],
              5 * rows["CL"]["sipas"] / 100 - known["CL"]]
    a_dh, f_dh, _, _ = np.linalg.solve(system, values)
    assert (a_dh, f_dh) == pytest.approx((satisfied(truth["DH"], "access_1"), satisfied(truth["DH"], "feedback_1")))


def test_the_block_rule_is_the_rank_test():
    # bot.reports.suppression.determined decides by blocks; the definition is the rank of the published equations.
    # sipas-2023's elements (3, 4, 3, 3, 3 criteria), 3,000 random patterns of answered / withheld figures.
    parts = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    draw = random.Random(7)
    for _ in range(3000):
        answered = [draw.random() < 0.85 for _ in parts]
        criteria = [draw.random() < 0.2 for _ in parts]
        elements = [draw.random() < 0.3 for _ in range(5)]
        sipas_withheld = draw.random() < 0.2
        columns = [j for j in range(len(parts)) if answered[j]]
        equations = [[float(i == j) for i in columns] for j in columns if not criteria[j]]
        equations += [[float(parts[i] == e) for i in columns] for e in range(5)
                      if not elements[e] and any(parts[i] == e for i in columns)]
        equations += [] if sipas_withheld else [[1.0] * len(columns)]
        published = np.array(equations).reshape(-1, len(columns))
        rank = np.linalg.matrix_rank(published) if len(published) else 0
        by_rank = [j for c, j in enumerate(columns) if criteria[j] and np.linalg.matrix_rank(
            np.vstack([published, np.eye(len(columns))[c]])) == rank]
        assert determined(answered, criteria, elements, sipas_withheld, parts) == by_rank


def test_figures_derived_from_a_withheld_one_are_withheld_too():
    # A row also carries a change from a base period, a gap to a target and a priority list: a change
    # or a gap from a published base gives the withheld figure back, so they go with it.
    row = {"suppressed": False, "sipas": 80.0, "sipas_ci": [70.0, 90.0], "elements": {"staff": 50.0, "result": 60.0},
           "elements_ci": {"staff": [40.0, 60.0], "result": [50.0, 70.0]},
           "criteria": {"staff_1": {"n": 2, "satisfied_pct": 50.0}, "result_1": {"n": 40, "satisfied_pct": 60.0}},
           "change": {"sipas": {"change": 1.0}, "elements": {"staff": {"change": 2.0}, "result": {"change": 3.0}}},
           "target": {"sipas": {"gap": 10.0}, "elements": {"staff": {"gap": 5.0}}},
           "priority": [{"code": "staff_1", "gain": 1.0}, {"code": "result_1", "gain": 0.5}]}
    publish([row], Withheld([None], np.array([[True, False]]), np.array([[True, False]]), np.array([True])),
            ["staff_1", "result_1"], ["staff", "result"])
    assert (row["sipas"], row["sipas_ci"], row["elements"], row["elements_ci"]["staff"]) == (
        None, None, {"staff": None, "result": 60.0}, [None, None])
    assert row["criteria"] == {"staff_1": {"n": 2, "suppressed": True},
                               "result_1": {"n": 40, "satisfied_pct": 60.0, "suppressed": False}}
    assert row["change"] == {"sipas": None, "elements": {"staff": None, "result": {"change": 3.0}}}
    assert row["target"] == {"sipas": None, "elements": {"staff": None}}
    # ... and the table's lines under the row say nothing of them (no "Mục tiêu yếu tố: Công chức ... (còn 5,0)")
    shown = SimpleNamespace(elements=["staff", "result"], instrument=None)
    assert (element_targets_text(shown, row), target_text(row["target"]["sipas"])) == (None, "–")
    assert row["priority"] == [{"code": "result_1", "gain": 0.5}]
    assert row["withheld"] == {"sipas": True, "elements": ["staff"]}


async def test_a_complementary_criterion_costs_its_group_one_more_index_not_everything(services):
    # By centre on the grid: DH's feedback has fewer than 30 answers, so it is withheld, with the feedback index and
    # a second criterion (access: every other criterion has all 53 answers, the first goes); the province total
    # minus the other centres would then give DH's feedback and access away, so CL's go too. CL then has two
    # withheld criteria, each alone in its element: their indices go, and CL's SIPAS (the sum of the two) stays.
    # (DH's SIPAS goes as well: the next test.)
    await seed_grid(services)
    rows = {r["centre"]: r for r in (await report(services, by="centre", min_n=MIN_N)).rows}
    assert rows["DH"]["criteria"]["feedback_1"]["n"] < MIN_N <= rows["CL"]["criteria"]["feedback_1"]["n"]
    for centre in ("DH", "CL"):
        assert rows[centre]["withheld"]["elements"] == ["access", "feedback"]
        assert [c for c, v in rows[centre]["criteria"].items() if v["suppressed"]] == ["access_1", "feedback_1"]
    assert rows["CL"]["sipas"] is not None
    for centre in ("HL", "GL"):
        assert rows[centre]["withheld"] == {"sipas": False, "elements": []}


def test_a_cell_rebuilt_by_margins_alone_costs_a_neighbour():
    # 4 centres x 4 services (one criterion, sipas-quick's access only), min_n = 30. The groups marked x have n = 10,
    # the others 100: two blocks of four, joined by (1, 2). Every row and column holds at least two small groups,
    # so the margin rule is satisfied, yet rows 0 and 1 minus columns 0 and 1 leave exactly (1, 2):
    #         0  1  2  3
    #     0   x  x  .  .
    #     1   x  x  x  .
    #     2   .  .  x  x
    #     3   .  .  x  x
    small = {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)}
    cells = [(c, s) for c in range(4) for s in range(4)]
    n = np.array([10 if cell in small else 100 for cell in cells])
    groups = pd.DataFrame({"centre": [c for c, _ in cells], "service": [s for _, s in cells], "period": 0, "n": n})
    withheld = withhold(groups, n[:, None], [0], ("centre", "service"), MIN_N, True)
    hidden = [i for i, cell in enumerate(cells) if withheld.suppressed[i] or withheld.criteria[i, 0]]
    assert {cells[i] for i in hidden} > small  # one more: a neighbour of (1, 2)
    equations = [[float(cells[i][0] == r) for i in hidden] for r in range(4)]
    equations += [[float(cells[i][1] == s) for i in hidden] for s in range(4)] + [[1.0] * len(hidden)]
    rank = np.linalg.matrix_rank(np.array(equations))
    for k in range(len(hidden)):
        assert np.linalg.matrix_rank(np.vstack([equations, np.eye(len(hidden))[k]])) > rank, cells[hidden[k]]


async def test_people_see_why_a_group_is_withheld(services, cli, tmp_path):
    # --by centre,service on the grid: HL/KH (n = 35) is withheld for HL/none (n = 4).
    await seed_grid(services)
    code, out, err = cli("report", "--survey", QUICK, "--by", "centre,service")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("HL ") and " KH " in line)
    assert "ẩn để bảo vệ" in line and "35" in line and "chưa đủ mẫu" not in line
    assert "3 nhóm chưa đủ mẫu (dưới 30 phiếu), 4 nhóm ẩn để bảo vệ." in out
    code, out, err = cli("report", "--survey", QUICK, "--by", "centre,service", "--format", "csv")
    assert code == 0, err
    rows = {(r["centre"], r["service"]): r for r in csv.DictReader(io.StringIO(out))}
    assert (rows[("HL", "KH")]["suppressed"], rows[("HL", "KH")]["suppressed_reason"], rows[("HL", "KH")]["sipas"],
            rows[("HL", "KH")]["access_1_n"], rows[("HL", "KH")]["open_pct"]) == ("true", "complementary", "", "", "")
    assert rows[("HL", "")]["suppressed_reason"] == "min_n"
    target = tmp_path / "r.xlsx"
    code, _out, err = cli("report", "--survey", QUICK, "--by", "centre,service", "--format", "xlsx", "-o", str(target))
    assert code == 0, err
    summary = [[cell.value for cell in row] for row in load_workbook(target)["Tổng hợp"].iter_rows()]
    hl_kh = next(row for row in summary if row[0] == "HL" and row[2] == "KH")
    assert "ẩn để bảo vệ" in hl_kh and hl_kh[5] == 35 and hl_kh[6] is None


async def test_the_roll_up_of_a_parent_centre_gives_no_suppressed_child_away(services, cli):
    # Province centre QT with two commune centres under it, XA (n = 40) and XB (n = 5), and another province's centre
    # HL (n = 35). The province total alone would withhold HL (the smallest published) beside XB; then QT's roll-up
    # (--by parent: QT + XA + XB) minus QT and XA, both published, would give XB back.
    instrument = services.instrument(QUICK)
    codes = list(instrument.criteria())
    draw = random.Random(3)
    async with services.db.transaction() as session:
        ids = {}
        for code in ("QT", "XA", "XB", "HL"):
            ids[code] = (await directory.add_centre(session, code, f"Trung tâm {code}")).id
        for code, count in (("QT", 40), ("XA", 40), ("XB", 5), ("HL", 35)):
            session.add_all([build_response(instrument, {c: draw.choice((2, 3, 4, 5, 5)) for c in codes},
                                            centre_id=ids[code], service_id=None, channel="web", submitted_on=JULY)
                             for _ in range(count)])
    for child in ("XA", "XB"):
        assert cli("centre", "set", child, "--parent", "QT")[0] == 0
    truth = {r["centre"]: r for r in (await report(services, min_n=1)).rows}
    [roll_up] = [r for r in (await report(services, by="parent", min_n=MIN_N)).rows if r["parent"] == "QT"]
    assert roll_up["n"] == 85 and not roll_up["suppressed"]
    centres = {r["centre"]: r for r in (await report(services, min_n=MIN_N)).rows}
    assert centres["XB"]["suppressed_reason"] == "min_n"
    under = [centres[c] for c in ("QT", "XA", "XB")]
    assert sum(c["suppressed"] for c in under) >= 2  # a second centre under QT is withheld with XB
    for code in codes:
        left = satisfied(roll_up, code) - sum(satisfied(c, code) for c in under if shown(c, code))
        hidden = [c["centre"] for c in under if not shown(c, code)]
        assert left == pytest.approx(sum(satisfied(truth[c], code) for c in hidden), abs=1e-6)
        assert len(hidden) != 1, (code, hidden)


def test_a_withheld_element_does_not_say_its_upper_end_is_one_sided():
    # That an element's upper end is one-sided tells its index is near the ceiling: withheld, it is left out.
    row = {"suppressed": False, "criteria": {"access_1": {"n": 40}, "staff_1": {"n": 40}},
           "elements": {"access": 99.0, "staff": 98.0}, "elements_ci": {"access": [93.0, 99.9], "staff": [92.0, 99.8]},
           "elements_one_sided": ["access", "staff"], "sipas": 98.5, "sipas_ci": [95.0, 99.5]}
    withheld = Withheld(reason=[None], criteria=np.array([[True, False]]),
                        elements=np.array([[True, False]]), sipas=np.array([False]))
    publish([row], withheld, ["access_1", "staff_1"], ["access", "staff"])
    assert row["elements"]["access"] is None and row["elements_ci"]["access"] == [None, None]
    assert row["elements_one_sided"] == ["staff"]
