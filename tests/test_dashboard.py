"""Logging in to the dashboard on a real server and SQLite file: with an API key, with a one-time link (once only,
not after 15 minutes, not for a revoked key), the session cookie's flags, a revoked key ending its session, CSRF
tokens (missing or wrong: 403), logout; and `sipas-bot admin login-link` and `serve --demo` printing links."""

import datetime as dt
import json
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from dashboard_world import csrf_of, log_in, seed
from sqlalchemy import select, update

from bot.http.app import create_app
from bot.storage.models import AppState
from bot.survey.api_keys import revoke_key
from bot.survey.login_links import PREFIX, create_link_token


@pytest.fixture
async def world(services):
    return await seed(services)


async def link_for(services, key_id: int) -> str:
    async with services.db.transaction() as session:
        return "/dashboard/login/" + await create_link_token(session, key_id)


async def use_link(client, path: str):
    page = await client.get(path)
    assert page.status == 200
    return await client.post(path, data={"csrf": csrf_of(await page.text())}, allow_redirects=False)


async def test_without_a_session_every_page_leads_to_the_login_form(world, client):
    for path in ("/dashboard", "/dashboard/centre/HP", "/dashboard/export.csv"):
        answer = await client.get(path, allow_redirects=False)
        assert answer.status == 303 and answer.headers["Location"] == "/dashboard/login"
    form = await client.get("/dashboard/login")
    html = await form.text()
    assert form.status == 200 and "Đăng nhập" in html and 'type="password"' in html and 'lang="vi"' in html


async def test_a_key_logs_in_and_the_cookie_is_signed_httponly_and_strict(world, client):
    answer = await log_in(client, world.keys["admin"])
    assert answer.status == 303 and answer.headers["Location"] == "/dashboard"
    cookie = next(c for c in answer.headers.getall("Set-Cookie") if c.startswith("sipas_dash="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # the public URL is not https here
    assert world.keys["admin"] not in cookie  # the key's id and an expiry, never the key
    overview = await client.get("/dashboard")
    assert overview.status == 200 and "Xếp hạng trung tâm" in await overview.text()


async def test_a_wrong_key_is_refused_with_the_form_again(world, client):
    answer = await log_in(client, "sk_not-a-key")
    assert answer.status == 401
    assert "Khóa API không đúng hoặc đã bị thu hồi." in await answer.text()
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303


async def test_a_forged_session_cookie_is_no_session(world, client):
    await log_in(client, world.keys["staff_tb"])
    real = next(c for c in client.session.cookie_jar if c.key == "sipas_dash").value
    _key_id, expires, nonce, signature = real.split(".")
    forged = f"{world.ids['admin']}.{expires}.{nonce}.{signature}"  # another key's id under the same signature
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"sipas_dash": forged})
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303


async def test_the_cookie_is_secure_behind_an_https_public_url(world, settings):
    secure = settings.model_copy(update={"public_url": "https://sipas.example.vn"})
    async with TestClient(TestServer(create_app(secure))) as client:
        form = await client.get("/dashboard/login")
        pre = next(c for c in form.headers.getall("Set-Cookie") if c.startswith("sipas_dash_pre="))
        assert "Secure" in pre and "HttpOnly" in pre and "SameSite=Strict" in pre
        # A browser sends a Secure cookie over https only; this test server speaks http, so it is sent by hand.
        answer = await client.post("/dashboard/login", allow_redirects=False, headers={
            "Cookie": pre.split(";")[0]}, data={"csrf": csrf_of(await form.text()), "key": world.keys["admin"]})
        cookie = next(c for c in answer.headers.getall("Set-Cookie") if c.startswith("sipas_dash="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_a_login_link_works_once(world, services, client):
    path = await link_for(services, world.ids["admin"])
    page = await client.get(path)
    assert "Liên kết này chỉ dùng được một lần" in await page.text()
    answer = await client.post(path, data={"csrf": csrf_of(await page.text())}, allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/dashboard"
    assert (await client.get("/dashboard")).status == 200
    async with TestClient(TestServer(create_app(services.settings))) as other:  # someone else, the same link
        again = await use_link(other, path)
        assert again.status == 401 and "đã dùng rồi" in await again.text()
        assert (await other.get("/dashboard", allow_redirects=False)).status == 303


async def test_only_the_hash_of_a_link_is_stored(world, services):
    path = await link_for(services, world.ids["admin"])
    token = path.rsplit("/", 1)[1]
    async with services.db.reading() as session:
        stored = (await session.execute(select(AppState).where(AppState.key.startswith(PREFIX)))).scalars().all()
    assert len(stored) == 1 and token not in stored[0].key and token not in stored[0].value


async def test_an_expired_link_is_refused(world, services, client):
    path = await link_for(services, world.ids["admin"])
    async with services.db.transaction() as session:  # 16 minutes later: what the row says, moved back
        row = (await session.execute(select(AppState).where(AppState.key.startswith(PREFIX)))).scalar_one()
        stored = json.loads(row.value)
        stored["expires"] = (dt.datetime.fromisoformat(stored["expires"]) - dt.timedelta(minutes=16)).isoformat()
        await session.execute(update(AppState).where(AppState.key == row.key).values(value=json.dumps(stored)))
    answer = await use_link(client, path)
    assert answer.status == 401 and "đã hết hạn" in await answer.text()
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303


async def test_a_link_whose_key_was_revoked_is_refused(world, services, client):
    path = await link_for(services, world.ids["staff_tb"])
    async with services.db.transaction() as session:
        await revoke_key(session, world.ids["staff_tb"])
    assert (await use_link(client, path)).status == 401


async def test_revoking_the_key_ends_its_session(world, services, client):
    await log_in(client, world.keys["viewer_qn"])
    assert (await client.get("/dashboard")).status == 200
    async with services.db.transaction() as session:
        await revoke_key(session, world.ids["viewer_qn"])
    answer = await client.get("/dashboard", allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/dashboard/login"


@pytest.mark.parametrize("token", [None, "0" * 32])
async def test_a_post_without_its_csrf_token_is_refused(world, client, token):
    form = await client.get("/dashboard/login")
    assert form.status == 200
    data = {"key": world.keys["admin"], **({"csrf": token} if token else {})}
    answer = await client.post("/dashboard/login", data=data, allow_redirects=False)
    assert answer.status == 403 and "Không được phép" in await answer.text()
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303  # not logged in
    await log_in(client, world.keys["admin"])
    logout = await client.post("/dashboard/logout", data=({"csrf": token} if token else {}), allow_redirects=False)
    assert logout.status == 403
    assert (await client.get("/dashboard")).status == 200  # still logged in


async def test_the_csrf_token_of_one_session_does_not_fit_another(world, services, client):
    await log_in(client, world.keys["admin"])
    stolen = csrf_of(await (await client.get("/dashboard")).text())
    async with TestClient(TestServer(create_app(services.settings))) as other:
        await log_in(other, world.keys["admin"])
        answer = await other.post("/dashboard/logout", data={"csrf": stolen}, allow_redirects=False)
        assert answer.status == 403


async def test_logout_ends_the_session(world, client):
    await log_in(client, world.keys["admin"])
    page = await client.get("/dashboard")
    answer = await client.post("/dashboard/logout", data={"csrf": csrf_of(await page.text())},
                               allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/dashboard/login"
    assert any(c.startswith("sipas_dash=;") or 'sipas_dash=""' in c for c in answer.headers.getall("Set-Cookie"))
    assert (await client.get("/dashboard", allow_redirects=False)).status == 303


async def test_the_cli_prints_a_link_that_logs_in(world, cli, client):
    code, out, err = cli("admin", "login-link", "--key-id", str(world.ids["staff_tb"]))
    assert code == 0, err
    link = re.search(r"http://\S+/dashboard/login/(\S+)", out)
    assert link and "15 minutes" in out
    answer = await use_link(client, f"/dashboard/login/{link.group(1)}")
    assert answer.status == 303
    assert "TB" in await (await client.get("/dashboard")).text()


async def test_the_cli_makes_an_admin_key_for_a_link(world, cli, client):
    code, out, err = cli("admin", "login-link", "--role", "admin")
    assert code == 0, err
    token = re.search(r"/dashboard/login/(\S+)", out).group(1)
    assert (await use_link(client, f"/dashboard/login/{token}")).status == 303
    code, listing, _ = cli("apikey", "list")
    assert "dashboard  admin" in listing


@pytest.mark.parametrize("args", [(), ("--key-id", "1", "--role", "admin"), ("--key-id", "99")])
async def test_the_cli_refuses_a_link_it_cannot_make(world, cli, args):
    code, out, err = cli("admin", "login-link", *args)
    assert code == 1 and not out
    assert ("--key-id" in err) if len(args) != 2 else "no valid API key with id 99" in err


async def test_serve_demo_prints_a_login_link_for_a_new_admin_key_the_first_time(services):
    from bot.cli.dashboard import demo_login

    first = await demo_login(services)
    link = re.search(r"/dashboard/login/(\S+)", first)
    assert link, first
    second = await demo_login(services)  # an admin key exists now: no second key, only where the dashboard is
    assert "/dashboard/login/" not in second and "/dashboard" in second
    async with TestClient(TestServer(create_app(services.settings))) as client:
        assert (await use_link(client, f"/dashboard/login/{link.group(1)}")).status == 303
        assert (await client.get("/dashboard")).status == 200
