"""The dashboard in a real Chromium on a phone: an admin logs in with a one-time link, reads the league table (the
weakest centre by lower bound last, its figures those of the report's JSON), opens that centre, finds its weakest
criterion first under "Ưu tiên cải thiện", downloads the XLSX, and switches to English; axe-core finds no WCAG 2.1
A or AA violation on any page; screenshots of each page are saved (build/screenshots/dashboard-*.png)."""

import io
import json
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from browser import check_accessibility, offline_context, screenshot
from dashboard_world import JUNE_API, WEAK_CRITERION, WEAKEST, seed
from openpyxl import load_workbook

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.reports.render import vi_number
from bot.survey.login_links import create_link_token


@pytest_asyncio.fixture(loop_scope="session")
async def site(settings):
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    services = app[SERVICES]
    world = await seed(services)

    class Site:
        base = f"http://127.0.0.1:{port}"
        keys = world.keys

        async def login_link(self) -> str:
            async with services.db.transaction() as session:
                return f"{self.base}/dashboard/login/{await create_link_token(session, world.ids['admin'])}"

    yield Site()
    await runner.cleanup()


async def goes(page, action) -> None:
    async with page.expect_navigation():
        await action


async def report_json(page, site) -> dict:
    """The report of the overview, from the API (the reference the page must agree with)."""
    answer = await page.context.request.get(f"{site.base}/api/v1/reports/sipas", params=JUNE_API,
                                            headers={"Authorization": f"Bearer {site.keys['admin']}"})
    assert answer.ok
    return json.loads(await answer.text())


async def test_an_admin_finds_the_weakest_centre_and_its_weakest_criterion(site, phone):
    page = await phone.new_page()
    await page.goto(await site.login_link())
    await check_accessibility(page)
    await screenshot(page, "dashboard-login-link")
    await goes(page, page.get_by_role("button", name="Đăng nhập").click())
    assert page.url == f"{site.base}/dashboard"
    assert await page.locator("h1").inner_text() == "Xếp hạng trung tâm – tháng 6/2024"
    await check_accessibility(page)
    await screenshot(page, "dashboard-overview")

    rows = page.locator("table.league tbody tr")
    report = await report_json(page, site)
    centres = [row for row in report["rows"] if not row.get("total")]
    assert await rows.count() == len(centres)
    last = rows.last
    assert await last.get_attribute("data-centre") == WEAKEST == centres[-1]["centre"]
    weakest = centres[-1]
    low, high = weakest["sipas_ci"]
    assert all(other["sipas_ci"][0] > low for other in centres[:-1])  # the lowest lower bound, ranked last
    text = " ".join((await last.inner_text()).split())
    assert f"{vi_number(weakest['sipas'])} ({vi_number(low)}–{vi_number(high)})" in text
    assert f"{weakest['rank']['rank']} ({weakest['rank']['low']}–{weakest['rank']['high']})" in text
    assert vi_number(weakest["n"], 0) in text

    await page.select_option("#at", "2024-05")  # the period form: May, with LC's few responses
    await goes(page, page.get_by_role("button", name="Xem").click())
    may = page.locator("table.league tbody tr[data-centre=LC]")
    assert " ".join((await may.inner_text()).split()).endswith("chưa đủ mẫu (n = 10)")
    await check_accessibility(page)
    await screenshot(page, "dashboard-overview-may")
    await page.go_back()

    await goes(page, last.get_by_role("link").click())
    assert await page.locator("h1").inner_text() == f"{WEAKEST} Trung tâm Phục vụ hành chính công Thái Bình"
    first = page.locator("ol.priority li").first
    assert await first.get_attribute("data-criterion") == WEAK_CRITERION == weakest["priority"][0]["code"]
    assert await first.locator("strong").inner_text() == "Hướng dẫn dễ hiểu, đầy đủ"  # staff_2's short text
    await check_accessibility(page)
    await screenshot(page, "dashboard-centre")

    async with page.expect_download() as started:
        await page.get_by_role("link", name="Báo cáo (Excel)").click()
    download = await started.value
    assert download.suggested_filename == "sipas-sipas-2023-month.xlsx"
    book = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
    cells = [str(c.value) for sheet in book.worksheets for r in sheet.iter_rows() for c in r if c.value]
    assert any("Thái Bình" in cell for cell in cells)

    await goes(page, page.get_by_role("link", name="English").click())
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.locator("#priority").inner_text() == "Improve first"
    body = await page.locator("main").inner_text()
    assert f"{weakest['sipas']:.2f}" in body
    await check_accessibility(page)
    await screenshot(page, "dashboard-centre-en")


async def test_a_centre_key_on_a_phone_without_javascript(site, phone_no_js):
    page = await phone_no_js.new_page()
    await page.goto(f"{site.base}/dashboard")
    assert page.url == f"{site.base}/dashboard/login"
    await check_accessibility(page)
    await screenshot(page, "dashboard-login")
    await page.fill("#key", site.keys["staff_tb"])
    await goes(page, page.get_by_role("button", name="Đăng nhập").click())
    assert await page.locator("table.league tbody tr").count() == 1
    assert await page.locator("text=Toàn tỉnh").count() == 0
    await goes(page, page.locator("table.league tbody tr a").click())
    assert await page.locator("svg.trend").count() == 1  # the chart is markup: there without a script
    await check_accessibility(page)
    await screenshot(page, "dashboard-centre-staff")
    await goes(page, page.get_by_role("button", name="Đăng xuất").click())
    assert page.url == f"{site.base}/dashboard/login"


async def test_on_a_wide_screen_every_element_figure_stays_in_its_cell_in_both_languages(site, browser):
    # The province's five elements sit in a grid: in English "Procedure 79.15" once ran into "Staff" at 1280 px.
    async with offline_context(browser, viewport={"width": 1280, "height": 900}, locale="vi-VN") as desktop:
        page = await desktop.new_page()
        await page.goto(await site.login_link())
        await goes(page, page.get_by_role("button", name="Đăng nhập").click())
        for language in ("vi", "en"):
            await page.goto(f"{site.base}/dashboard?lang={language}")
            cells = page.locator(".province .elements div")
            assert await cells.count() == 5
            overflowing = await cells.evaluate_all("cells => cells.filter(c => c.scrollWidth > c.clientWidth)"
                                                   ".map(c => c.innerText)")
            assert overflowing == [], language
        await screenshot(page, "dashboard-overview-en-wide")
