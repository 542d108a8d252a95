"""`sipas-bot zalo authorize` / `zalo status` through the real CLI, and the OAuth callback route, against the fake
Zalo token endpoint on 127.0.0.1 and a real database."""

import asyncio
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from fake_zalo_oauth import FakeZaloOAuth, challenge_of
from pydantic import SecretStr
from sqlalchemy import select

from bot.http.app import create_app
from bot.http.errors import json_errors
from bot.http.keys import SERVICES, SETTINGS
from bot.http.zalo_oauth import routes
from bot.storage.models import AppState, ZaloToken

PUBLIC = "https://khaosat.tinh.gov.vn"
CALLBACK = PUBLIC + "/zalo/oauth/callback"


@pytest.fixture
async def fake():
    async with FakeZaloOAuth() as running:
        yield running


@pytest.fixture
def zalo_env(fake):
    return {"SIPAS_ZALO_APP_ID": fake.app_id, "SIPAS_ZALO_APP_SECRET": fake.secret,
            "SIPAS_ZALO_OA_SECRET": "oa-secret", "SIPAS_ZALO_OAUTH_URL": fake.url, "SIPAS_PUBLIC_URL": PUBLIC}


@pytest.fixture
def zalo_cli(cli, zalo_env):
    """`sipas-bot ARGS` with the Zalo app pointed at the fake, off the test's loop (the fake answers on it)."""

    async def run(*args, env=None):
        return await asyncio.to_thread(cli, *args, env={**zalo_env, **(env or {})})

    return run


async def pending(services) -> dict[str, dict]:
    async with services.db.reading() as session:
        rows = (await session.execute(select(AppState).where(AppState.key.startswith("zalo_oauth:")))).scalars()
        return {row.key.removeprefix("zalo_oauth:"): json.loads(row.value) for row in rows}


async def pair(services) -> ZaloToken | None:
    async with services.db.reading() as session:
        return await session.get(ZaloToken, "oa")


def printed_url(out: str) -> str:
    [url] = re.findall(r"http://127\.0\.0\.1:\d+/v4/oa/permission\?\S+", out)
    return url


async def test_authorize_prints_the_url_whose_challenge_is_the_stored_verifiers(zalo_cli, services, fake):
    code, out, err = await zalo_cli("zalo", "authorize")
    assert (code, err) == (0, "")
    query = {key: values[0] for key, values in parse_qs(urlsplit(printed_url(out)).query).items()}
    assert query["app_id"] == fake.app_id and query["redirect_uri"] == CALLBACK
    [(state, started)] = (await pending(services)).items()
    assert query["state"] == state
    assert len(started["verifier"]) >= 43 and query["code_challenge"] == challenge_of(started["verifier"])
    assert "=" not in query["code_challenge"]
    assert f"--code CODE --state {state}" in out  # and what to do next
    assert fake.secret not in out


async def test_an_explicit_redirect_uri_is_used_and_said(zalo_cli, services):
    code, out, _ = await zalo_cli("zalo", "authorize", "--redirect-uri", "https://example.org/cb",
                                  env={"SIPAS_PUBLIC_URL": ""})
    assert code == 0
    assert "redirect_uri=https%3A%2F%2Fexample.org%2Fcb" in printed_url(out)
    assert "sipas-bot serve" not in out  # that address is not this service's callback
    assert [s["redirect_uri"] for s in (await pending(services)).values()] == ["https://example.org/cb"]


@pytest.mark.parametrize(("args", "env", "says"), [
    (("zalo", "authorize"), {"SIPAS_PUBLIC_URL": ""}, "SIPAS_PUBLIC_URL"),
    (("zalo", "authorize", "--redirect-uri", "ftp://x/cb"), {}, "redirect address 'ftp://x/cb' is not valid"),
    (("zalo", "authorize"), {"SIPAS_ZALO_APP_SECRET": ""}, "SIPAS_ZALO_APP_SECRET"),
    (("zalo", "authorize", "--state", "abc"), {}, "--state only goes with --code"),
    (("zalo", "authorize", "--code", "c", "--redirect-uri", "https://x/cb"), {}, "--redirect-uri cannot be"),
    (("zalo", "authorize", "--code", "  "), {}, "authorization code (--code) is empty"),
    (("zalo", "authorize", "--code", "abc"), {}, "no authorization was started"),
])
async def test_bad_input_is_one_line_exit_1_and_nothing_stored(zalo_cli, services, args, env, says):
    code, out, err = await zalo_cli(*args, env=env)
    assert (code, out) == (1, "")
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert await pending(services) == {} and await pair(services) is None


async def test_the_code_is_exchanged_and_the_first_pair_stored(zalo_cli, services, fake):
    _, out, _ = await zalo_cli("zalo", "authorize")
    code_, state = fake.approve(printed_url(out))
    code, out, err = await zalo_cli("zalo", "authorize", "--code", code_, "--state", state)
    assert (code, err) == (0, "")
    assert "The Zalo OA is authorized: the access token is valid until" in out and "(Asia/Ho_Chi_Minh)" in out
    stored = await pair(services)
    assert fake.valid(stored.access_token) and stored.refresh_token.startswith("refresh-")
    assert fake.exchanges == 1
    assert await pending(services) == {}  # the started authorization is used up
    code, out, _ = await zalo_cli("zalo", "status")
    assert code == 0 and "Zalo OA: authorized" in out and "valid until" in out and "0 renewals" in out
    assert stored.access_token not in out and stored.refresh_token not in out


async def test_without_state_the_newest_authorization_is_used_and_the_whole_address_may_be_pasted(
        zalo_cli, services, fake):
    await zalo_cli("zalo", "authorize")
    _, out, _ = await zalo_cli("zalo", "authorize", env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert "Mở địa chỉ sau trong trình duyệt" in out
    code_, state = fake.approve(printed_url(out))
    code, out, err = await zalo_cli("zalo", "authorize", "--code", f"{CALLBACK}?code={code_}&oa_id=1",
                                    env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert (code, err) == (0, "") and "Đã ủy quyền OA Zalo" in out
    assert fake.valid((await pair(services)).access_token)
    assert state not in await pending(services) and len(await pending(services)) == 1  # the other one stays


async def test_an_unknown_state_or_a_refused_code_stores_nothing_and_the_right_code_still_works(
        zalo_cli, services, fake):
    _, out, _ = await zalo_cli("zalo", "authorize")
    code_, state = fake.approve(printed_url(out))
    code, out, err = await zalo_cli("zalo", "authorize", "--code", code_, "--state", "not-ours")
    assert (code, out) == (1, "") and "no authorization was started with state 'not-ours'" in err
    code, out, err = await zalo_cli("zalo", "authorize", "--code", "mistyped", "--state", state)
    assert (code, out) == (1, "")
    assert "Zalo refused the authorization code (the code is invalid or was used (-14019))" in err
    assert len(err.strip().splitlines()) == 1
    # A wrong app secret is refused by Zalo too.
    code, _, err = await zalo_cli("zalo", "authorize", "--code", code_, "--state", state,
                                  env={"SIPAS_ZALO_APP_SECRET": "wrong"})
    assert code == 1 and "secret_key is missing or wrong" in err
    assert await pair(services) is None and list(await pending(services)) == [state]
    # Zalo refused the mistyped code but never saw the right one: it still works.
    code, _, _ = await zalo_cli("zalo", "authorize", "--code", code_, "--state", state)
    assert code == 0 and fake.valid((await pair(services)).access_token)


async def test_the_token_endpoint_unreachable_is_one_line(zalo_cli, services, fake):
    _, out, _ = await zalo_cli("zalo", "authorize")
    code_, state = fake.approve(printed_url(out))
    code, _, err = await zalo_cli("zalo", "authorize", "--code", code_, "--state", state,
                                  env={"SIPAS_ZALO_OAUTH_URL": "http://127.0.0.1:9"})
    assert code == 1 and "cannot reach Zalo's OAuth server http://127.0.0.1:9/v4/oa/access_token" in err
    assert len(err.strip().splitlines()) == 1 and await pair(services) is None


async def test_status_before_any_authorization(zalo_cli):
    code, out, _ = await zalo_cli("zalo", "status")
    assert (code, out.strip()) == (0, "Zalo OA: not authorized (run `sipas-bot zalo authorize`).")


# The callback route. create_app builds the OA channel when the OA is configured (its branch); the route itself is
# tested on an app holding just it, as create_app adds it.
@pytest.fixture
async def callback_client(services, fake):
    settings = services.settings.model_copy(update={
        "zalo_app_id": fake.app_id, "zalo_app_secret": SecretStr(fake.secret), "zalo_oa_secret": SecretStr("s"),
        "zalo_oauth_url": fake.url, "public_url": PUBLIC})
    app = web.Application(middlewares=[json_errors])
    app[SETTINGS], app[SERVICES] = settings, services.__class__(settings, {}, services.db, services.secret_key)
    app.router.add_routes(routes(settings))
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def test_the_callback_exchanges_the_code_and_says_so_in_vietnamese(zalo_cli, callback_client, services, fake):
    _, out, _ = await zalo_cli("zalo", "authorize")
    code_, state = fake.approve(printed_url(out))
    answer = await callback_client.get("/zalo/oauth/callback", params={"code": code_, "state": state, "oa_id": "1"})
    page = await answer.text()
    assert answer.status == 200 and answer.content_type == "text/html"
    assert "Đã ủy quyền OA Zalo cho sipas-bot" in page and "Asia/Ho_Chi_Minh" in page
    assert fake.valid((await pair(services)).access_token) and await pending(services) == {}
    # The same code again (a reload of the page): refused, and the stored pair is untouched.
    before = (await pair(services)).access_token
    again = await callback_client.get("/zalo/oauth/callback", params={"code": code_, "state": state},
                                      headers={"Accept": "application/json"})
    assert again.status == 400
    assert (await again.json())["ok"] is False
    assert (await pair(services)).access_token == before


@pytest.mark.parametrize("params", [{"state": "x"}, {"code": "c"}, {"code": "c", "state": "not-ours"}])
async def test_the_callback_without_a_code_or_with_an_unknown_state_stores_nothing(callback_client, services,
                                                                                   params):
    answer = await callback_client.get("/zalo/oauth/callback", params=params)
    assert answer.status == 400 and "Chưa ủy quyền được" in await answer.text()
    assert await pair(services) is None


def test_the_callback_is_served_only_with_a_public_url_and_the_oa_configured(settings):
    configured = {"zalo_app_id": "1", "zalo_app_secret": SecretStr("a"), "zalo_oa_secret": SecretStr("b")}
    assert routes(settings.model_copy(update=configured)) == []
    assert routes(settings.model_copy(update={"public_url": PUBLIC})) == []
    [route] = routes(settings.model_copy(update={**configured, "public_url": PUBLIC}))
    assert route.path == "/zalo/oauth/callback"
    app = create_app(settings.model_copy(update={"public_url": PUBLIC}), instruments={})
    assert "/zalo/oauth/callback" not in {r.resource.canonical for r in app.router.routes()}
