"""`POST /api/v1/invitations` and `GET /api/v1/invitations/{id}/qr.png` on a real server and SQLite file: what each
kind of key may do, the bodies refused, one invitation per dossier, ZNS to a phone, and a QR code that decodes to
a link a citizen can open."""

import asyncio
import datetime as dt
import io
import json

import pytest
import zxingcpp
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from sqlalchemy import func, select
from test_openapi import conforms
from web_browser import Browser

from bot.http.app import create_app
from bot.storage.models import Invitation, OutboxMessage
from bot.survey import api_keys, directory
from bot.survey.invitations import find

URL = "https://khaosat.example.vn"
BOT = "sipas_test_bot"
ISSUE = "/api/v1/invitations"
HL = "Trung tâm Phục vụ hành chính công Hải Lăng"
ROLES = ["admin", "staff_hl", "staff_dh", "viewer_hl", "none", "revoked"]


@pytest.fixture
def linked(settings):
    return settings.model_copy(update={"public_url": URL, "telegram_bot_username": BOT})


async def make_keys(services) -> dict[str, dict]:
    """Centres HL and DH, service KS, and a key of each kind (a revoked one too) as request headers."""
    async with services.db.transaction() as session:
        await directory.add_centre(session, "HL", HL)
        await directory.add_centre(session, "DH", "Trung tâm Phục vụ hành chính công Đông Hà")
        await directory.add_service(session, "KS", "Đăng ký khai sinh")
        made = {"admin": (await api_keys.create_key(session, "admin"))[1],
                "staff_hl": (await api_keys.create_key(session, "staff", "HL"))[1],
                "staff_dh": (await api_keys.create_key(session, "staff", "DH"))[1],
                "viewer_hl": (await api_keys.create_key(session, "viewer", "HL"))[1]}
        revoked, made["revoked"] = await api_keys.create_key(session, "admin")
        await api_keys.revoke_key(session, revoked.id)
    headers = {who: {"Authorization": f"Bearer {key}"} for who, key in made.items()}
    return {**headers, "none": {}}


@pytest.fixture
async def keys(services):
    return await make_keys(services)


@pytest.fixture
async def client(linked):
    async with TestClient(TestServer(create_app(linked))) as running:
        yield running


async def stored(services) -> int:
    async with services.db.reading() as session:
        return await session.scalar(select(func.count()).select_from(Invitation))


async def post(client, keys, who, body, path=ISSUE):
    answer = await client.post(path, json=body, headers=keys[who])
    data = await answer.json()
    conforms("POST", path, answer.status, data)
    return answer.status, data


# (who, status, code): a viewer may not issue; a staff key only for its own centre; no key or a revoked one: 401.
ISSUE_MATRIX = [("admin", 201, None), ("staff_hl", 201, None), ("staff_dh", 403, "forbidden"),
                ("viewer_hl", 403, "forbidden"), ("none", 401, "unauthorized"), ("revoked", 401, "unauthorized")]


@pytest.mark.parametrize(("who", "status", "code"), ISSUE_MATRIX)
async def test_issue_by_role(services, keys, client, who, status, code):
    got, body = await post(client, keys, who, {"centre": "hl", "service": "KS", "count": 2})
    assert got == status
    if status != 201:
        assert body["error"]["code"] == code and await stored(services) == 0
        return
    first, second = body["invitations"]
    assert first["centre"] == "HL" and first["service"] == "KS" and first["survey"] == "sipas-2023"
    assert first["links"] == {"web": f"{URL}/s/{first['token']}", "telegram": f"https://t.me/{BOT}?start={first['token']}"}
    assert first["qr_url"] == f"/api/v1/invitations/{first['id']}/qr.png?token={first['token']}"
    assert len(first["code"]) == 9 and first["code"][4] == "-" and first["token"] != second["token"]
    assert await stored(services) == 2
    async with services.db.reading() as session:  # the token and the code each find the invitation
        assert (await find(session, services.secret_key, first["token"])).id == first["id"]
        assert (await find(session, services.secret_key, first["code"])).id == first["id"]


async def test_the_refusals_say_why(keys, client):
    assert (await post(client, keys, "staff_dh", {"centre": "HL"}))[1]["error"]["message"] == (
        "khóa này chỉ dùng được cho trung tâm DH, không cho 'HL'")
    assert (await post(client, keys, "viewer_hl", {"centre": "HL"}))[1]["error"]["message"] == (
        "khóa viewer chỉ được xem, không được phát phiếu mời")
    status, body = await post(client, keys, "admin", {"centre": "XX"})
    assert (status, body["error"]["message"]) == (404, "không có trung tâm nào mã 'XX'; xem `sipas-bot centre list`")
    assert (await post(client, keys, "admin", {"centre": "HL", "survey": "nope"}))[0] == 404


async def test_expiry_and_valid_until(keys, client, linked):
    status, body = await post(client, keys, "admin", {"centre": "HL", "expires_days": 3})
    assert status == 201
    expires = dt.datetime.fromisoformat(body["invitations"][0]["expires_at"])
    valid_until = dt.date.fromisoformat(body["valid_until"])
    assert (valid_until - dt.datetime.now(dt.UTC).date()).days in (3, 4)  # the local day may be tomorrow in UTC
    assert expires.tzinfo is not None and expires > dt.datetime.now(dt.UTC) + dt.timedelta(days=2)


@pytest.mark.parametrize(("body", "message"), [
    ({"centre": "HL", "colour": "red"}, "không nhận trường 'colour'; các trường được nhận: centre, service, survey, "
                                        "count, expires_days, phone, dossier_ref"),
    ({"centre": "HL", "count": "5"}, "trường 'count' phải là một số nguyên"),
    ({"centre": "HL", "count": True}, "trường 'count' phải là một số nguyên"),
    ({"centre": "HL", "count": 0}, "trường 'count' phải từ 1 trở lên"),
    ({"centre": "HL", "count": 501}, "trường 'count' phải từ 500 trở xuống"),
    ({"centre": "HL", "expires_days": 367}, "trường 'expires_days' phải từ 366 trở xuống"),
    ({"centre": 7}, "trường 'centre' phải là một chuỗi ký tự"),
    ({"centre": ""}, "trường 'centre' không được để trống"),
    ({"count": 2}, "thiếu trường bắt buộc 'centre'"),
    ([{"centre": "HL"}], "phần thân yêu cầu phải là một đối tượng JSON"),
    ({"centre": "HL", "count": 2, "dossier_ref": "H56-1"}, "dossier_ref là một hồ sơ: count phải là 1 (đã cho 2)"),
    # every problem at once, so that a case system's developer fixes them in one round
    ({"count": "5", "colour": "red", "size": 2, "expires_days": 0},
     "không nhận trường 'colour', 'size'; các trường được nhận: centre, service, survey, count, expires_days, phone, "
     "dossier_ref; thiếu trường bắt buộc 'centre'; trường 'count' phải là một số nguyên; trường 'expires_days' phải "
     "từ 1 trở lên"),
])
async def test_bad_bodies_are_400_naming_the_field_and_store_nothing(services, keys, client, body, message):
    status, answer = await post(client, keys, "admin", body)
    assert status == 400 and answer["error"]["code"] == "bad_request"
    assert answer["error"]["message"] == message
    assert await stored(services) == 0


@pytest.mark.parametrize("raw", [b"{centre: HL}", b"", b"\xff\xfe"])
async def test_bad_json_is_400(services, keys, client, raw):
    answer = await client.post(ISSUE, data=raw, headers={**keys["admin"], "Content-Type": "application/json"})
    body = await answer.json()
    assert answer.status == 400 and body["error"]["message"].startswith("phần thân yêu cầu không phải JSON hợp lệ (")
    conforms("POST", ISSUE, 400, body)


async def test_an_oversized_body_is_413_with_or_without_a_length(services, keys, client):
    big = json.dumps({"centre": "HL", "dossier_ref": "x" * 70_000}).encode()
    answer = await client.post(ISSUE, data=big, headers={**keys["admin"], "Content-Type": "application/json"})
    assert answer.status == 413
    body = await answer.json()
    assert body == {"error": {"code": "too_large", "message": "phần thân yêu cầu quá lớn: tối đa 65.536 byte"}}
    conforms("POST", ISSUE, 413, body)

    async def chunks():  # chunked: no Content-Length to refuse it by
        for start in range(0, len(big), 8192):
            yield big[start:start + 8192]

    answer = await client.post(ISSUE, data=chunks(), headers=keys["admin"])
    assert answer.status == 413 and (await answer.json())["error"]["code"] == "too_large"
    assert await stored(services) == 0


async def test_english_when_the_admin_language_is_english(services, linked):
    keys = await make_keys(services)
    async with TestClient(TestServer(create_app(linked.model_copy(update={"admin_language": "en"})))) as client:
        answer = await client.post(ISSUE, json={"centre": "HL", "count": 0}, headers=keys["admin"])
        assert (await answer.json())["error"]["message"] == "the field 'count' must be at least 1"


async def test_a_dossier_gets_one_invitation(services, keys, client):
    status, _ = await post(client, keys, "staff_hl", {"centre": "HL", "dossier_ref": "000.00.12.H56-241203-0001"})
    assert status == 201 and await stored(services) == 1
    # The same dossier typed otherwise (case, spaces), by another key: refused, and nothing new is stored.
    status, again = await post(client, keys, "admin", {"centre": "HL", "dossier_ref": " 000.00.12.h56-241203-0001 "})
    assert (status, again["error"]["code"]) == (409, "conflict")
    assert again["error"]["message"] == ("hồ sơ này đã được phát một phiếu mời; mỗi hồ sơ chỉ có một phiếu mời, "
                                         "không phát thêm phiếu nào")
    assert await stored(services) == 1
    async with services.db.reading() as session:
        [row] = (await session.scalars(select(Invitation))).all()
    assert len(row.dossier_hash) == 64 and "241203" not in repr(vars(row))  # only the keyed hash is kept
    status, _ = await post(client, keys, "admin", {"centre": "HL", "dossier_ref": "000.00.12.H56-241203-0002"})
    assert status == 201 and await stored(services) == 2


async def test_a_phone_without_zns_set_up_is_refused_not_dropped(services, keys, client):
    status, body = await post(client, keys, "admin", {"centre": "HL", "phone": "0912345678"})
    assert (status, body["error"]["message"]) == (400, "chưa gửi được tin ZNS: hãy đặt SIPAS_ZALO_ZNS_TEMPLATE_ID là "
                                                       "mã mẫu tin ZNS đã được Zalo duyệt")
    assert await stored(services) == 0


async def test_a_phone_gets_its_invitation_by_zns_once_per_dossier(services, keys, linked):
    zns = linked.model_copy(update={"zalo_zns_template_id": "7001"})
    async with TestClient(TestServer(create_app(zns))) as client:
        status, body = await post(client, keys, "staff_hl", {"centre": "HL", "phone": "0912 345 678",
                                                             "dossier_ref": "HS-1", "expires_days": 5})
        assert status == 201
        [one] = body["invitations"]
        assert one["phone"] == "84912***678" and one["links"] == {"web": f"{URL}/s/{one['token']}"}
        status, again = await post(client, keys, "staff_hl", {"centre": "HL", "phone": "0987654321",
                                                              "dossier_ref": "hs-1"})
        assert (status, again["error"]["code"]) == (409, "conflict")
        status, many = await post(client, keys, "admin", {"centre": "HL", "phone": "0987654321", "count": 2})
        assert (status, many["error"]["message"]) == (400, "phone gửi một phiếu mời đến một số điện thoại: count "
                                                           "phải là 1 (đã cho 2)")
    async with services.db.reading() as session:
        [queued] = (await session.scalars(select(OutboxMessage))).all()
        [row] = (await session.scalars(select(Invitation))).all()
    assert queued.platform == "zns" and queued.chat_id == "84912345678"
    assert json.loads(queued.text)["tracking_id"] == str(one["id"]) and row.channel_hint == "zns"
    assert (row.expires_at.date() - row.created_at.date()).days in (5, 6)


def decoded(png: bytes) -> str:
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


async def issued_one(client, keys) -> dict:
    status, body = await post(client, keys, "staff_hl", {"centre": "HL"})
    assert status == 201
    return body["invitations"][0]


QR_MATRIX = [("admin", 200), ("staff_hl", 200), ("staff_dh", 403), ("viewer_hl", 403), ("none", 401),
             ("revoked", 401)]


@pytest.mark.parametrize(("who", "status"), QR_MATRIX)
async def test_qr_by_role(keys, client, who, status):
    one = await issued_one(client, keys)
    answer = await client.get(one["qr_url"], headers=keys[who])
    assert answer.status == status
    if status == 200:
        assert answer.content_type == "image/png" and answer.headers["Cache-Control"] == "no-store"
        assert decoded(await answer.read()) == one["links"]["web"]  # the web page first, as on printed cards
    else:
        conforms("GET", one["qr_url"], status, await answer.json())


async def test_the_qr_decodes_to_a_link_that_opens_the_survey(services, keys, settings):
    # Plain http here: over https the survey's cookie is Secure, which the test client does not send back.
    plain = "http://khaosat.example.vn"
    web_only = settings.model_copy(update={"public_url": plain, "trusted_proxies": "127.0.0.1"})
    async with TestClient(TestServer(create_app(web_only))) as client:
        one = await issued_one(client, keys)
        answer = await client.get(one["qr_url"], headers=keys["staff_hl"])
        link = decoded(await answer.read())
        assert link == one["links"]["web"] == f"{plain}/s/{one['token']}"
        browser = Browser(client)  # the citizen's phone opens it and starts the survey
        try:
            first = await browser.get(link.removeprefix(plain))
            assert first.status == 200 and first.has(HL)
            question = await browser.submit(first, "vi")
            assert question.has("Câu 1/")
        finally:
            await browser.close()
    async with services.db.reading() as session:
        assert (await session.get(Invitation, one["id"])).status == "started"


@pytest.mark.parametrize("change", ["wrong token", "no token", "other id", "not a number", "huge id"])
async def test_qr_with_a_wrong_token_or_id_is_404(keys, client, change):
    one, other = await issued_one(client, keys), await issued_one(client, keys)
    url = {"wrong token": f"/api/v1/invitations/{one['id']}/qr.png?token={other['token']}",
           "no token": f"/api/v1/invitations/{one['id']}/qr.png",
           "other id": f"/api/v1/invitations/{one['id'] + 100}/qr.png?token={one['token']}",
           "not a number": f"/api/v1/invitations/abc/qr.png?token={one['token']}",
           "huge id": f"/api/v1/invitations/{'9' * 30}/qr.png?token={one['token']}"}[change]
    answer = await client.get(url, headers=keys["admin"])
    body = await answer.json()
    assert answer.status == 404 and body["error"]["message"].endswith(
        "hãy dùng đúng qr_url nhận được khi phát phiếu")
    conforms("GET", url, 404, body)


async def test_no_link_no_qr(services, keys, settings):
    async with TestClient(TestServer(create_app(settings))) as client:  # neither SIPAS_PUBLIC_URL nor a bot
        one = await issued_one(client, keys)
        assert one["links"] == {} and one["qr_url"] is None
        answer = await client.get(f"/api/v1/invitations/{one['id']}/qr.png?token={one['token']}",
                                  headers=keys["admin"])
        body = await answer.json()
        assert answer.status == 409 and body["error"]["message"].startswith("không có liên kết để đưa vào mã QR")


async def test_the_same_dossier_at_once_gets_one_invitation(services, keys, client):
    # Five calls together: each may find no invitation for the dossier yet; the unique index lets one through.
    body = {"centre": "HL", "dossier_ref": "HS-2024-0042"}
    answers = await asyncio.gather(*(client.post(ISSUE, json=body, headers=keys["admin"]) for _ in range(5)))
    assert sorted(answer.status for answer in answers) == [201, 409, 409, 409, 409]
    for answer in answers:
        conforms("POST", ISSUE, answer.status, await answer.json())
    assert await stored(services) == 1
