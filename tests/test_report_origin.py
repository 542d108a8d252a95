"""`sipas-bot report` separates how responses were reached (--by origin, --origin) and says how many flagged
responses it counts, or leaves them out (--exclude-flagged): real responses in a real database, the real CLI.

The data (sipas-quick, every criterion answered; the flagged ones all 1, the others all 5):

    HL  invited  telegram  3
    HL  open     web       4, 2 of them flagged
    HL  paper    paper     2
    DH  invited  zalo      2
    DH  open     web       1, flagged

HL counts 9 with the flagged ones (7 of 9 satisfied on every criterion: SIPAS 77.78) and 7 without (100); DH 3 and
2; three flagged responses in all.
"""

import csv
import datetime as dt
import io
import json
import random
import re

import pytest
from conftest import sqlite_only
from openpyxl import load_workbook
from sqlalchemy import select
from test_backends import _seed_the_same, needs_postgres, reports_on_both_backends
from test_report import QUICK, invite

from bot.reports.dataset import load_arrays
from bot.storage.models import Centre, ImportBatch, Service
from bot.storage.responses import build_response
from bot.survey import directory

DAY = dt.date(2024, 7, 10)
GOOD, BAD = (5, 5, 5, 5, 5), (1, 1, 1, 1, 1)
# centre, origin, channel, flagged, ratings
ROWS = [
    *[("HL", "invited", "telegram", False, GOOD)] * 3,
    *[("HL", "open", "web", False, GOOD)] * 2, *[("HL", "open", "web", True, BAD)] * 2,
    *[("HL", "paper", "paper", False, GOOD)] * 2,
    *[("DH", "invited", "zalo", False, GOOD)] * 2,
    ("DH", "open", "web", True, BAD),
]


async def seed(services, rows=ROWS, day=DAY):
    """The centres, one import batch for the paper rows, and the responses as each channel stores them."""
    instrument = services.instrument(QUICK)
    codes = list(instrument.criteria())
    async with services.db.transaction() as session:
        centres = {"HL": await directory.add_centre(session, "HL", "Trung tâm Phục vụ hành chính công Hải Lăng"),
                   "DH": await directory.add_centre(session, "DH", "Trung tâm Phục vụ hành chính công Đông Hà")}
        batch = ImportBatch(content_hash="0" * 64, filename="phieu.csv", instrument=QUICK, rows=2)
        session.add(batch)
        await session.flush()
        session.add_all([
            build_response(instrument, dict(zip(codes, values, strict=True)), centre_id=centres[centre].id,
                           service_id=None, channel=channel, submitted_on=day,
                           import_batch_id=batch.id if origin == "paper" else None, open_survey=origin == "open",
                           flagged=flagged)
            for centre, origin, channel, flagged, values in rows])
    return centres


@pytest.fixture
async def centres(services):
    return await seed(services)


def report_json(cli, *options):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "json", *options)
    assert code == 0, err
    return json.loads(out), err


def cells_of(out: str, start: str) -> list[str]:
    """The cells of the table line that starts so (columns are two or more spaces apart)."""
    return re.split(r"\s{2,}", next(line for line in out.splitlines() if line.startswith(start)))


async def test_exclude_flagged_takes_exactly_the_flagged_responses_out(centres, cli):
    counted, err = report_json(cli)
    assert (counted["exclude_flagged"], counted["flagged"]) == (False, {"included": 3, "excluded": 0})
    assert err == ("Note: these figures count 3 flagged responses (sent in a burst from one client address, "
                   "possibly ballot stuffing), see the column 'Phiếu gắn cờ' (flagged); --exclude-flagged leaves "
                   "them out.\n")
    assert [(r["centre"], r["n"], r["flagged"]) for r in counted["rows"]] == [("HL", 9, 2), ("DH", 3, 1)]
    hl = counted["rows"][0]
    assert hl["sipas"] == pytest.approx(700 / 9) and hl["criteria"]["access_1"]["n"] == 9

    left_out, err = report_json(cli, "--exclude-flagged")
    assert (left_out["exclude_flagged"], left_out["flagged"]) == (True, {"included": 0, "excluded": 3})
    assert err == "3 flagged responses (sent in a burst from one client address) are left out of every figure " \
                  "(--exclude-flagged).\n"
    # Both at 100: the interval of every answer 4-5 is n / (n + t(0.975, n - 1)^2) .. 100, so n ranks them:
    # HL 7 / (7 + 2.4469^2) = 53.90, DH 2 / (2 + 12.706^2) = 1.22.
    assert [(r["centre"], r["n"], r["flagged"]) for r in left_out["rows"]] == [("HL", 7, 0), ("DH", 2, 0)]
    hl, dh = left_out["rows"]
    assert hl["sipas"] == 100.0 and hl["sipas_ci"] == pytest.approx([53.90, 100.0], abs=0.01) and dh["sipas"] == 100.0
    assert hl["criteria"]["access_1"]["n"] == 7 and hl["no_dissatisfied_pct"] == 100.0
    with_flagged = {r["centre"]: (r["n"], r["flagged"]) for r in counted["rows"]}
    assert {r["centre"]: r["n"] for r in left_out["rows"]} == {c: n - f for c, (n, f) in with_flagged.items()}


async def test_the_table_shows_the_flagged_column_and_the_note(centres, cli_process):
    code, out, err = cli_process("report", "--survey", QUICK, "--min-n", "1")
    assert code == 0, err
    header = out.splitlines()[0]
    assert header.index("Số phiếu") < header.index("Phiếu gắn cờ") < header.index("SIPAS")
    assert cells_of(out, "HL ")[1:5] == ["toàn bộ", "9", "2", "77,78 (38,17–95,20)"]  # n, flagged, SIPAS
    assert out.rstrip("\n").splitlines()[-1].startswith("Note: these figures count 3 flagged responses")

    code, out, err = cli_process("report", "--survey", QUICK, "--min-n", "1", "--exclude-flagged",
                                 env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert code == 0, err
    assert "Phiếu gắn cờ" not in out.splitlines()[0]
    assert cells_of(out, "HL ")[1:4] == ["toàn bộ", "7", "100,00 (53,90–100,00)"]
    assert out.rstrip("\n").splitlines()[-1] == ("Đã loại 3 phiếu bị gắn cờ (gửi dồn dập từ cùng một địa chỉ) khỏi "
                                                 "mọi số liệu (--exclude-flagged).")


async def test_no_flagged_responses_no_note_and_no_column(services, cli):
    await seed(services, [row for row in ROWS if not row[3]])
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1")
    assert code == 0 and err == ""
    assert "Phiếu gắn cờ" not in out and "flagged" not in out
    data, err = report_json(cli, "--exclude-flagged")
    assert err == "" and data["flagged"] == {"included": 0, "excluded": 0}


async def test_by_origin_shows_the_n_of_each_origin(centres, cli):
    data, _ = report_json(cli, "--by", "centre,origin")
    assert data["by"] == ["centre", "origin"]
    assert sorted((r["centre"], r["origin"], r["n"], r["flagged"]) for r in data["rows"]) == [
        ("DH", "invited", 2, 0), ("DH", "open", 1, 1),
        ("HL", "invited", 3, 0), ("HL", "open", 4, 2), ("HL", "paper", 2, 0)]
    left_out, _ = report_json(cli, "--by", "origin", "--exclude-flagged")
    assert [(r["origin"], r["n"]) for r in left_out["rows"]] == [("invited", 5), ("open", 2), ("paper", 2)]


async def test_participation_goes_to_the_invited_rows_only(services, centres, cli):
    for stages in ("osc", "osc", "o", ""):  # four HL invitations, two completed
        await invite(services, centres["HL"], None, dt.datetime(2024, 7, 9, 3, tzinfo=dt.UTC), stages)
    data, _ = report_json(cli, "--by", "centre,origin")
    participation = {(r["centre"], r["origin"]): r["participation"] for r in data["rows"]}
    assert participation.pop(("HL", "invited")) == {"issued": 4, "opened": 3, "started": 2, "completed": 2,
                                                    "response_rate": 50.0}
    assert set(participation.values()) == {None}  # open surveys and paper forms have no invitation
    assert report_json(cli, "--origin", "open,paper")[0]["rows"][0]["participation"] is None
    invited, _ = report_json(cli, "--origin", "invited")
    assert {r["centre"]: r["participation"] and r["participation"]["issued"] for r in invited["rows"]} == {
        "HL": 4, "DH": None}


async def test_origin_filter(centres, cli):
    data, _ = report_json(cli, "--origin", "open")
    assert data["origin"] == ["open"]
    assert [(r["centre"], r["n"], r["flagged"]) for r in data["rows"]] == [("HL", 4, 2), ("DH", 1, 1)]
    data, err = report_json(cli, "--origin", " Paper, invited ", "--exclude-flagged")
    assert data["origin"] == ["invited", "paper"] and data["flagged"] == {"included": 0, "excluded": 0}
    # Both all 4-5: the larger n has the higher lower bound (5 / (5 + 2.7764^2) = 39.3 against 1.2).
    assert [(r["centre"], r["n"]) for r in data["rows"]] == [("HL", 5), ("DH", 2)] and err == ""
    data, err = report_json(cli, "--origin", "paper", "--by", "origin")
    assert [(r["origin"], r["n"]) for r in data["rows"]] == [("paper", 2)]
    code, out, err = cli("report", "--survey", QUICK, "--origin", "open", "--exclude-flagged", "--min-n", "1")
    assert code == 0 and err == ""
    assert cells_of(out, "HL ")[2] == "2"
    assert not any(line.startswith("DH ") for line in out.splitlines())  # DH's one open response was flagged
    assert out.rstrip("\n").splitlines()[-1].startswith("3 flagged responses (sent in a burst")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--origin", "foo"], "Error: --origin takes a comma-separated list of invited (with an invitation), open (an "
                          "open survey at a counter, no invitation), paper (imported paper forms); 'foo' is not one "
                          "of them\n"),
    (["--origin", "open,web"], "'web' is not one of them\n"),
    (["--origin", " , "], "' , ' is not one of them\n"),
    (["--by", "centre,source"], "Error: --by takes a comma-separated list of centre, service, channel, origin, parent; "
                                "'source' is not one of them\n"),
])
def test_bad_origin_is_one_line_and_exit_1(cli, arguments, message):
    code, out, err = cli("report", *arguments)
    assert (code, out) == (1, "") and err.endswith(message) and err.count("\n") == 1


def test_bad_origin_in_vietnamese_in_a_real_process(cli_process):
    code, out, err = cli_process("report", "--origin", "foo", env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert (code, out) == (1, "")
    assert err == ("Lỗi: --origin nhận danh sách cách nhau bằng dấu phẩy gồm invited (theo lời mời), open (khảo sát "
                   "mở tại quầy, không có lời mời), paper (phiếu giấy đã nhập); 'foo' không thuộc danh sách đó\n")


async def test_csv_and_xlsx_carry_origin_and_flagged(centres, cli, tmp_path):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--by", "origin", "--format", "csv")
    assert code == 0 and "3 flagged responses" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    # Lower bounds: invited 5 all 4-5 (39.3), open 2 of 5 (6.3), paper 2 all 4-5 (1.2).
    assert [(r["origin"], r["n"], r["flagged"]) for r in rows] == [("invited", "5", "0"), ("open", "5", "3"),
                                                                     ("paper", "2", "0")]
    target = tmp_path / "r.xlsx"
    code, _, err = cli("report", "--survey", QUICK, "--min-n", "1", "--by", "centre,origin", "--format", "xlsx",
                       "-o", str(target))
    assert code == 0 and "3 flagged responses" in err
    sheet = [[cell.value for cell in row] for row in load_workbook(target)["Tổng hợp"].iter_rows()]
    assert sheet[0][:5] == ["Trung tâm", "Tên trung tâm", "Nguồn phiếu", "Kỳ", "Số phiếu"]
    flagged = sheet[0].index("Phiếu gắn cờ")  # after the summary's measures (other columns may follow)
    found = {(row[0], row[2]): (row[4], row[flagged]) for row in sheet[1:]}
    assert found == {("HL", "Theo lời mời"): (3, 0), ("HL", "Khảo sát mở"): (4, 2), ("HL", "Phiếu giấy"): (2, 0),
                     ("DH", "Theo lời mời"): (2, 0), ("DH", "Khảo sát mở"): (1, 1)}
    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--by", "origin")
    groups = [line for line in out.splitlines()[2:] if line and not line.startswith(" ")][:3]  # not the priorities
    assert {line.split("  ")[0] for line in groups} == {"Theo lời mời", "Khảo sát mở", "Phiếu giấy"}


@sqlite_only
async def test_fast_and_portable_reads_agree_on_origin_and_flag(services, centres):
    instrument = services.instrument(QUICK)
    async with services.db.reading() as session:
        fast = await load_arrays(session, instrument, driver_sql=True, service=False, channel=False)
        portable = await load_arrays(session, instrument, driver_sql=False, service=False, channel=False)

    def table(arrays):
        return sorted(zip(arrays.centre_id.tolist(), arrays.origin.tolist(), arrays.flagged.tolist(),
                          map(bytes, arrays.codes), strict=True))

    assert table(fast) == table(portable)
    assert sorted((o, f) for _, o, f, _ in table(fast)) == sorted(
        ({"invited": 0, "open": 1, "paper": 2}[origin], flagged) for _, origin, _, flagged, _ in ROWS)


async def _seed_with_origins(services, seed: int = 11) -> None:
    """test_backends' data, and as many again of open-survey, paper and flagged responses, the same every time."""
    await _seed_the_same(services)
    chance = random.Random(seed)
    instrument = services.instrument(QUICK)
    criteria = list(instrument.criteria())
    async with services.db.transaction() as session:
        centres = (await session.execute(select(Centre.id).order_by(Centre.code))).scalars().all()
        kinds = [*(await session.execute(select(Service.id).order_by(Service.code))).scalars().all(), None]
        batch = ImportBatch(content_hash="1" * 64, filename="phieu.xlsx", instrument=QUICK, rows=0)
        session.add(batch)
        await session.flush()
        rows = []
        for _ in range(400):
            origin = chance.choice(["open", "open", "paper"])
            rows.append(build_response(
                instrument, {c: chance.choice([1, 2, 3, 4, 5, 5, "NA"]) for c in criteria if chance.random() < 0.9},
                centre_id=chance.choice(centres), service_id=chance.choice(kinds),
                channel="web" if origin == "open" else "paper",
                submitted_on=dt.date(2025, 1, 1) + dt.timedelta(days=chance.randrange(200)),
                import_batch_id=batch.id if origin == "paper" else None, open_survey=origin == "open",
                flagged=origin == "open" and chance.random() < 0.3))
        session.add_all(rows)


ORIGIN_REQUESTS = [dict(by="origin"), dict(by="centre,origin", period="month", exclude_flagged=True),
                   dict(by="centre,service", origin="open,paper", period="quarter"),
                   dict(by="channel,origin", exclude_flagged=True, min_n=1),
                   dict(by="centre", origin="invited", date_from="2025-03-01")]


@needs_postgres
@pytest.mark.parametrize("options", ORIGIN_REQUESTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
async def test_origin_and_flag_reports_are_identical_on_sqlite_and_postgresql(tmp_path, options):
    reports = await reports_on_both_backends(tmp_path, _seed_with_origins, options)
    data = json.loads(reports[0])
    assert data["rows"] and reports[0] == reports[1]
    assert (data["flagged"]["excluded"] > 0) == bool(options.get("exclude_flagged")) and \
        (data["flagged"]["included"] > 0) == (not options.get("exclude_flagged") and options.get("origin") != "invited")
