"""`sipas-bot apikey create|list|revoke` and the Bearer check of `/api/v1`, on a real SQLite file and a real server."""

import hashlib

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from test_report import seed

from bot.http.app import create_app
from bot.storage.models import ApiKey

REPORT = "/api/v1/reports/sipas?survey=sipas-quick&min_n=1"


@pytest.fixture
async def hand(services):
    return await seed(services)


def new_key(cli, *args: str) -> str:
    code, out, err = cli("apikey", "create", *args)
    assert code == 0, err
    return out.strip()


async def test_create_prints_the_key_once_and_stores_only_its_hash(services, hand, cli):
    code, out, err = cli("apikey", "create", "--role", "staff", "--centre", "hl", "--name", "Một cửa Hải Lăng")
    assert code == 0, err
    key = out.strip()
    assert key.startswith("sk_") and len(key) == 3 + 43  # token_urlsafe(32): 32 bytes in 43 base64 characters
    assert "created API key 1 (staff, HL)" in err and "shown this once" in err
    async with services.db.reading() as session:
        [row] = (await session.scalars(select(ApiKey))).all()
    assert row.key_hash == hashlib.sha256(key.encode()).digest() and row.prefix == key[:9]
    assert key not in repr(vars(row))  # the secret itself is nowhere in the row
    assert new_key(cli, "--role", "admin") != key  # random: a second key is another


async def test_list_shows_keys_without_the_secret(services, hand, cli):
    staff = new_key(cli, "--role", "viewer", "--centre", "DH", "--name", "Lãnh đạo Đông Hà")
    admin = new_key(cli, "--role", "admin")
    code, out, err = cli("apikey", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "id  name  role  centre  prefix  created  revoked"
    assert lines[1].split("  ")[:5] == ["1", "Lãnh đạo Đông Hà", "viewer", "DH", f"{staff[:9]}…"]
    assert lines[2].split("  ")[:5] == ["2", "-", "admin", "-", f"{admin[:9]}…"] and lines[2].endswith("  -")
    assert staff not in out and admin not in out


async def test_list_when_there_is_none(services, cli):
    assert cli("apikey", "list")[1].strip() == "no API keys yet; create one with `sipas-bot apikey create --role admin`"


async def test_revoked_key_is_refused_with_401(services, hand, settings, cli):
    key = new_key(cli, "--role", "admin")
    async with TestClient(TestServer(create_app(settings))) as client:
        assert (await client.get(REPORT, headers={"Authorization": f"Bearer {key}"})).status == 200
        code, out, err = cli("apikey", "revoke", "1")
        assert (code, out.strip()) == (0, f"revoked API key 1 ({key[:9]}…)"), err
        answer = await client.get(REPORT, headers={"Authorization": f"Bearer {key}"})
        assert answer.status == 401
        assert await answer.json() == {"error": {"code": "unauthorized",
                                                 "message": "khóa API sai hoặc đã bị thu hồi"}}
    listed = cli("apikey", "list")[1].splitlines()[1]
    assert not listed.endswith("  -")  # the revocation time is shown


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "thiếu khóa API: gửi tiêu đề 'Authorization: Bearer <khóa>'"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "thiếu khóa API: gửi tiêu đề 'Authorization: Bearer <khóa>'"),
    ({"Authorization": "Bearer sk_not-a-key-of-ours"}, "khóa API sai hoặc đã bị thu hồi"),
])
async def test_missing_or_wrong_key_is_401_json(services, hand, settings, cli, headers, message):
    new_key(cli, "--role", "admin")
    async with TestClient(TestServer(create_app(settings))) as client:
        answer = await client.get(REPORT, headers=headers)
        assert answer.status == 401 and await answer.json() == {"error": {"code": "unauthorized", "message": message}}


@pytest.mark.parametrize(("args", "message"), [
    (("--role", "boss"), "Error: --role must be one of admin, staff, viewer, head, not 'boss'"),
    (("--role", "staff"), "Error: a staff key sees one centre only: give --centre CODE"),
    (("--role", "viewer"), "Error: a viewer key sees one centre only: give --centre CODE"),
    (("--role", "admin", "--centre", "HL"), "Error: an admin key sees every centre and takes no --centre; "
                                            "leave --centre out"),
    (("--role", "staff", "--centre", "XX"), "Error: no centre with code 'XX'; see `sipas-bot centre list`"),
])
async def test_bad_create_is_one_line_and_exit_1(services, hand, cli, args, message):
    code, out, err = cli("apikey", "create", *args)
    assert (code, out, err.strip()) == (1, "", message)
    assert cli("apikey", "list")[1].startswith("no API keys yet")  # nothing was stored


async def test_bad_create_in_vietnamese(services, hand, cli):
    code, _, err = cli("apikey", "create", "--role", "staff", env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert (code, err.strip()) == (1, "Lỗi: khóa staff chỉ xem được một trung tâm: hãy cho --centre MÃ")


async def test_revoke_an_unknown_id(services, cli):
    code, _, err = cli("apikey", "revoke", "7")
    assert (code, err.strip()) == (1, "Error: no API key with id 7; see `sipas-bot apikey list`")


async def test_other_routes_keep_their_error_shape(services, settings):
    async with TestClient(TestServer(create_app(settings))) as client:
        answer = await client.get("/api/instruments/nope")
        assert (answer.status, await answer.json()) == (404, {"error": "unknown instrument", "status": 404})
        answer = await client.get("/api/v1/nothing-here")
        assert (answer.status, await answer.json()) == (404, {"error": {"code": "not_found",
                                                                        "message": "không có địa chỉ API này"}})
