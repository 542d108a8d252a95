"""The dashboard's invitations and follow-up cases in a real Chromium on a phone: the head of a centre logs in,
issues a batch of invitations, opens its printable sheet (its QR codes, read back from the screenshot, are the
invitations' links), then moves a low-rating case to "đã xử lý" with a note and finds it among the resolved ones.
axe-core finds no WCAG 2.1 A or AA violation on any page; screenshots of each page are saved
(build/screenshots/dashboard-invitations*.png, dashboard-case*.png)."""

import csv
import io

import pytest_asyncio
import zxingcpp
from aiohttp import web
from browser import check_accessibility, screenshot
from dashboard_cases_world import HOSTILE, MASKED, seed_cases
from PIL import Image

from bot.http.app import create_app
from bot.http.keys import SERVICES

BOT = "sipas_test_bot"


@pytest_asyncio.fixture(loop_scope="session")
async def site(settings):
    app = create_app(settings.model_copy(update={"telegram_bot_username": BOT,
                                                 "public_url": "http://khaosat.example.vn"}))
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    world = await seed_cases(app[SERVICES])

    class Site:
        base = f"http://127.0.0.1:{port}"
        cases = world

    yield Site()
    await runner.cleanup()


async def goes(page, action) -> None:
    async with page.expect_navigation():
        await action


async def test_a_head_issues_invitations_prints_the_sheet_and_resolves_a_case(site, phone):
    page = await phone.new_page()
    await page.goto(f"{site.base}/dashboard/login")
    await page.fill("#key", site.cases.keys["head_dh"])
    await goes(page, page.get_by_role("button", name="Đăng nhập").click())
    dh = page.locator("table.league tbody tr[data-centre=DH] td.cases-cell")
    assert await dh.inner_text() == "2 đang mở, 0 quá hạn"  # the head sees the sensitive case too
    await check_accessibility(page)
    await screenshot(page, "dashboard-overview-head")

    await goes(page, page.get_by_role("link", name="Phát phiếu mời").click())
    assert await page.locator("h1").inner_text() == "Phát phiếu mời đánh giá"
    await check_accessibility(page)
    await screenshot(page, "dashboard-invitations")
    await page.select_option("#service", "KS01")
    await page.fill("#count", "3")
    await goes(page, page.get_by_role("button", name="Phát phiếu mời").click())
    assert "Đã phát 3 phiếu mời cho Trung tâm Một cửa phường Đông Hà" in await page.get_by_role("status").inner_text()
    await check_accessibility(page)
    await screenshot(page, "dashboard-invitations-issued")
    csv_link = await page.get_by_role("link", name="Danh sách mã (CSV)").get_attribute("href")
    codes = await page.context.request.get(f"{site.base}{csv_link}")
    rows = list(csv.DictReader(io.StringIO((await codes.body()).decode("utf-8-sig"))))
    assert [row["centre"] for row in rows] == ["DH"] * 3

    await goes(page, page.get_by_role("link", name="Mở tờ in mã QR").click())
    assert await page.locator(".card").count() == 3
    await check_accessibility(page)
    shot = await screenshot(page, "dashboard-invitations-sheet")
    found = zxingcpp.read_barcodes(Image.open(shot))
    assert sorted(code.text for code in found) == sorted(row["web_link"] for row in rows)  # web first
    assert rows[0]["telegram_link"] == f"https://t.me/{BOT}?start={rows[0]['token']}"
    await page.go_back()

    await goes(page, page.get_by_role("link", name="Phản hồi cần xử lý").first.click())
    assert await page.locator("ul.cases li").count() == 2
    await check_accessibility(page)
    await screenshot(page, "dashboard-cases")
    await goes(page, page.locator(f'li[data-case="{site.cases.low}"] a').click())
    assert await page.locator("#case-comment").inner_text() == MASKED  # the script is text, never run
    assert HOSTILE != MASKED  # and the phone number masked
    await check_accessibility(page)
    await screenshot(page, "dashboard-case")
    await page.fill("#assignee", "Nguyễn Thị Lan")
    await goes(page, page.get_by_role("button", name="Phân công").click())
    await goes(page, page.get_by_role("button", name="Bắt đầu xử lý").click())
    assert (await page.locator("#case-status").inner_text()).startswith("đang xử lý")
    await page.fill("#note-text", "Đã gặp cán bộ và nhắc nhở thái độ phục vụ.")
    await goes(page, page.get_by_role("button", name="Đánh dấu đã xử lý").click())
    assert await page.locator("#case-status").inner_text() == "đã xử lý"
    assert await page.locator("#case-handler").inner_text() == "Nguyễn Thị Lan"
    assert await page.locator("#case-note").inner_text() == "Đã gặp cán bộ và nhắc nhở thái độ phục vụ."
    await check_accessibility(page)
    await screenshot(page, "dashboard-case-resolved")

    await goes(page, page.get_by_role("link", name="← Phản hồi cần xử lý").click())
    await page.select_option("#status", "resolved")
    await goes(page, page.get_by_role("button", name="Xem").click())
    resolved = page.locator("ul.cases li")
    assert await resolved.count() == 1
    assert await resolved.get_attribute("data-case") == site.cases.low
    assert "đã xử lý" in await resolved.inner_text()
    await check_accessibility(page)
    await screenshot(page, "dashboard-cases-resolved")
