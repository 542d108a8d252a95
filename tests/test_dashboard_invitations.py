"""`/dashboard/invitations` on a real server and SQLite file: the form per role (an admin chooses the centre, a
centre's key issues for its own centre whatever it posts, a viewer key cannot issue), a batch issued through
`issue_batch` with its printable sheet (the CLI's cards: the QR codes decode to the invitations' links) and its CSV
of codes, bad input shown on the form again with nothing issued, CSRF, and a batch only its key can open."""

import base64
import csv
import io
import re

import pytest
import zxingcpp
from aiohttp.test_utils import TestClient, TestServer
from dashboard_cases_world import seed_cases
from dashboard_world import csrf_of, log_in
from PIL import Image
from sqlalchemy import func, select

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.storage.models import Centre, Invitation
from bot.survey.invitations import find

URL = "http://khaosat.example.vn"  # http: the test client sends no Secure cookie
BOT = "sipas_test_bot"


@pytest.fixture
def linked(settings):
    return settings.model_copy(update={"public_url": URL, "telegram_bot_username": BOT})


@pytest.fixture
async def world(services):
    return await seed_cases(services)


@pytest.fixture
async def client(linked, world):
    async with TestClient(TestServer(create_app(linked))) as running:
        yield running


async def as_key(client, world, name: str) -> None:
    assert (await log_in(client, world.keys[name])).status == 303


async def issued_count(client, centre: str | None = None) -> int:
    query = select(func.count(Invitation.id)).join(Centre, Centre.id == Invitation.centre_id)
    if centre:
        query = query.where(Centre.code == centre)
    async with client.server.app[SERVICES].db.reading() as session:
        return await session.scalar(query)


async def issue(client, **fields):
    form = await client.get("/dashboard/invitations")
    data = {"csrf": csrf_of(await form.text()), "service": "", "survey": "sipas-2023", "count": "1",
            "expires_days": "30", **fields}
    return await client.post("/dashboard/invitations", data=data, allow_redirects=False)


def decoded(png: bytes) -> str:
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


async def test_logged_out_the_form_and_the_post_lead_to_the_login_form(client):
    before = await issued_count(client)
    for method in ("GET", "POST"):
        answer = await client.request(method, "/dashboard/invitations", allow_redirects=False,
                                      data={"centre": "DH", "count": "5"} if method == "POST" else None)
        assert (answer.status, answer.headers["Location"]) == (303, "/dashboard/login")
    assert await issued_count(client) == before


@pytest.mark.parametrize(("key", "choose"), [("admin", True), ("head_dh", False), ("staff_dh", False)])
async def test_the_form_lets_only_an_admin_choose_the_centre(world, client, key, choose):
    await as_key(client, world, key)
    answer = await client.get("/dashboard/invitations")
    html = await answer.text()
    assert answer.status == 200 and "Phát phiếu mời đánh giá" in html
    assert ('<select id="centre"' in html) is choose
    assert "KS01 Đăng ký khai sinh" in html and 'max="500"' in html
    if not choose:
        assert "DH Trung tâm Một cửa phường Đông Hà" in html and "Khe Sanh" not in html


async def test_an_admin_issues_a_batch_prints_its_sheet_and_downloads_its_codes(world, client):
    await as_key(client, world, "admin")
    before = await issued_count(client, "KH")
    answer = await issue(client, centre="KH", service="KS01", count="3", expires_days="7")
    assert answer.status == 303 and answer.headers["Location"].startswith("/dashboard/invitations/")
    assert await issued_count(client, "KH") == before + 3
    summary = await (await client.get(answer.headers["Location"])).text()
    assert "Đã phát 3 phiếu mời cho Trung tâm Một cửa phường Khe Sanh" in summary
    sheet_path = re.search(r'href="(/dashboard/invitations/[^"]+/sheet)"', summary).group(1)
    csv_path = re.search(r'href="(/dashboard/invitations/[^"]+/codes.csv)"', summary).group(1)

    exported = await client.get(csv_path)
    assert exported.headers["Content-Disposition"] == 'attachment; filename="invitations.csv"'
    rows = list(csv.DictReader(io.StringIO((await exported.read()).decode("utf-8-sig"))))
    assert len(rows) == 3 and {row["centre"] for row in rows} == {"KH"} and {row["service"] for row in rows} == {"KS01"}
    assert all(row["code"] in summary for row in rows)
    services = client.server.app[SERVICES]
    async with services.db.reading() as session:  # the codes are the invitations', redeemable
        assert all([await find(session, services.secret_key, row["token"]) for row in rows])

    sheet = await client.get(sheet_path)
    html = await sheet.text()
    policy = sheet.headers["Content-Security-Policy"]
    assert sheet.status == 200 and "style-src 'sha256-" in policy and "unsafe-inline" not in policy
    assert "script" not in policy and "default-src 'none'" in policy
    assert html.count('class="card"') == 3 and "@media print" in html and "size: A4 portrait" in html
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert [decoded(base64.b64decode(png)) for png in pngs] == [row["web_link"] for row in rows]  # web first
    assert rows[0]["telegram_link"] == f"https://t.me/{BOT}?start={rows[0]['token']}"
    assert all(row["code"] in html for row in rows) and "Đăng ký khai sinh" in html


@pytest.mark.parametrize("key", ["staff_dh", "head_dh"])
async def test_a_centres_key_issues_for_its_own_centre_whatever_it_posts(world, client, key):
    await as_key(client, world, key)
    before_dh, before_kh = await issued_count(client, "DH"), await issued_count(client, "KH")
    answer = await issue(client, centre="KH", count="2")
    assert answer.status == 303
    assert (await issued_count(client, "DH"), await issued_count(client, "KH")) == (before_dh + 2, before_kh)


@pytest.mark.parametrize(("fields", "message"), [
    ({"count": "0"}, "Số phiếu phải là số nguyên từ 1 đến 500 (đã nhập: &#34;0&#34;). Chưa phát phiếu nào."),
    ({"count": "501"}, "Số phiếu phải là số nguyên từ 1 đến 500"),
    ({"count": "ba"}, "Số phiếu phải là số nguyên từ 1 đến 500"),
    ({"expires_days": "0"}, "Số ngày hiệu lực phải là số nguyên từ 1 đến 366"),
    ({"service": "XX99"}, "XX99"),
    ({"survey": "khong-co"}, "khong-co"),
])
async def test_bad_input_shows_the_form_again_with_the_message_and_issues_nothing(world, client, fields, message):
    await as_key(client, world, "admin")
    before = await issued_count(client)
    answer = await issue(client, centre="DH", **{"count": "2", **fields})
    html = await answer.text()
    assert answer.status in (400, 404) and 'role="alert"' in html and message in html
    assert 'action="/dashboard/invitations"' in html  # the form again, with what was typed
    assert await issued_count(client) == before


async def test_a_viewer_cannot_issue_and_sees_no_link_to_the_form(world, client):
    await as_key(client, world, "viewer_dh")
    overview = await (await client.get("/dashboard/cases")).text()
    assert 'href="/dashboard/invitations"' not in overview
    form = await client.get("/dashboard/invitations")
    assert form.status == 403 and "Khóa chỉ xem không phát được phiếu mời." in await form.text()
    before = await issued_count(client)
    posted = await client.post("/dashboard/invitations", allow_redirects=False,
                               data={"csrf": csrf_of(overview), "centre": "DH", "count": "1", "expires_days": "3"})
    assert posted.status == 403 and await issued_count(client) == before


async def test_a_post_without_its_csrf_token_issues_nothing(world, client):
    await as_key(client, world, "admin")
    before = await issued_count(client)
    answer = await client.post("/dashboard/invitations", allow_redirects=False,
                               data={"centre": "DH", "count": "1", "expires_days": "3"})
    assert answer.status == 403 and await issued_count(client) == before


async def test_a_batch_opens_only_for_the_key_that_issued_it(world, client, linked):
    await as_key(client, world, "staff_dh")
    location = (await issue(client, count="1")).headers["Location"]
    assert (await client.get(location)).status == 200
    async with TestClient(TestServer(create_app(linked))) as other:  # another browser, the head of the same centre
        await as_key(other, world, "head_dh")
        for path in (location, f"{location}/sheet", f"{location}/codes.csv"):
            answer = await other.get(path)
            assert answer.status == 404 and "Lô phiếu này không còn" in await answer.text()
