"""Roll-ups: `--by parent` (a centre's responses counted under its top ancestor) and `--total` (one province row
per period), each response counted once; by hand on the data of tests/test_report.py plus one commune centre:

    HL  2024-07  5 5 5 5 NA | 4 4 3 2 NA | 5 4 4 4 4        (no parent)
    DH  2024-08  2 3 4 5 1  | 5 5 5 5 (skipped)             (parent HL, after `centre set DH --parent HL`)
    XA  2024-08  5 5 5 5 5                                  (parent DH: its top is HL)

All six together: access 5/6 satisfied, procedure 5/6, staff 5/6, result 5/6, feedback 2/3 (HL's 4, XA's 5 of
HL's 4, DH's 1 and XA's 5): SIPAS = (4 * 5/6 + 2/3) / 5 = 80.
"""

import csv
import datetime as dt
import json

import pytest
from sqlalchemy import select
from test_report import QUICK, invite, report, seed

from bot.storage.models import Centre
from bot.storage.responses import build_response
from bot.survey import directory


@pytest.fixture
async def tree(services, cli):
    await seed(services)
    instrument = services.instrument(QUICK)
    async with services.db.transaction() as session:
        xa = await directory.add_centre(session, "XA", "Trung tâm Phục vụ hành chính công xã A", parent="DH")
        session.add(build_response(instrument, dict.fromkeys(instrument.criteria(), 5), centre_id=xa.id,
                                   service_id=None, channel="web", submitted_on=dt.date(2024, 8, 20)))
    code, _, err = cli("centre", "set", "DH", "--parent", "HL")
    assert code == 0, err


async def test_by_parent_counts_every_response_once_under_its_top_centre(services, tree):
    [hl] = (await report(services, by="parent")).rows
    assert (hl["parent"], hl["n"]) == ("HL", 6)
    assert hl["sipas"] == pytest.approx(80.0)
    assert hl["elements"] == pytest.approx({"access": 500 / 6, "procedure": 500 / 6, "staff": 500 / 6,
                                            "result": 500 / 6, "feedback": 200 / 3})
    assert hl["sipas_ci"][0] < 80 < hl["sipas_ci"][1]
    assert hl["participation"] is None  # no invitation yet
    # Invitations roll up too: one of HL completed, one of DH opened, one of XA issued, all under HL.
    async with services.db.reading() as session:
        centres = {c.code: c for c in (await session.execute(select(Centre))).scalars()}
    for code, stages in (("HL", "osc"), ("DH", "o"), ("XA", "")):
        await invite(services, centres[code], None, dt.datetime(2024, 7, 10, 8, tzinfo=dt.UTC), stages)
    [hl] = (await report(services, by="parent")).rows
    assert hl["participation"] == {"issued": 3, "opened": 2, "started": 1, "completed": 1,
                                   "response_rate": pytest.approx(100 / 3)}
    by_centre = {r["centre"]: r["participation"]["issued"] for r in (await report(services, by="parent,centre")).rows}
    assert by_centre == {"HL": 1, "DH": 1, "XA": 1}
    # By parent and centre: each centre's row carries its top centre.
    rows = (await report(services, by="parent,centre")).rows
    assert sorted((r["parent"], r["centre"], r["n"]) for r in rows) == [("HL", "DH", 2), ("HL", "HL", 3),
                                                                        ("HL", "XA", 1)]
    # Their priorities compare centres across parents: DH's feedback 0 and access, procedure 50 against 100 (k = 5).
    dh = next(r for r in rows if r["centre"] == "DH")
    assert [(p["code"], round(p["gain"], 9)) for p in dh["priority"]] == [
        ("feedback_1", 20.0), ("access_1", 10.0), ("procedure_1", 10.0)]


async def test_total_row_is_first_in_its_period_unranked_with_intervals(services, tree):
    rows = (await report(services, total=True)).rows
    total = rows[0]
    assert total["total"] is True and total["centre"] is None and total["n"] == 6
    assert total["sipas"] == pytest.approx(80.0) and total["sipas_ci"][0] < 80 < total["sipas_ci"][1]
    assert [r["centre"] for r in rows[1:]] == ["HL", "DH", "XA"] and not any(r.get("total") for r in rows[1:])
    # The same responses as the parent row: the same figures and interval.
    [parent] = (await report(services, by="parent")).rows
    assert total["sipas_ci"] == pytest.approx(parent["sipas_ci"]) and total["criteria"] == parent["criteria"]
    # Its priorities compare it with the best centre of the period: feedback 66.67 against HL's (and XA's) 100.
    assert total["priority"][0]["code"] == "feedback_1" and total["priority"][0]["gain"] == pytest.approx(
        (100 - 200 / 3) / 5)

    monthly = (await report(services, total=True, period="month")).rows
    firsts = {}
    for row in monthly:
        firsts.setdefault(row["period"], row)
    assert {p: (r.get("total"), r["n"]) for p, r in firsts.items()} == {"2024-07": (True, 3), "2024-08": (True, 3)}
    assert sum(r["n"] for r in monthly if r.get("total")) == 6


async def test_total_in_the_table_csv_and_xlsx(services, tree, cli, tmp_path):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--total")
    assert code == 0, err
    assert out.splitlines()[2].startswith("Toàn tỉnh ") and "80,00" in out.splitlines()[2]
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--by", "parent")
    assert out.splitlines()[0].startswith("Trung tâm cấp trên ") and out.splitlines()[2].startswith("HL Trung tâm ")
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--by", "parent", "--format", "csv")
    assert code == 0, err
    header, first = out.splitlines()[:2]
    assert header.startswith("parent,parent_name,period,n") and first.startswith(
        "HL,Trung tâm Phục vụ hành chính công Hải Lăng,all,6,false,80.0")
    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--total", "--format", "csv")
    header, first = csv.reader(out.splitlines()[:2])
    assert first[:4] == ["", "", "all", "6"] and first[header.index("total")] == "true"
    assert json.loads(cli("report", "--survey", QUICK, "--min-n", "1", "--total", "--format", "json")[1])[
        "rows"][0]["total"] is True
    target = tmp_path / "r.xlsx"
    assert cli("report", "--survey", QUICK, "--min-n", "1", "--total", "--format", "xlsx", "-o", str(target))[0] == 0
    from openpyxl import load_workbook

    summary = [[c.value for c in row] for row in load_workbook(target)["Tổng hợp"].iter_rows()]
    assert summary[1][:4] == ["Toàn tỉnh", None, "toàn bộ", 6]


def test_centre_set_parent_refuses_loops_and_can_clear(cli):
    for code, name in (("QT", "Trung tâm tỉnh"), ("XA", "Xã A"), ("XB", "Xã B")):
        assert cli("centre", "add", code, name)[0] == 0
    assert cli("centre", "set", "XA", "--parent", "QT")[0] == 0
    assert cli("centre", "set", "XB", "--parent", "xa")[0] == 0
    assert "XB               Xã B  (parent XA)" in cli("centre", "list")[1]
    for centre, parent in (("QT", "XB"), ("XA", "XA")):
        code, out, err = cli("centre", "set", centre, "--parent", parent)
        assert (code, out) == (1, "") and err.strip() == (
            f"Error: {parent} cannot be the parent of {centre}: {parent} is {centre} or under it, which would make "
            "a loop")
    code, _, err = cli("centre", "set", "XB", "--parent", "NOPE")
    assert code == 1 and "no centre with code 'NOPE'" in err
    assert cli("centre", "set", "XB", "--parent", "")[0] == 0
    assert "(parent" not in next(line for line in cli("centre", "list")[1].splitlines() if line.startswith("XB"))


async def test_an_instrument_that_is_not_sipas_gets_a_total_but_no_priorities(services, cli):
    day = dt.date(2024, 7, 1)
    await seed(services, [("HL", False, "zalo", day, (5,)), ("HL", False, "zalo", day, (2,)),
                          ("DH", False, "zalo", day, (4,))], survey="zns-rating")
    rows = (await report(services, survey="zns-rating", total=True)).rows  # no SIPAS interval: by key
    assert [(r.get("total"), r["centre"], r["n"]) for r in rows] == [(True, None, 3), (None, "DH", 1), (None, "HL", 2)]
    # Satisfied: 2 of 3 in all (5 and 4), no SIPAS, so nothing to rank criteria by.
    assert rows[0]["criteria"]["overall_1"]["satisfied_pct"] == pytest.approx(200 / 3)
    assert all(r["priority"] is None and r["drivers"] is None and r["target"] is None for r in rows)
    code, out, err = cli("report", "--survey", "zns-rating", "--min-n", "1", "--total")
    assert code == 0, err
    assert out.splitlines()[2].startswith("Toàn tỉnh ")


async def test_the_total_is_not_ranked_and_compares_with_the_base_total_only(services, tree):
    # By service: DH's two responses name no service, so their group's keys are all null, like the total's.
    rows = (await report(services, total=True, by="service", period="month", compare="previous")).rows
    august = [r for r in rows if r["period"] == "2024-08"]
    total = next(r for r in august if r.get("total"))
    no_service = next(r for r in august if not r.get("total") and r["service"] is None)
    assert total["rank"] is None and no_service["rank"] == {"rank": 1, "low": 1, "high": 1, "of": 1}
    # July's total: HL's three responses, all with service KS. August's total is compared with it, and August's
    # no-service group has no July base (July had no response without a service).
    july_total = next(r for r in rows if r.get("total") and r["period"] == "2024-07")
    assert total["change"]["period"] == "2024-07"
    assert total["change"]["sipas"]["base"] == pytest.approx(july_total["sipas"])
    assert total["change"]["sipas"]["change"] == pytest.approx(total["sipas"] - july_total["sipas"])
    assert no_service["change"] is None
