"""Follow-up cases over `/api/v1/cases` on a real server and database: each key lists exactly its scope (a staff or
viewer key gets 404 for a sensitive case, like an unknown id), filters work and bad ones are 400, a case moves
assign → start → resolve with the same refusals as the dashboard and the CLI, a viewer key moves nothing, and every
answer is what the OpenAPI document says."""

import pytest
from dashboard_cases_world import MASKED, case_row, seed_cases
from test_openapi import conforms


@pytest.fixture
async def world(services):
    return await seed_cases(services)


def headers(world, key: str) -> dict:
    return {"Authorization": f"Bearer {world.keys[key]}"}


async def call(client, world, key, method, path, body=None):
    answer = await client.request(method, path, json=body, headers=headers(world, key) if key else {})
    data = await answer.json()
    conforms(method, path, answer.status, data)
    return answer.status, data


@pytest.mark.parametrize(("key", "sees"), [
    ("admin", {"low", "sensitive", "other"}), ("head_dh", {"low", "sensitive"}), ("staff_dh", {"low"}),
    ("viewer_dh", {"low"}), ("staff_kh", {"other"})])
async def test_each_key_lists_exactly_the_cases_of_its_scope(world, client, key, sees):
    status, cases = await call(client, world, key, "GET", "/api/v1/cases")
    assert status == 200
    assert {case["id"] for case in cases} == {getattr(world, name) for name in sees}
    assert cases[0]["overdue"] == ("other" in sees)  # overdue first
    for name in {"low", "sensitive", "other"} - sees:
        hidden, error = await call(client, world, key, "GET", f"/api/v1/cases/{getattr(world, name)}")
        unknown, same = await call(client, world, key, "GET", "/api/v1/cases/ZZZZZZ")
        assert hidden == unknown == 404
        assert error["error"]["message"].replace(getattr(world, name), "ZZZZZZ") == same["error"]["message"] == (
            "không có phản hồi cần xử lý mã ZZZZZZ; xem các mã bằng GET /api/v1/cases")


async def test_a_case_carries_what_was_said_and_nothing_that_names_the_citizen(world, client):
    status, case = await call(client, world, "head_dh", "GET", f"/api/v1/cases/{world.low.lower()}")
    assert status == 200 and case["id"] == world.low
    assert case["centre"] == "DH" and case["service"] == "Đăng ký khai sinh" and case["status"] == "new"
    assert case["comment"] == MASKED  # the phone number masked, the HTML kept as text for the caller to escape
    assert [(item["kind"], item["code"], item["value"]) for item in case["items"]] == [("rating", "staff_1", 1)]
    assert not {"response_id", "chat", "phone", "invitation"} & set(case)
    _, sensitive = await call(client, world, "admin", "GET", f"/api/v1/cases/{world.sensitive}")
    assert sensitive["sensitive"] and [item["kind"] for item in sensitive["items"]] == ["report"]


async def test_filters_and_bad_filters(world, client):
    _, overdue = await call(client, world, "admin", "GET", "/api/v1/cases?overdue=true")
    assert [case["id"] for case in overdue] == [world.other]
    _, dh = await call(client, world, "admin", "GET", "/api/v1/cases?centre=dh&status=new")
    assert {case["id"] for case in dh} == {world.low, world.sensitive}
    _, none = await call(client, world, "admin", "GET", "/api/v1/cases?status=resolved")
    assert none == []
    for query, status, words in [
        ("overdue=maybe", 400, "overdue phải là true hoặc false, không phải 'maybe'"),
        ("status=closed", 400, "closed"),
        ("colour=red", 400, "tham số không được nhận: colour"),
        ("status=new&status=resolved", 400, "tham số không được nhận: status"),
        ("centre=NOPE", 404, "NOPE"),
    ]:
        got, error = await call(client, world, "admin", "GET", f"/api/v1/cases?{query}")
        assert got == status and words in error["error"]["message"], (query, error)
    got, error = await call(client, world, "staff_dh", "GET", "/api/v1/cases?centre=KH")
    assert got == 403 and error["error"]["code"] == "forbidden"
    assert (await call(client, world, None, "GET", "/api/v1/cases"))[0] == 401


async def test_a_case_is_assigned_started_and_resolved_with_a_note(world, client):
    path = f"/api/v1/cases/{world.low}/moves"
    status, case = await call(client, world, "staff_dh", "POST", path, {"action": "assign", "assignee": "Lê Văn Tám"})
    assert status == 200 and case["assignee"] == "Lê Văn Tám" and case["status"] == "new"
    status, error = await call(client, world, "staff_dh", "POST", path, {"action": "resolve", "note": "Đã xin lỗi"})
    assert status == 400 and world.low in error["error"]["message"]  # not started yet
    assert (await call(client, world, "staff_dh", "POST", path, {"action": "start"}))[1]["status"] == "in_progress"
    status, error = await call(client, world, "staff_dh", "POST", path, {"action": "resolve"})
    assert status == 400  # a note is required
    status, case = await call(client, world, "staff_dh", "POST", path,
                              {"action": "resolve", "note": "Đã nhắc nhở công chức và xin lỗi người dân"})
    assert status == 200 and case["status"] == "resolved" and case["closed_on"] is not None
    assert case["note"] == "Đã nhắc nhở công chức và xin lỗi người dân"
    status, error = await call(client, world, "admin", "POST", path, {"action": "start"})
    assert status == 400  # a resolved case stays resolved
    assert (await case_row(await _services(client), world.low)).status == "resolved"


async def _services(client):
    from bot.http.keys import SERVICES

    return client.server.app[SERVICES]


@pytest.mark.parametrize(("key", "case", "status"), [
    ("viewer_dh", "low", 403), ("staff_dh", "sensitive", 404), ("staff_kh", "low", 404), (None, "low", 401)])
async def test_a_key_without_the_right_moves_nothing(world, client, key, case, status):
    case_id = getattr(world, case)
    got, error = await call(client, world, key, "POST", f"/api/v1/cases/{case_id}/moves", {"action": "start"})
    assert got == status and error["error"]["code"] == {401: "unauthorized", 403: "forbidden", 404: "not_found"}[got]
    assert (await case_row(await _services(client), case_id)).status == "new"


@pytest.mark.parametrize(("body", "words"), [
    ({"action": "close"}, "action"), ({"action": "start", "colour": "red"}, "colour"),
    ({"action": "assign", "assignee": ""}, "assignee"), ({}, "action"), ({"action": 3}, "action")])
async def test_bad_bodies_are_refused_by_name_and_change_nothing(world, client, body, words):
    got, error = await call(client, world, "admin", "POST", f"/api/v1/cases/{world.low}/moves", body)
    assert got == 400 and words in error["error"]["message"]
    assert (await case_row(await _services(client), world.low)).status == "new"
