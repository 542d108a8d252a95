"""The Zalo OA's tokens (bot/zalo/tokens.py) on a real database against the fake token endpoint: refreshed before
expiry and after Zalo refused a token, one refresh at a time across workers with their own database connections,
and a reused refresh token refused without losing what is stored."""

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import sys

import aiohttp
import pytest
from aiohttp import web
from conftest import database_env
from fake_zalo_oauth import FakeZaloOAuth
from pydantic import SecretStr

from adapters.zalo_oa.api import OAApi
from bot.services import Services
from bot.storage.database import Database
from bot.storage.models import ZaloToken, utcnow
from bot.zalo.oauth import aware
from bot.zalo.tokens import NotAuthorized, OATokens


@pytest.fixture
async def fake():
    async with FakeZaloOAuth() as running:
        yield running


@pytest.fixture
async def zalo(services, fake):
    """The services with the Zalo app pointed at the fake."""
    settings = services.settings.model_copy(update={
        "zalo_app_id": fake.app_id, "zalo_app_secret": SecretStr(fake.secret), "zalo_oa_secret": SecretStr("oa-secret"),
        "zalo_oauth_url": fake.url})
    return dataclasses.replace(services, settings=settings)


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def seed(services, fake, expires_in: dt.timedelta) -> dict:
    pair = fake.issue()
    async with services.db.transaction() as session:
        session.add(ZaloToken(name="oa", access_token=pair["access_token"], refresh_token=pair["refresh_token"],
                              expires_at=utcnow() + expires_in))
    return pair


async def stored(services) -> tuple:
    async with services.db.reading() as session:
        row = await session.get(ZaloToken, "oa")
    return (row.access_token, row.refresh_token, aware(row.expires_at), aware(row.refreshed_at), row.refreshes)


async def test_a_token_far_from_expiry_is_used_as_it_is(zalo, fake, http):
    pair = await seed(zalo, fake, dt.timedelta(hours=24))
    tokens = OATokens(zalo, http)
    assert await tokens.access_token() == pair["access_token"]
    assert await tokens.access_token() == pair["access_token"]
    assert fake.refresh_requests == 0


async def test_a_token_near_expiry_is_refreshed_first_and_both_new_tokens_are_stored(zalo, fake, http):
    old = await seed(zalo, fake, dt.timedelta(minutes=30))
    before = utcnow()
    token = await OATokens(zalo, http).access_token()
    assert token != old["access_token"] and fake.valid(token)
    access, refresh, expires_at, refreshed_at, refreshes = await stored(zalo)
    assert (access, refreshes) == (token, 1)
    assert refresh != old["refresh_token"]  # the rotated refresh token was kept, the spent one is gone
    assert before + dt.timedelta(seconds=fake.expires_in - 5) < expires_at <= utcnow() + dt.timedelta(
        seconds=fake.expires_in)
    assert refreshed_at >= before
    # The next use finds a fresh token: no second refresh.
    assert await OATokens(zalo, http).access_token() == token
    assert fake.refresh_requests == 1


async def test_a_refused_token_is_refreshed_once_even_if_reported_again(zalo, fake, http):
    old = await seed(zalo, fake, dt.timedelta(hours=24))
    fake.expire(old["access_token"])  # Zalo revoked it early: the API answers -216 to it
    tokens = OATokens(zalo, http)
    new = await tokens.refreshed_after(old["access_token"])
    assert new != old["access_token"] and fake.valid(new)
    # A second caller that got -216 with the same old token gets the new one, without another refresh.
    assert await OATokens(zalo, http).refreshed_after(old["access_token"]) == new
    assert await tokens.access_token() == new
    assert (fake.refresh_requests, fake.refreshes) == (1, 1)


async def test_the_oa_api_client_refreshes_on_216_and_retries_with_the_new_token(zalo, fake, http):
    # A minimal OA endpoint that answers as Zalo does to an expired token (error -216 with HTTP 200).
    async def send(request):
        if not fake.valid(request.headers.get("access_token", "")):
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": "m1"}})

    app = web.Application()
    app.router.add_post("/v3.0/oa/message/cs", send)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        old = await seed(zalo, fake, dt.timedelta(hours=24))
        fake.expire(old["access_token"])
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/v3.0/oa/message/cs"
        assert await OAApi(http, OATokens(zalo, http)).call("POST", url, json={}) == {"message_id": "m1"}
        assert fake.refreshes == 1
    finally:
        await runner.cleanup()


def worker(services: Services, database: Database) -> Services:
    return dataclasses.replace(services, db=database)


@pytest.mark.parametrize("how", ["near expiry", "after a refused token"])
async def test_two_workers_refreshing_at_once_make_one_refresh_and_both_get_the_new_token(zalo, fake, http, how):
    old = await seed(zalo, fake, dt.timedelta(minutes=5 if how == "near expiry" else 24 * 60))
    fake.refresh_delay = 0.3  # both callers are inside their refresh before Zalo answers the first
    # Two workers as two processes would be: each its own Database (its own connections to the same file or
    # server) and its own OATokens (its own in-process lock), so only the database lock stands between them.
    url = zalo.settings.resolved_database_url
    databases = [Database(url), Database(url)]
    try:
        workers = [OATokens(worker(zalo, database), http) for database in databases]
        if how == "near expiry":
            calls = [tokens.access_token() for tokens in workers]
        else:
            assert [await tokens.access_token() for tokens in workers] == [old["access_token"]] * 2  # kept
            fake.expire(old["access_token"])
            calls = [tokens.refreshed_after(old["access_token"]) for tokens in workers]
        first, second = await asyncio.wait_for(asyncio.gather(*calls), 20)
        assert [await tokens.access_token() for tokens in workers] == [first, first]  # and they go on with it
    finally:
        for database in databases:
            await database.dispose()
    assert first == second != old["access_token"]
    assert fake.valid(first)
    assert (fake.refresh_requests, fake.refreshes) == (1, 1)
    access, _, _, _, refreshes = await stored(zalo)
    assert (access, refreshes) == (first, 1)


async def spend(http, fake, refresh_token: str) -> None:
    """Someone else spends our refresh token (a copy of the database, a refresh whose answer was lost)."""
    async with http.post(f"{fake.url}/v4/oa/access_token", headers={"secret_key": fake.secret}, data={
            "app_id": fake.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}) as answer:
        assert "access_token" in await answer.json()


async def test_a_reused_refresh_token_is_refused_and_nothing_stored_is_lost(zalo, fake, http, caplog):
    old = await seed(zalo, fake, dt.timedelta(minutes=-1))  # expired: it must be refreshed to go on
    await spend(http, fake, old["refresh_token"])
    before = await stored(zalo)
    tokens = OATokens(zalo, http)
    with caplog.at_level(logging.ERROR, logger="bot.zalo.tokens"), pytest.raises(NotAuthorized) as refused:
        await tokens.access_token()
    assert "sipas-bot zalo authorize" in str(refused.value)
    assert "used already" in str(refused.value)  # Zalo's own reason is shown
    assert await stored(zalo) == before
    # Asked again, it is refused at once: the dead refresh token is not sent again, nor logged again.
    with caplog.at_level(logging.ERROR, logger="bot.zalo.tokens"), pytest.raises(NotAuthorized):
        await tokens.refreshed_after(old["access_token"])
    assert fake.refresh_requests == 2  # ours once, plus the one spent above
    assert len([r for r in caplog.records if r.name == "bot.zalo.tokens"]) == 1
    assert await stored(zalo) == before


async def test_without_a_pair_the_oa_is_not_authorized(zalo, http):
    tokens = OATokens(zalo, http)
    for call in (tokens.access_token(), tokens.refreshed_after("x")):
        with pytest.raises(NotAuthorized, match="sipas-bot zalo authorize"):
            await call


async def test_while_the_token_still_works_a_failed_refresh_keeps_using_it(zalo, fake, http, caplog):
    old = await seed(zalo, fake, dt.timedelta(minutes=20))  # within the margin, not expired
    await spend(http, fake, old["refresh_token"])
    tokens = OATokens(zalo, http)
    with caplog.at_level(logging.ERROR, logger="bot.zalo.tokens"):
        assert await tokens.access_token() == old["access_token"]  # refused refresh: said in the log, token used
        assert await tokens.access_token() == old["access_token"]
    assert fake.refresh_requests == 2 and len([r for r in caplog.records if r.name == "bot.zalo.tokens"]) == 1
    with pytest.raises(NotAuthorized):  # but a token Zalo refused needs the refresh
        await tokens.refreshed_after(old["access_token"])


async def test_zalo_unreachable_the_token_is_used_until_it_expires_then_the_error_is_raised(zalo, fake, http):
    from bot.zalo.oauth import OAuthUnreachable

    away = dataclasses.replace(zalo, settings=zalo.settings.model_copy(update={"zalo_oauth_url": "http://127.0.0.1:9"}))
    old = await seed(zalo, fake, dt.timedelta(minutes=20))
    assert await OATokens(away, http).access_token() == old["access_token"]
    with pytest.raises(OAuthUnreachable, match="cannot reach Zalo's OAuth server"):
        await OATokens(away, http).refreshed_after(old["access_token"])
    assert (await stored(zalo))[0] == old["access_token"]


async def test_after_zalo_was_unreachable_it_is_not_asked_again_for_a_while(zalo, fake, http):
    from bot.zalo.oauth import OAuthUnreachable

    old = await seed(zalo, fake, dt.timedelta(minutes=20))
    fake.down = True
    tokens = OATokens(zalo, http)
    assert await tokens.access_token() == old["access_token"]  # could not refresh: the working token is used
    assert await tokens.access_token() == old["access_token"]
    for _ in range(2):  # a refused token needs the refresh: the error, at once the second time
        with pytest.raises(OAuthUnreachable, match="HTTP 503"):
            await tokens.refreshed_after(old["access_token"])
    assert len(fake.calls) == 1  # each attempt holds the lock while it waits: one a minute at most
    fake.down = False
    assert fake.valid(await OATokens(zalo, http).refreshed_after(old["access_token"]))  # a fresh worker: refreshed


async def test_a_pair_answered_under_data_is_accepted_too(zalo, fake, http):
    old = await seed(zalo, fake, dt.timedelta(minutes=5))
    fake.answer_in_data = True
    token = await OATokens(zalo, http).access_token()
    assert token != old["access_token"] and fake.valid(token)


REFRESH_IN_A_PROCESS = """
import asyncio, aiohttp
from bot.config import Settings
from bot.services import open_services
from bot.zalo.tokens import OATokens

async def main(stale):
    async with open_services(Settings(), instruments=False) as services, aiohttp.ClientSession() as http:
        print(await OATokens(services, http).refreshed_after(stale))

import sys; asyncio.run(main(sys.argv[1]))
"""


async def test_two_processes_refreshing_at_once_make_one_refresh(zalo, fake, tmp_path):
    old = await seed(zalo, fake, dt.timedelta(hours=24))
    fake.expire(old["access_token"])
    fake.refresh_delay = 1.5  # longer than the start-up skew of two processes started together
    env = {**os.environ, "SIPAS_DATA_DIR": str(tmp_path / "data"), **database_env(zalo.settings),
           "SIPAS_ZALO_APP_ID": fake.app_id, "SIPAS_ZALO_APP_SECRET": fake.secret, "SIPAS_ZALO_OAUTH_URL": fake.url}
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", REFRESH_IN_A_PROCESS, old["access_token"], env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE) for _ in range(2)]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 60)
    assert [p.returncode for p in processes] == [0, 0], outputs
    [(first, _), (second, _)] = outputs
    assert first.strip() == second.strip() == (await stored(zalo))[0].encode()
    assert (fake.refresh_requests, fake.refreshes) == (1, 1)
