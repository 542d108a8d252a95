"""The web survey in a real Chromium on a phone-sized screen: a citizen completes sipas-2023 in Vietnamese and
sipas-quick in English, once with JavaScript off and once by keyboard; axe-core finds no WCAG 2.1 A or AA violation
on any kind of page; a screenshot of each kind is saved (build/screenshots/web-*.png)."""

import pytest_asyncio
from aiohttp import web
from browser import check_accessibility, screenshot
from sqlalchemy import select

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.storage.models import Response
from bot.survey import directory
from bot.survey.batches import issue_batch


@pytest_asyncio.fixture(loop_scope="session")
async def site(settings):
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    services = app[SERVICES]
    async with services.db.transaction() as session:
        await directory.add_centre(session, "HN01", "Trung tâm Phục vụ hành chính công tỉnh Hà Nam",
                                   open_surveys=True)

    class Site:
        base = f"http://127.0.0.1:{port}"

        async def link(self, survey: str) -> str:
            batch = await issue_batch(services, centre_code="HN01", survey=survey)
            return f"{self.base}/s/{batch.issued[0].token}"

        async def channels(self) -> list[str]:
            async with services.db.reading() as session:
                return list((await session.execute(select(Response.channel))).scalars())

    yield Site()
    await runner.cleanup()


async def goes(page, action) -> None:
    """Do ``action`` (a click, a tap, a key) and wait for the page it leads to (the post, its 303, the GET)."""
    async with page.expect_navigation():
        await action


async def answer_all(page, *, tap: bool, shots: str | None = None, comment: str = "Cán bộ hướng dẫn tận tình."):
    """Answer every question with its first option (the comment box with ``comment``) until the thanks page;
    checks and photographs the first page of each kind when ``shots`` names the run."""
    seen = set()
    for _ in range(40):
        kind = "text" if await page.locator("textarea").count() else (
            "choice" if await page.locator(".option").count() else "end")
        if shots and kind not in seen:
            seen.add(kind)
            await check_accessibility(page)
            await screenshot(page, f"web-{shots}-{kind}")
        if kind == "end":
            return
        if kind == "text":
            await page.fill("textarea", comment)
            await goes(page, page.locator("button[value=answer]").click())
        elif tap:  # the script submits a tapped option
            await goes(page, page.locator(".option label").first.tap())
        else:
            await page.locator(".option label").first.click()
            await goes(page, page.locator("button[value=answer]").click())
    raise AssertionError("the survey did not end")


async def test_a_citizen_on_a_phone_completes_sipas_2023_in_vietnamese(site, phone):
    page = await phone.new_page()
    await page.goto(await site.link("sipas-2023"))
    assert await page.get_attribute("html", "lang") == "vi"
    await check_accessibility(page)
    await screenshot(page, "web-welcome")
    await goes(page, page.get_by_role("button", name="Bắt đầu khảo sát").tap())
    assert await page.locator(".progress label").inner_text() == "Câu 1/20"
    await answer_all(page, tap=True, shots="vi")
    assert "Xin cảm ơn Ông/Bà!" in await page.locator("h1").inner_text()
    assert await page.locator("main a, main button, main input").count() == 0  # nothing else to click
    assert await site.channels() == ["web"]


async def test_a_citizen_answers_sipas_quick_in_english(site, phone):
    page = await phone.new_page()
    await page.goto(await site.link("sipas-quick"))
    await goes(page, page.get_by_role("button", name="Answer in English").tap())
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.get_by_label("Very satisfied").count() == 1
    await answer_all(page, tap=True, shots="en", comment="Friendly staff.")
    assert await page.locator("h1").inner_text() == "Thank you!"


async def test_with_javascript_off_the_survey_still_works(site, phone_no_js):
    page = await phone_no_js.new_page()
    await page.goto(await site.link("sipas-quick"))
    await goes(page, page.get_by_role("button", name="Bắt đầu khảo sát").click())
    await page.locator(".option label").first.click()
    assert await page.locator(".progress label").inner_text() == "Câu 1/6"  # no script: choosing alone sends nothing
    await goes(page, page.click("button[value=answer]"))
    assert await page.locator(".progress label").inner_text() == "Câu 2/6"
    await answer_all(page, tap=False, shots="nojs")
    assert await site.channels() == ["web"]


async def test_by_keyboard_arrows_move_the_choice_and_enter_sends_it(site, phone):
    page = await phone.new_page()
    await page.goto(await site.link("sipas-quick"))
    await goes(page, page.get_by_role("button", name="Bắt đầu khảo sát").press("Enter"))
    await page.get_by_label("Rất hài lòng").focus()
    await page.keyboard.press("ArrowDown")  # selects "Hài lòng" without sending it
    assert await page.get_by_label("Hài lòng", exact=True).is_checked()
    assert await page.locator(".progress label").inner_text() == "Câu 1/6"
    await goes(page, page.keyboard.press("Enter"))
    assert await page.locator(".progress label").inner_text() == "Câu 2/6"
    await goes(page, page.get_by_role("button", name="Quay lại câu trước").press("Enter"))
    assert await page.get_by_label("Hài lòng", exact=True).is_checked()  # the earlier answer, shown again


async def test_the_other_pages_pass_the_checks(site, phone):
    page = await phone.new_page()
    for name, path in (("code", "/s"), ("unknown-link", "/s/" + "x" * 32), ("open", "/c/HN01"),
                       ("not-found", "/s/a/b")):
        await page.goto(site.base + path)
        await check_accessibility(page)
        await screenshot(page, f"web-{name}")
    await page.goto(await site.link("sipas-quick"))
    await goes(page, page.get_by_role("button", name="Bắt đầu khảo sát").tap())
    await goes(page, page.get_by_role("button", name="Bỏ qua câu này").tap())
    await goes(page, page.get_by_role("button", name="Dừng khảo sát").tap())
    assert "Ông/Bà có muốn dừng khảo sát không?" in await page.locator("main").inner_text()
    await check_accessibility(page)
    await screenshot(page, "web-stop")
    await goes(page, page.get_by_role("button", name="Có, dừng khảo sát").tap())
    await check_accessibility(page)
    await screenshot(page, "web-stopped")
    assert await site.channels() == []
