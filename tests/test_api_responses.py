"""`GET /api/v1/responses.csv` on a real server and SQLite file: byte for byte the file `sipas-bot export responses`
writes (its output is the reference) with the same filters, streamed in parts; admin keys only; bad parameters are
400 JSON in the admin language."""

import csv
import io

import pytest
from aiohttp import ClientPayloadError
from sqlalchemy import select, update
from test_export import BOM, FORMULA, SURVEY, seed_responses

from bot.http.api import responses
from bot.storage.models import Response

PATH = "/api/v1/responses.csv"


@pytest.fixture
async def keys(services, cli):
    """45 responses (two flagged), and a key of each kind (a revoked one too), made through the CLI."""
    await seed_responses(services)
    async with services.db.transaction() as session:
        two = (await session.scalars(select(Response.id).order_by(Response.submitted_on).limit(2))).all()
        await session.execute(update(Response).where(Response.id.in_(two)).values(flagged=True))

    def new(*args: str) -> str:
        code, out, err = cli("apikey", "create", *args)
        assert code == 0, err
        return out.strip()

    made = {"admin": new("--role", "admin"), "staff": new("--role", "staff", "--centre", "HUE01"),
            "viewer": new("--role", "viewer", "--centre", "HUE01"), "revoked": new("--role", "admin")}
    assert cli("apikey", "revoke", "4")[0] == 0
    return made


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def cli_export(cli, tmp_path, *options: str) -> bytes:
    code, _, err = cli("export", "responses", "-o", "cli.csv", *options)
    assert code == 0, err
    return (tmp_path / "cli.csv").read_bytes()


@pytest.mark.parametrize(("query", "options"), [
    ({}, ()),
    ({"survey": SURVEY, "from": "2024-05-01", "to": "2024-06-30"}, ("--survey", SURVEY, "--from", "2024-05-01",
                                                                    "--to", "2024-06-30")),
    ({"exclude_flagged": "true"}, ("--exclude-flagged",)),
    ({"from": "2030-01-01"}, ("--from", "2030-01-01")),  # no response: the header alone
])
async def test_admin_gets_the_cli_export_byte_for_byte(keys, client, cli, tmp_path, query, options):
    answer = await client.get(PATH, params=query, headers=bearer(keys["admin"]))
    assert answer.status == 200 and answer.content_type == "text/csv" and answer.charset == "utf-8"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="responses-{SURVEY}.csv"'
    body = await answer.read()
    assert body == cli_export(cli, tmp_path, *options)
    assert body.startswith(BOM)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    expected = {(): 45, ("--exclude-flagged",): 43, ("--from", "2030-01-01"): 0}.get(options)
    if expected is not None:
        assert len(rows) == 1 + expected
    assert rows[0][:3] == ["centre", "service", "submitted_on"] and rows[0][-2:] == ["open_survey", "flagged"]


async def test_streamed_in_many_parts_it_is_still_the_same_file(keys, client, cli, tmp_path, monkeypatch):
    monkeypatch.setattr(responses, "ROWS_PER_PART", 4)  # 45 rows: 12 parts, each read and sent on its own
    for query, options in (({}, ()), ({"exclude_flagged": "1"}, ("--exclude-flagged",))):
        answer = await client.get(PATH, params=query, headers=bearer(keys["admin"]))
        assert answer.status == 200
        assert answer.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in answer.headers
        assert await answer.read() == cli_export(cli, tmp_path, *options)


async def test_the_comments_keep_their_formula_guard(keys, client):
    body = await (await client.get(PATH, headers=bearer(keys["admin"]))).read()
    comments = {row[-3] for row in list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]}
    assert "'" + FORMULA in comments and "'+1 tốt" in comments and FORMULA not in comments


@pytest.mark.parametrize(("who", "status", "code"), [
    ("staff", 403, "forbidden"), ("viewer", 403, "forbidden"), ("revoked", 401, "unauthorized"),
    (None, 401, "unauthorized")])
async def test_only_an_admin_key_gets_the_responses(keys, client, who, status, code):
    answer = await client.get(PATH, headers=bearer(keys[who]) if who else {})
    assert answer.status == status and answer.content_type == "application/json"
    body = await answer.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "HUE01" not in await answer.text()


@pytest.mark.parametrize(("query", "message"), [
    ({"centre": "HUE01"}, "tham số không được nhận: centre; các tham số được nhận: survey, from, to, exclude_flagged"),
    ({"from": "01/05/2024"}, "from phải là một ngày viết theo dạng YYYY-MM-DD, không phải '01/05/2024'"),
    ({"to": "2024-02-30"}, "to phải là một ngày viết theo dạng YYYY-MM-DD, không phải '2024-02-30'"),
    ({"from": "2024-06-01", "to": "2024-05-01"}, "ngày from 2024-06-01 sau ngày to 2024-05-01"),
    ({"exclude_flagged": "maybe"}, "exclude_flagged phải là true hoặc false, không phải 'maybe'"),
    ({"survey": "nope"}, "không có khảo sát 'nope'; các khảo sát hiện có: "),
])
async def test_bad_parameters_are_400_json_in_the_admin_language(keys, client, query, message):
    answer = await client.get(PATH, params=query, headers=bearer(keys["admin"]))
    assert answer.status == 400 and answer.content_type == "application/json"
    body = await answer.json()
    assert body["error"]["code"] == "bad_request" and body["error"]["message"].startswith(message)


async def test_a_parameter_given_twice_is_400(keys, client):
    answer = await client.get(f"{PATH}?from=2024-05-01&from=2024-06-01", headers=bearer(keys["admin"]))
    assert answer.status == 400 and "from" in (await answer.json())["error"]["message"]


def test_the_openapi_path_item_describes_the_route():
    item = responses.PATHS[PATH]["get"]
    assert {p["name"] for p in item["parameters"]} == set(responses.PARAMETERS)
    assert all(p["in"] == "query" and not p["required"] for p in item["parameters"])
    assert set(item["responses"]) == {"200", "400", "401", "403"}
    assert "text/csv" in item["responses"]["200"]["content"]
    assert [route.path for route in responses.ROUTES] == list(responses.PATHS)


async def test_a_failure_while_streaming_cuts_the_download_instead_of_ending_it(keys, client, services, monkeypatch):
    # The last response's packed ratings damaged: its part fails after the first parts have left.
    async with services.db.transaction() as session:
        last = (await session.scalars(select(Response.id).order_by(Response.submitted_on.desc()).limit(1))).one()
        await session.execute(update(Response).where(Response.id == last).values(ratings=b"\x01"))
    monkeypatch.setattr(responses, "ROWS_PER_PART", 4)
    answer = await client.get(PATH, headers=bearer(keys["admin"]))
    assert answer.status == 200  # the headers had left
    with pytest.raises(ClientPayloadError):  # an unfinished download, never a short file that looks complete
        await answer.read()
