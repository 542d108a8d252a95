"""`GET /api/v1/reports/sipas[.csv|.xlsx]` on a real server and SQLite file: the same figures as `sipas-bot report`
(its output is the reference), and what each kind of key may see."""

import datetime as dt
import io
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import select
from test_report import QUICK, seed

from bot.http.app import create_app
from bot.reports.xlsx import SHEETS
from bot.storage.models import Centre
from bot.storage.responses import build_response

MONTHLY = {"survey": QUICK, "min_n": "1", "period": "month", "total": "true"}
CLI_MONTHLY = ("report", "--survey", QUICK, "--min-n", "1", "--period", "month", "--total")
CENTRE = {**MONTHLY, "min_n": "30"}  # a centre's key may not go below the default (test_..._may_not_lower_min_n)


@pytest.fixture
async def keys(services, cli):
    """The seeded data, and a key of each kind (a revoked one too), made through the CLI."""
    await seed(services)

    def new(*args: str) -> str:
        code, out, err = cli("apikey", "create", *args)
        assert code == 0, err
        return out.strip()

    made = {"admin": new("--role", "admin"), "staff_hl": new("--role", "staff", "--centre", "HL"),
            "staff_dh": new("--role", "staff", "--centre", "DH"),
            "viewer_hl": new("--role", "viewer", "--centre", "HL"),
            "revoked": new("--role", "admin")}
    assert cli("apikey", "revoke", "5")[0] == 0
    return made


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def cli_json(cli, *args: str) -> dict:
    code, out, err = cli(*CLI_MONTHLY, "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


async def test_admin_gets_exactly_the_cli_json(keys, client, cli):
    answer = await client.get("/api/v1/reports/sipas", params=MONTHLY, headers=bearer(keys["admin"]))
    assert answer.status == 200 and answer.content_type == "application/json" and answer.charset == "utf-8"
    body = await answer.json()
    expected = cli_json(cli)
    assert body == expected
    # HL in July and DH in August, each month with its province total row: 2 + 2 rows
    assert [(r["centre"], r["period"], bool(r.get("total"))) for r in body["rows"]] == [
        (None, "2024-07", True), ("HL", "2024-07", False), (None, "2024-08", True), ("DH", "2024-08", False)]


@pytest.mark.parametrize(("who", "centre"), [("staff_hl", "HL"), ("viewer_hl", "HL"), ("staff_dh", "DH")])
async def test_a_centre_key_sees_its_centre_only(keys, client, cli, who, centre):
    answer = await client.get("/api/v1/reports/sipas", params=CENTRE, headers=bearer(keys[who]))
    assert answer.status == 200
    body = await answer.json()
    expected = cli_json(cli, "--min-n", "30")
    own = [row for row in expected["rows"] if row["centre"] == centre and not row.get("total")]
    assert len(own) == 1 and body["rows"] == own  # the CLI's row of that centre, figure for figure; no total row
    assert {k: v for k, v in body.items() if k != "rows"} == {k: v for k, v in expected.items() if k != "rows"}


async def test_staff_of_another_centre_sees_none_of_hl(keys, client):
    body = await (await client.get("/api/v1/reports/sipas", params={**CENTRE, "by": "centre,service"},
                                   headers=bearer(keys["staff_dh"]))).json()
    assert body["rows"] and {row["centre"] for row in body["rows"]} == {"DH"}
    assert "Hải Lăng" not in json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("who", ["staff_hl", "viewer_hl"])
async def test_a_centre_key_may_not_ask_for_a_report_without_centres(keys, client, who):
    answer = await client.get("/api/v1/reports/sipas", params={**MONTHLY, "by": "channel"}, headers=bearer(keys[who]))
    assert answer.status == 403
    assert await answer.json() == {"error": {"code": "forbidden", "message": (
        "khóa này chỉ xem được trung tâm HL: báo cáo phải nhóm theo trung tâm (by có 'centre')")}}


async def test_admin_may_group_by_anything(keys, client, cli):
    answer = await client.get("/api/v1/reports/sipas", params={**MONTHLY, "by": "channel"},
                              headers=bearer(keys["admin"]))
    assert answer.status == 200 and await answer.json() == cli_json(cli, "--by", "channel")


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "thiếu khóa API: gửi tiêu đề 'Authorization: Bearer <khóa>'"),
    ({"Authorization": "Bearer sk_wrong"}, "khóa API sai hoặc đã bị thu hồi"),
    ("revoked", "khóa API sai hoặc đã bị thu hồi"),
])
@pytest.mark.parametrize("path", ["/api/v1/reports/sipas", "/api/v1/reports/sipas.csv", "/api/v1/reports/sipas.xlsx"])
async def test_no_wrong_or_revoked_key_is_401(keys, client, headers, message, path):
    headers = bearer(keys["revoked"]) if headers == "revoked" else headers
    answer = await client.get(path, params=MONTHLY, headers=headers)
    assert answer.status == 401
    assert await answer.json() == {"error": {"code": "unauthorized", "message": message}}


async def test_csv_is_the_cli_csv(keys, client, cli, tmp_path):
    answer = await client.get("/api/v1/reports/sipas.csv", params=MONTHLY, headers=bearer(keys["admin"]))
    assert answer.status == 200 and answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="sipas-sipas-quick-month.csv"'
    target = tmp_path / "cli.csv"
    code, _, err = cli(*CLI_MONTHLY, "--format", "csv", "-o", str(target))
    assert code == 0, err
    served = await answer.read()
    assert served.startswith(b"\xef\xbb\xbf") and served == target.read_bytes()  # BOM and all, byte for byte


async def test_staff_csv_has_its_centre_only(keys, client, cli):
    answer = await client.get("/api/v1/reports/sipas.csv", params=CENTRE, headers=bearer(keys["staff_hl"]))
    text = (await answer.read()).decode("utf-8-sig")
    header, *rows = text.splitlines()
    cli_lines = cli(*CLI_MONTHLY, "--min-n", "30", "--format", "csv")[1].splitlines()
    assert header == cli_lines[0] and rows == [line for line in cli_lines[1:] if line.startswith("HL,")]
    assert len(rows) == 1


def sheets(data: bytes) -> dict[str, list[tuple]]:
    workbook = load_workbook(io.BytesIO(data))
    return {sheet.title: [row for row in sheet.iter_rows(values_only=True)] for sheet in workbook}


async def test_xlsx_is_the_cli_workbook(keys, client, cli, tmp_path):
    answer = await client.get("/api/v1/reports/sipas.xlsx", params=MONTHLY, headers=bearer(keys["admin"]))
    assert answer.status == 200
    assert answer.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="sipas-sipas-quick-month.xlsx"'
    served = sheets(await answer.read())
    target = tmp_path / "cli.xlsx"
    code, _, err = cli(*CLI_MONTHLY, "--format", "xlsx", "-o", str(target))
    assert code == 0, err
    assert tuple(served) == SHEETS and served == sheets(target.read_bytes())


async def test_a_workbook_asked_again_is_the_same_until_a_response_changes_it(keys, services, client):
    # The server keeps the workbook of an unchanged report (bot.http.api.reports._WORKBOOKS): never a stale one.
    async def hl_july() -> tuple[bytes, int]:
        answer = await client.get("/api/v1/reports/sipas.xlsx", params=MONTHLY, headers=bearer(keys["admin"]))
        data = await answer.read()
        header, *rows = sheets(data)[SHEETS[0]]
        return data, next(row[header.index("Số phiếu")] for row in rows if row[0] == "HL")
    first, n = await hl_july()
    again, same_n = await hl_july()
    assert again == first and same_n == n
    async with services.db.transaction() as session:
        hl = (await session.execute(select(Centre).where(Centre.code == "HL"))).scalar_one()
        session.add(build_response(services.instrument(QUICK), {"access_1": 5}, centre_id=hl.id, service_id=None,
                                   channel="web", submitted_on=dt.date(2024, 7, 10)))
    changed, more = await hl_july()
    assert changed != first and more == n + 1


async def test_staff_xlsx_names_no_other_centre(keys, client):
    answer = await client.get("/api/v1/reports/sipas.xlsx", params=CENTRE, headers=bearer(keys["staff_hl"]))
    cells = [cell for rows in sheets(await answer.read()).values() for row in rows for cell in row]
    assert "HL" in cells and "DH" not in cells and not any("Đông Hà" in str(cell) for cell in cells)


@pytest.mark.parametrize(("query", "message"), [
    ({"period": "decade"}, "--period phải là một trong week, month, quarter, year, all, không phải 'decade'"),
    ({"min_n": "0"}, "--min-n phải từ 1 trở lên, không phải 0"),
    ({"min_n": "many"}, "min_n phải là một số nguyên, không phải 'many'"),
    ({"total": "maybe"}, "total phải là true hoặc false, không phải 'maybe'"),
    ({"colour": "red"}, "tham số không được nhận: colour; các tham số được nhận: survey, from, to, period, by, "
                        "origin, compare, weight, min_n, window, exclude_flagged, total"),
])
async def test_bad_query_is_400_json_in_the_admin_language(keys, client, query, message):
    answer = await client.get("/api/v1/reports/sipas", params={"survey": QUICK, **query},
                              headers=bearer(keys["admin"]))
    assert answer.status == 400
    assert await answer.json() == {"error": {"code": "bad_request", "message": message}}


async def test_bad_query_in_english_when_the_admin_language_is(keys, settings):
    english = settings.model_copy(update={"admin_language": "en"})
    async with TestClient(TestServer(create_app(english))) as client:
        answer = await client.get("/api/v1/reports/sipas.csv", params={"period": "decade"},
                                  headers=bearer(keys["admin"]))
        assert answer.status == 400
        assert (await answer.json())["error"]["message"] == (
            "--period must be one of week, month, quarter, year, all, not 'decade'")


@pytest.mark.parametrize("who", ["staff_hl", "viewer_hl"])
async def test_a_centre_key_may_not_lower_min_n(keys, client, who):
    answer = await client.get("/api/v1/reports/sipas", params=MONTHLY, headers=bearer(keys[who]))  # min_n 1
    assert answer.status == 403 and "khóa của trung tâm" in await answer.text()  # UTF-8 letters, no \u escapes
    assert await answer.json() == {"error": {"code": "forbidden", "message": (
        "khóa của trung tâm không được đặt min_n dưới 30 (đã cho 1): nhóm quá ít phiếu có thể làm lộ câu trả lời "
        "của từng người dân")}}


async def test_a_centre_key_gets_its_published_figures(keys, services, client, cli):
    # 30 more forms for HL in July: its row is published at min_n 30, and the key gets it figure for figure.
    instrument = services.instrument(QUICK)
    async with services.db.transaction() as session:
        hl = (await session.execute(select(Centre).where(Centre.code == "HL"))).scalar_one()
        session.add_all([build_response(instrument, dict.fromkeys(instrument.criteria(), 4), centre_id=hl.id,
                                        service_id=None, channel="web", submitted_on=dt.date(2024, 7, 9))
                         for _ in range(30)])
    body = await (await client.get("/api/v1/reports/sipas", params=CENTRE, headers=bearer(keys["staff_hl"]))).json()
    [row] = body["rows"]
    assert row["n"] == 33 and row["sipas"] is not None
    expected = cli_json(cli, "--min-n", "30")
    assert row == next(r for r in expected["rows"] if r["centre"] == "HL" and not r.get("total"))
