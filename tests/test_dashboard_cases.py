"""`/dashboard/cases` on a real server and SQLite file: each key sees exactly its scope of `case_access` (a staff
or viewer key never learns that a sensitive case exists: 404 like an unknown id), a hostile comment shows as text,
the forms move a case (assign, start, resolve with a required note) and `move_case`'s refusals come back as polite
messages in the page's language; a viewer key gets no forms; a post without its CSRF token changes nothing; the
overview counts open and overdue cases per centre; and report rows of staff and viewer keys count no sensitive
case (API and dashboard export alike)."""

import csv
import io
import re

import pytest
from dashboard_cases_world import MASKED, case_row, seed_cases
from dashboard_world import csrf_of, log_in


@pytest.fixture
async def world(services):
    return await seed_cases(services)


def listed(html: str) -> set[str]:
    return set(re.findall(r'data-case="([A-Z0-9]+)"', html))


async def as_key(client, world, name: str) -> None:
    answer = await log_in(client, world.keys[name])
    assert answer.status == 303


async def post_move(client, case_id: str, action: str, **fields):
    page = await client.get(f"/dashboard/cases/{case_id}")
    return await client.post(f"/dashboard/cases/{case_id}/{action}", allow_redirects=False,
                             data={"csrf": csrf_of(await page.text()), **fields})


async def test_logged_out_every_case_page_and_form_leads_to_the_login_form(world, client):
    for method, path in (("GET", "/dashboard/cases"), ("GET", f"/dashboard/cases/{world.low}"),
                         ("POST", f"/dashboard/cases/{world.low}/start")):
        answer = await client.request(method, path, allow_redirects=False)
        assert (answer.status, answer.headers["Location"]) == (303, "/dashboard/login")
    assert (await case_row(await _services(client), world.low)).status == "new"


async def _services(client):
    from bot.http.keys import SERVICES

    return client.server.app[SERVICES]


@pytest.mark.parametrize(("key", "sees"), [
    ("admin", {"low", "sensitive", "other"}), ("head_dh", {"low", "sensitive"}), ("staff_dh", {"low"}),
    ("viewer_dh", {"low"}), ("staff_kh", {"other"})])
async def test_each_key_lists_exactly_the_cases_of_its_scope(world, client, key, sees):
    await as_key(client, world, key)
    answer = await client.get("/dashboard/cases")
    html = await answer.text()
    assert answer.status == 200 and "Phản hồi cần xử lý" in html
    assert listed(html) == {getattr(world, name) for name in sees}
    for name in {"low", "sensitive", "other"} - sees:  # not even a hint at the others
        assert getattr(world, name) not in html


@pytest.mark.parametrize("key", ["staff_dh", "viewer_dh", "staff_kh"])
async def test_a_case_outside_the_scope_is_a_404_like_an_unknown_id(world, client, key):
    await as_key(client, world, key)
    hidden = await client.get(f"/dashboard/cases/{world.sensitive}")
    unknown = await client.get("/dashboard/cases/ZZZZZZ")
    assert hidden.status == unknown.status == 404
    # The same page (but for the address in the language switch): nothing tells them apart.
    assert (await hidden.text()).replace(world.sensitive, "ZZZZZZ") == await unknown.text()
    moved = await client.post(f"/dashboard/cases/{world.sensitive}/start", allow_redirects=False,
                              data={"csrf": csrf_of(await unknown.text())})
    assert moved.status == 404
    assert (await case_row(await _services(client), world.sensitive)).status == "new"


async def test_the_case_page_shows_its_items_and_the_hostile_comment_as_text(world, client):
    await as_key(client, world, "head_dh")
    answer = await client.get(f"/dashboard/cases/{world.low}")
    html = await answer.text()
    assert answer.status == 200
    assert "<script>" not in html and "<b>đậm</b>" not in html
    assert '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;đậm&lt;/b&gt; gọi [số điện thoại]' in html
    assert MASKED.startswith("<script>")
    assert "Lịch sự, tôn trọng</strong>: 1 – Rất không hài lòng" in html
    due = (await case_row(await _services(client), world.low)).due_on.strftime("%d/%m/%Y")
    assert "Đăng ký khai sinh" in html and f"Hạn xử lý</dt><dd>{due}</dd>" in html and "chưa nhắc" in html
    assert 'action="/dashboard/cases/' in html  # a head may act
    sensitive = await (await client.get(f"/dashboard/cases/{world.sensitive}")).text()
    assert "Phiền hà, sách nhiễu" in sensitive and "chỉ lãnh đạo trung tâm và quản trị viên tỉnh" in sensitive
    # A report is said in its own words, without the number of the option chosen (it is no rating).
    assert "Phiền hà, sách nhiễu</strong>: Có một số công chức gây phiền hà" in sensitive


async def test_staff_assign_start_and_resolve_with_a_note_and_see_it_among_the_resolved(world, client):
    services = await _services(client)
    await as_key(client, world, "staff_dh")
    early = await post_move(client, world.low, "resolve", note="Đã xin lỗi")
    assert early.status == 400
    assert f'Phản hồi {world.low} chưa được bắt đầu xử lý. Vui lòng bấm "Bắt đầu xử lý" trước.'.replace(
        '"', "&#34;") in await early.text()
    assigned = await post_move(client, world.low, "assign", assignee="Nguyễn Thị Lan")
    assert (assigned.status, assigned.headers["Location"]) == (303, f"/dashboard/cases/{world.low}?done=assign")
    started = await post_move(client, world.low, "start")
    assert started.status == 303
    page = await (await client.get(started.headers["Location"])).text()
    assert "Phản hồi đã chuyển sang đang xử lý." in page and "Nguyễn Thị Lan" in page
    no_note = await post_move(client, world.low, "resolve", note="   ")
    assert no_note.status == 400
    assert "Vui lòng ghi lại việc đã làm trước khi đánh dấu đã xử lý." in await no_note.text()
    assert (await case_row(services, world.low)).status == "in_progress"
    resolved = await post_move(client, world.low, "resolve", note="Đã nhắc nhở cán bộ <i>X</i>")
    assert resolved.status == 303
    row = await case_row(services, world.low)
    assert (row.status, row.note, row.assignee) == ("resolved", "Đã nhắc nhở cán bộ <i>X</i>", "Nguyễn Thị Lan")
    page = await (await client.get(resolved.headers["Location"])).text()
    assert "đã xử lý" in page and "Đã nhắc nhở cán bộ &lt;i&gt;X&lt;/i&gt;" in page
    assert 'action="/dashboard/cases/' not in page  # a resolved case has no forms
    resolved_list = await (await client.get("/dashboard/cases?status=resolved")).text()
    assert listed(resolved_list) == {world.low}
    again = await client.post(f"/dashboard/cases/{world.low}/assign", allow_redirects=False,
                              data={"csrf": csrf_of(page), "assignee": "Ai đó"})
    assert again.status == 400 and "đã xử lý xong nên không thay đổi được nữa" in await again.text()


async def test_a_refusal_is_said_in_english_on_the_english_page(world, client):
    await as_key(client, world, "admin")
    await client.get("/dashboard/cases?lang=en")  # the switch: the cookie keeps English
    answer = await post_move(client, world.other, "resolve", note="done")
    html = await answer.text()
    assert answer.status == 400 and 'lang="en"' in html
    assert f"Case {world.other} has not been started. Please press &#34;Start&#34; first." in html


async def test_a_viewer_gets_no_forms_and_cannot_move_a_case(world, client):
    await as_key(client, world, "viewer_dh")
    page = await client.get(f"/dashboard/cases/{world.low}")
    html = await page.text()
    assert page.status == 200 and 'action="/dashboard/cases/' not in html
    assert "chỉ được xem, không thay đổi được phản hồi" in html
    refused = await client.post(f"/dashboard/cases/{world.low}/start", allow_redirects=False,
                                data={"csrf": csrf_of(html)})
    assert refused.status == 403 and "Khóa của bạn chỉ được xem phản hồi, không thay đổi được." in await refused.text()
    assert (await case_row(await _services(client), world.low)).status == "new"


async def test_a_move_without_its_csrf_token_is_refused_and_changes_nothing(world, client):
    await as_key(client, world, "head_dh")
    for data in ({}, {"csrf": "0" * 32}):
        answer = await client.post(f"/dashboard/cases/{world.low}/start", data=data, allow_redirects=False)
        assert answer.status == 403 and "Biểu mẫu này đã cũ" in await answer.text()
    assert (await case_row(await _services(client), world.low)).status == "new"


async def test_the_filters_overdue_first_and_bad_filters_as_messages(world, client):
    await as_key(client, world, "admin")
    html = await (await client.get("/dashboard/cases?centre=kh")).text()
    assert listed(html) == {world.other}
    every = await (await client.get("/dashboard/cases")).text()
    assert re.findall(r'data-case="([A-Z0-9]+)"', every)[0] == world.other  # overdue first
    overdue = await (await client.get("/dashboard/cases?overdue=1")).text()  # KH's, due 27/11/2026
    assert listed(overdue) == {world.other} and "quá hạn" in overdue
    bad = await client.get("/dashboard/cases?status=closed")
    assert bad.status == 400 and "không có trạng thái &#39;closed&#39;" in await bad.text()
    await as_key(client, world, "staff_kh")
    other = await client.get("/dashboard/cases?centre=DH")
    assert other.status == 403 and "bạn chỉ xem được phản hồi của trung tâm KH" in await other.text()


@pytest.mark.parametrize(("key", "dh"), [("admin", "2 đang mở, 0 quá hạn"), ("head_dh", "2 đang mở, 0 quá hạn"),
                                         ("staff_dh", "1 đang mở, 0 quá hạn")])
async def test_the_overview_counts_open_and_overdue_cases_per_centre(world, client, key, dh):
    await as_key(client, world, key)
    html = await (await client.get("/dashboard")).text()  # the latest month: DH's responses
    row = re.search(r'<tr data-centre="DH".*?</tr>', html, flags=re.S)
    assert row and dh in row.group(0) and 'href="/dashboard/cases?centre=DH"' in row.group(0)
    cases = await (await client.get("/dashboard/cases")).text()
    assert ("KH</a>: 1 đang mở, 1 quá hạn" in cases) == (key == "admin")


def _dh_cases(rows: list[dict]) -> list[dict]:
    return [row["cases"] for row in rows if row.get("centre") == "DH"]


@pytest.mark.parametrize(("key", "opened"), [("admin", 2), ("head_dh", 2), ("staff_dh", 1), ("viewer_dh", 1)])
async def test_report_rows_of_staff_and_viewer_keys_count_no_sensitive_case(world, client, key, opened):
    query = {"by": "centre", "period": "month"}
    api = await client.get("/api/v1/reports/sipas", params=query,
                           headers={"Authorization": f"Bearer {world.keys[key]}"})
    assert api.status == 200
    assert _dh_cases((await api.json())["rows"]) == [{"opened": opened, "closed": 0, "closed_on_time": 0,
                                                      "open_overdue": 0}]
    await as_key(client, world, key)
    exported = await client.get("/dashboard/export.csv")
    rows = list(csv.DictReader(io.StringIO((await exported.read()).decode("utf-8-sig"))))
    assert [row["cases_opened"] for row in rows if row.get("centre") == "DH"] == [str(opened)]
