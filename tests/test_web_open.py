"""Open surveys at a counter (`GET /c/CENTRE`): started without an invitation where the centre accepts them, marked
`open_survey`, limited per browser and per client address to one a day per centre, and flagged in bursts."""

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from test_web import answer_quick
from web_browser import Browser

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.storage.models import Response
from bot.survey import directory


async def open_site(settings, **overrides):
    app = create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1", "default_survey": "sipas-quick",
                                                 **overrides}))
    client = TestClient(TestServer(app))
    await client.start_server()
    async with app[SERVICES].db.transaction() as session:
        await directory.add_centre(session, "XA01", "Bộ phận Một cửa xã Tân Lập", open_surveys=True)
        await directory.add_centre(session, "XA02", "Bộ phận Một cửa xã Hòa Bình")
    return app[SERVICES], client


@pytest.fixture
async def counter(settings):
    services, client = await open_site(settings)
    yield services, client
    await client.close()


async def stored(services):
    async with services.db.reading() as session:
        return (await session.execute(select(Response.channel, Response.open_survey, Response.flagged,
                                             Response.centre_id))).all()


async def complete_open(client, centre="XA01", address=None) -> tuple[Browser, object]:
    browser = Browser(client, address)
    first = await browser.get(f"/c/{centre}")
    if first.status != 200:
        return browser, first
    page = await browser.submit(first, "vi")
    return browser, await answer_quick(browser, page)


async def test_an_open_survey_is_stored_as_open_and_the_same_browser_is_thanked_the_second_time(counter):
    services, client = counter
    browser, end = await complete_open(client)
    try:
        assert end.has("Xin cảm ơn Ông/Bà!")
        assert [(c, o, f) for c, o, f, _ in await stored(services)] == [("web", True, False)]
        again = await browser.get("/c/XA01")
        assert again.status == 429 and again.has("Hôm nay Ông/Bà đã đánh giá trung tâm này")
    finally:
        await browser.close()


async def test_a_centre_without_open_surveys_or_unknown_asks_for_the_code(counter):
    _, client = counter
    browser = Browser(client)
    try:
        closed = await browser.get("/c/XA02")
        assert closed.status == 403 and closed.has("chỉ nhận khảo sát qua mã") and closed.form("/s")
        unknown = await browser.get("/c/NOPE")
        assert unknown.status == 404 and unknown.has("Không tìm thấy trung tâm")
    finally:
        await browser.close()


async def test_a_new_cookie_from_the_same_address_is_refused_the_same_day(counter):
    services, client = counter
    first, _ = await complete_open(client, address="10.251.0.1")
    second, page = await complete_open(client, address="10.251.0.1")
    try:
        assert page.status == 429
        assert len(await stored(services)) == 1
    finally:
        await first.close()
        await second.close()


async def test_the_first_page_posted_again_after_completing_starts_nothing(counter):
    services, client = counter
    browser = Browser(client)
    try:
        first = await browser.get("/c/XA01")
        page = await browser.submit(first, "vi")
        for _ in range(5):
            page = await browser.choose(page, "Hài lòng")
        end = await browser.submit(page, "answer", text="tab một")
        assert end.has("Xin cảm ơn")
        replay = await browser.post("/c/XA01", {**first.forms[0].hidden, "n": "2" * 32, "lang": "vi"})
        assert replay.status == 429
        assert len(await stored(services)) == 1
    finally:
        await browser.close()


async def test_bursts_from_one_address_are_flagged_where_the_address_limit_is_raised(settings):
    services, client = await open_site(settings, open_per_address=10)
    browsers = []
    try:
        for _ in range(4):
            browser, end = await complete_open(client, address="10.252.0.1")
            browsers.append(browser)
            assert end.has("Xin cảm ơn")
        calm, end = await complete_open(client, address="10.252.0.2")
        browsers.append(calm)
        flags = sorted(f for _, _, f, _ in await stored(services))
        assert flags == [False, False, False, True, True]  # the third and fourth of the burst
    finally:
        for browser in browsers:
            await browser.close()
        await client.close()


async def test_scanning_the_poster_again_in_the_same_browser_goes_on_where_it_was(counter):
    services, client = counter
    browser = Browser(client)
    try:
        page = await browser.submit(await browser.get("/c/XA01"), "vi")
        page = await browser.choose(await browser.choose(page, "Hài lòng"), "Hài lòng")
        assert page.has("Câu 3/6")
        again = await browser.submit(await browser.get("/c/XA01"), "vi")
        assert again.has("Câu 3/6")
        assert await stored(services) == []
    finally:
        await browser.close()
