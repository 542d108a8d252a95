"""Centres, services and staff over `/api/v1` on a real server and SQLite file: every endpoint × every kind of key,
duplicates (409), unknown entries (404), bodies refused (400), and the same data as `sipas-bot centre|service|staff
list` shows."""

import pytest
from test_api_invitations import HL, make_keys
from test_openapi import conforms

from bot.survey import directory

DH = "Trung tâm Phục vụ hành chính công Đông Hà"


@pytest.fixture
async def keys(services):
    made = await make_keys(services)
    async with services.db.transaction() as session:
        await directory.add_staff(session, "HL", "telegram", "1001", "staff", "Nguyễn Thị Lan")
    return made


async def call(client, keys, who, method, path, body=None):
    answer = await client.request(method, path, json=body, headers=keys[who])
    data = await answer.json()
    conforms(method, path, answer.status, data)
    return answer.status, data


ROLES = ["admin", "staff_hl", "staff_dh", "viewer_hl", "none", "revoked"]
# Every endpoint, with what each role gets: reading services takes any key, centres any key (a centre's key sees
# its own), staff and every change an admin key.
ENDPOINTS = {
    "list centres": ("GET", "/api/v1/centres", None, [200, 200, 200, 200, 401, 401]),
    "create centre": ("POST", "/api/v1/centres", {"code": "gl", "name": "UBND xã Gio Linh"},
                      [201, 403, 403, 403, 401, 401]),
    "change centre": ("PATCH", "/api/v1/centres/HL", {"name": "Một cửa Hải Lăng"}, [200, 403, 403, 403, 401, 401]),
    "list services": ("GET", "/api/v1/services", None, [200, 200, 200, 200, 401, 401]),
    "create service": ("POST", "/api/v1/services", {"code": "KH", "name": "Đăng ký kết hôn", "field": "Hộ tịch"},
                       [201, 403, 403, 403, 401, 401]),
    "change service": ("PATCH", "/api/v1/services/KS", {"field": "Hộ tịch"}, [200, 403, 403, 403, 401, 401]),
    "list staff": ("GET", "/api/v1/staff", None, [200, 403, 403, 403, 401, 401]),
    "create staff": ("POST", "/api/v1/staff", {"centre": "DH", "platform": "zalo", "user_id": "z-77"},
                     [201, 403, 403, 403, 401, 401]),
    "change staff": ("PATCH", "/api/v1/staff/1", {"role": "admin"}, [200, 403, 403, 403, 401, 401]),
}
MATRIX = [(name, who, statuses[index]) for name, (_, _, _, statuses) in ENDPOINTS.items()
          for index, who in enumerate(ROLES)]


async def everything(client, keys) -> tuple:
    """What an admin key reads: centres, services and staff."""
    return tuple([(await call(client, keys, "admin", "GET", f"/api/v1/{kind}"))[1]
                  for kind in ("centres", "services", "staff")])


@pytest.mark.parametrize(("endpoint", "who", "status"), MATRIX)
async def test_every_endpoint_by_role(keys, client, endpoint, who, status):
    method, path, body, _ = ENDPOINTS[endpoint]
    before = await everything(client, keys)
    got, answer = await call(client, keys, who, method, path, body)
    assert got == status
    if status >= 400:
        assert answer["error"]["code"] == {401: "unauthorized", 403: "forbidden"}[status]
        if status == 403:
            assert answer["error"]["message"] == "chỉ khóa admin mới được làm việc này"
        assert await everything(client, keys) == before  # nothing changed
    elif method != "GET":
        assert await everything(client, keys) != before


@pytest.mark.parametrize(("who", "codes"), [("admin", ["DH", "HL"]), ("staff_hl", ["HL"]), ("staff_dh", ["DH"]),
                                            ("viewer_hl", ["HL"])])
async def test_a_centre_key_lists_its_own_centre(keys, client, who, codes):
    _, centres = await call(client, keys, who, "GET", "/api/v1/centres")
    assert [centre["code"] for centre in centres] == codes
    if who == "admin":
        assert centres[1] == {"code": "HL", "name": HL, "parent": None, "open_surveys": False, "alert_chat": None}
        raw = await (await client.get("/api/v1/centres", headers=keys[who])).text()
        assert HL in raw  # UTF-8 letters, not \u escapes


async def test_create_and_change_as_the_cli_shows(keys, client, cli):
    status, made = await call(client, keys, "admin", "POST", "/api/v1/centres",
                              {"code": "gl", "name": "  UBND  xã Gio Linh ", "parent": "DH", "open_surveys": True,
                               "alert_chat": "zalo:abc"})
    assert status == 201
    assert made == {"code": "GL", "name": "UBND xã Gio Linh", "parent": "DH", "open_surveys": True,
                    "alert_chat": "zalo:abc"}
    status, changed = await call(client, keys, "admin", "PATCH", "/api/v1/centres/gl",
                                 {"parent": None, "alert_chat": None, "open_surveys": False})
    assert status == 200 and changed == {**made, "parent": None, "alert_chat": None, "open_surveys": False}
    code, out, err = cli("centre", "list")
    assert code == 0 and "GL               UBND xã Gio Linh" in out, err

    assert (await call(client, keys, "admin", "PATCH", "/api/v1/services/ks", {"name": "Khai sinh"}))[1] == {
        "code": "KS", "name": "Khai sinh", "field": None}
    status, staff = await call(client, keys, "admin", "POST", "/api/v1/staff",
                               {"centre": "dh", "platform": "telegram", "user_id": "2002", "name": "Lê Văn Minh"})
    assert (status, staff) == (201, {"id": 2, "centre": "DH", "platform": "telegram", "user_id": "2002",
                                     "role": "staff", "name": "Lê Văn Minh"})
    status, moved = await call(client, keys, "admin", "PATCH", "/api/v1/staff/2",
                               {"centre": "HL", "role": "admin", "name": None})
    assert moved == {**staff, "centre": "HL", "role": "admin", "name": None}
    assert "HL               telegram  2002             admin" in cli("staff", "list")[1]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("POST", "/api/v1/centres", {"code": "hl", "name": "Trùng"}, 409,
     "trung tâm 'HL' đã có; sửa bằng `sipas-bot centre set HL ...`"),
    ("POST", "/api/v1/services", {"code": "KS", "name": "Trùng"}, 409, "dịch vụ 'KS' đã có"),
    ("POST", "/api/v1/staff", {"centre": "DH", "platform": "telegram", "user_id": "1001"}, 409,
     "tài khoản telegram 1001 đã được đăng ký; hãy xóa trước rồi đăng ký lại để đổi trung tâm"),
    ("PATCH", "/api/v1/centres/XX", {"name": "Không có"}, 404,
     "không có trung tâm nào mã 'XX'; xem `sipas-bot centre list`"),
    ("PATCH", "/api/v1/services/XX", {"name": "Không có"}, 404,
     "không có dịch vụ nào mã 'XX'; xem `sipas-bot service list`"),
    ("PATCH", "/api/v1/staff/99", {"role": "admin"}, 404, "không có cán bộ nào số 99; xem GET /api/v1/staff"),
    ("PATCH", "/api/v1/staff/abc", {"role": "admin"}, 404, "không có cán bộ nào số abc; xem GET /api/v1/staff"),
    ("PATCH", f"/api/v1/staff/{'9' * 30}", {"role": "admin"}, 404,
     f"không có cán bộ nào số {'9' * 30}; xem GET /api/v1/staff"),
    ("PATCH", "/api/v1/centres/HL", {"parent": "XX"}, 404,
     "không có trung tâm nào mã 'XX'; xem `sipas-bot centre list`"),
    ("POST", "/api/v1/centres", {"code": "a b", "name": "Sai mã"}, 400,
     "mã trung tâm 'a b' phải gồm 1 đến 40 chữ cái (A-Z), chữ số, '.', '-' hoặc '_', không có dấu cách"),
    ("POST", "/api/v1/centres", {"code": "GL", "name": "Gio Linh", "colour": "red"}, 400,
     "không nhận trường 'colour'; các trường được nhận: code, name, parent, open_surveys, alert_chat"),
    ("PATCH", "/api/v1/centres/HL", {"open_surveys": "yes"}, 400, "trường 'open_surveys' phải là true hoặc false"),
    ("POST", "/api/v1/staff", {"centre": "HL", "platform": "viber", "user_id": "1"}, 400,
     "trường 'platform' phải là một trong: telegram, zalo"),
    ("PATCH", "/api/v1/staff/1", {"role": "boss"}, 400, "trường 'role' phải là một trong: staff, admin"),
    ("POST", "/api/v1/services", {"code": "KH"}, 400, "thiếu trường bắt buộc 'name'"),
    ("PATCH", "/api/v1/services/KS", [], 400, "phần thân yêu cầu phải là một đối tượng JSON"),
])
async def test_duplicates_unknowns_and_bad_bodies(keys, client, method, path, body, status, message):
    before = await everything(client, keys)
    got, answer = await call(client, keys, "admin", method, path, body)
    assert (got, answer["error"]["message"]) == (status, message)
    assert await everything(client, keys) == before


async def test_a_parent_loop_is_refused(keys, client):
    assert (await call(client, keys, "admin", "PATCH", "/api/v1/centres/DH", {"parent": "HL"}))[0] == 200
    status, answer = await call(client, keys, "admin", "PATCH", "/api/v1/centres/HL", {"parent": "DH"})
    assert status == 400 and "HL" in answer["error"]["message"] and "DH" in answer["error"]["message"]
    _, centres = await call(client, keys, "admin", "GET", "/api/v1/centres")
    assert {c["code"]: c["parent"] for c in centres} == {"DH": "HL", "HL": None}
