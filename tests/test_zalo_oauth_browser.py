"""The page the OA's admin sees when Zalo sends them back (`GET /zalo/oauth/callback`), in a real Chromium: the
first token pair stored and said in Vietnamese, the same code again refused politely, a link without a code
explained; axe-core finds no WCAG 2.1 A or AA violation; screenshots in build/screenshots/zalo-oauth-*.png."""

import pytest_asyncio
from aiohttp import web
from browser import check_accessibility, screenshot
from fake_zalo_oauth import FakeZaloOAuth

from bot.config import Settings
from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.storage.models import ZaloToken
from bot.zalo import oauth

APP_ID = "4291763606161179100"


@pytest_asyncio.fixture(loop_scope="session")
async def site(settings):
    async with FakeZaloOAuth(app_id=APP_ID) as fake:
        zalo = Settings(**{**settings.model_dump(), "_env_file": None,
            "public_url": "https://khaosat.example.gov.vn", "zalo_app_id": APP_ID, "zalo_app_secret": "app-secret",
            "zalo_oa_secret": "oa-secret", "zalo_oauth_url": fake.url, "zalo_oa_api_url": "http://127.0.0.1:9",
            "web_survey": False})
        runner = web.AppRunner(create_app(zalo))
        await runner.setup()
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        base = f"http://127.0.0.1:{tcp._server.sockets[0].getsockname()[1]}"
        yield base, runner.app[SERVICES], fake
        await runner.cleanup()


async def test_the_callback_pages_an_oa_admin_sees(site, phone):
    base, services, fake = site
    started = await oauth.start(services, None)
    assert started.redirect_uri == "https://khaosat.example.gov.vn/zalo/oauth/callback"
    code, state = fake.approve(started.url)
    page = await phone.new_page()
    answer = await page.goto(f"{base}/zalo/oauth/callback?code={code}&state={state}&oa_id=4318")
    assert answer.status == 200
    assert await page.title() == "Ủy quyền OA Zalo"
    assert (await page.inner_text("p")).startswith("Đã ủy quyền OA Zalo cho sipas-bot. Access token có hiệu lực đến")
    await check_accessibility(page)
    await screenshot(page, "zalo-oauth-ok")
    async with services.db.reading() as session:
        assert (await session.get(ZaloToken, "oa")) is not None

    again = await page.goto(f"{base}/zalo/oauth/callback?code={code}&state={state}")
    assert again.status >= 400 and (await page.inner_text("p")).startswith("Chưa ủy quyền được: ")
    await screenshot(page, "zalo-oauth-refused")
    bare = await page.goto(f"{base}/zalo/oauth/callback")
    assert bare.status == 400 and "hãy chạy lại `sipas-bot zalo authorize`" in await page.inner_text("p")
    await check_accessibility(page)
    await page.close()
