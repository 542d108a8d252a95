"""The browser harness itself (tests/browser.py): a real aiohttp server on 127.0.0.1, a real Chromium, axe-core."""

import socket
import struct

import pytest
import pytest_asyncio
from aiohttp import web
from browser import assert_offline, check_accessibility, chromium_path, require_session_loop, screenshot

HEAD = '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
PAGES = {
    # Tall (style.css), so that a full-page screenshot is taller than the phone's screen.
    "/good": f"""<!doctype html><html lang="vi"><head>{HEAD}<title>Khảo sát mức độ hài lòng</title>
        <link rel="stylesheet" href="/style.css"></head><body><main><h1>Khảo sát mức độ hài lòng</h1>
        <form method="post"><label for="name">Họ và tên</label><input id="name" name="name" type="text">
        <button type="submit">Gửi</button></form>
        <noscript><p>Trang này dùng được cả khi không có JavaScript.</p></noscript></main></body></html>""",
    "/bad": f"""<!doctype html><html><head>{HEAD}<title>Thiếu nhãn</title></head><body><main><h1>Thiếu nhãn</h1>
        <input type="text" name="q"></main></body></html>""",
    # Only what <noscript> holds is wrong: axe-core by itself would call it hidden and pass the page.
    "/noscript": f"""<!doctype html><html lang="vi"><head>{HEAD}<title>Không có JavaScript</title></head><body>
        <main><h1>Không có JavaScript</h1><noscript><input type="text" name="q"></noscript></main></body></html>""",
    "/script": f"""<!doctype html><html lang="vi"><head>{HEAD}<title>JavaScript</title></head><body><main>
        <p id="state">tắt</p><script>document.getElementById("state").textContent = "bật"</script></main>
        </body></html>""",
    "/external": f"""<!doctype html><html lang="vi"><head>{HEAD}<title>Ảnh ngoài</title></head><body><main>
        <h1>Ảnh ngoài</h1><img id="logo" src="https://example.org/logo.png" alt="Biểu trưng"></main></body></html>""",
}
CSS = "body { font: 16px/1.5 sans-serif; color: #1a1a1a; background: #fff; margin: 0 16px } main { min-height: 1500px }"


async def _websocket(request: web.Request) -> web.WebSocketResponse:
    socket_ = web.WebSocketResponse()
    await socket_.prepare(request)
    await socket_.send_str("xin chào")
    await socket_.close()
    return socket_


async def _page(request: web.Request) -> web.Response:
    if request.path == "/style.css":
        return web.Response(text=CSS, content_type="text/css")
    return web.Response(text=PAGES[request.path], content_type="text/html")


@pytest_asyncio.fixture(loop_scope="session")  # as the browser tests that use it
async def server():
    """The pages above on a real aiohttp server (on every address, for the WebSocket test); yields its port."""
    app = web.Application()
    for path in [*PAGES, "/style.css"]:
        app.router.add_get(path, _page)
    app.router.add_get("/ws", _websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_an_accessible_page_passes_and_is_photographed_whole(server, phone, monkeypatch, tmp_path):
    monkeypatch.setenv("SIPAS_SCREENSHOTS", str(tmp_path / "shots"))
    page = await phone.new_page()
    await page.goto(f"http://127.0.0.1:{server}/good")
    assert await page.evaluate("getComputedStyle(document.querySelector('main')).minHeight") == "1500px"
    await check_accessibility(page)
    path = await screenshot(page, "harness-good")
    assert path == tmp_path / "shots" / "harness-good.png"
    width, height = _png_size(path.read_bytes())
    assert width == 720 and height > 3000  # 360 px at scale 2; the whole page, not the 740 px screen
    with pytest.raises(ValueError, match="plain file name"):
        await screenshot(page, "../elsewhere")


async def test_a_page_with_violations_fails_with_rule_ids_and_html(server, phone):
    page = await phone.new_page()
    await page.goto(f"http://127.0.0.1:{server}/bad")
    with pytest.raises(pytest.fail.Exception) as failure:
        await check_accessibility(page)
    message = str(failure.value)
    assert "2 WCAG 2.0/2.1 A/AA violation(s)" in message
    assert "- html-has-lang (serious)" in message
    assert "- label (critical)" in message
    assert '<input type="text" name="q">' in message


async def test_without_javascript_scripts_do_not_run_and_noscript_content_is_checked(server, phone, phone_no_js):
    with_js, without_js = await phone.new_page(), await phone_no_js.new_page()
    for page in (with_js, without_js):
        await page.goto(f"http://127.0.0.1:{server}/script")
    assert await with_js.text_content("#state") == "bật"
    assert await without_js.text_content("#state") == "tắt"

    await without_js.goto(f"http://127.0.0.1:{server}/noscript")
    with pytest.raises(pytest.fail.Exception, match=r"- label \(critical\)"):
        await check_accessibility(without_js)
    # The page is as it was: its <noscript> is back, its timers are the browser's own.
    assert await without_js.evaluate("document.querySelectorAll('noscript').length") == 1
    assert await without_js.evaluate("String(setTimeout).includes('[native code]')")
    await without_js.goto(f"http://127.0.0.1:{server}/good")
    await check_accessibility(without_js)


async def test_an_external_resource_is_blocked_and_reported(server, phone):
    page = await phone.new_page()
    await page.goto(f"http://127.0.0.1:{server}/external")
    assert await page.evaluate("document.getElementById('logo').naturalWidth") == 0
    with pytest.raises(pytest.fail.Exception) as failure:
        await check_accessibility(page)
    assert f"image https://example.org/logo.png (asked by http://127.0.0.1:{server}/external)" in str(failure.value)
    assert_offline(page)  # reported once: the context's exit does not fail the test again


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # picks the outgoing interface; sends nothing
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_a_websocket_beyond_loopback_is_refused_by_the_browser_and_reported(server, phone):
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    page = await phone.new_page()
    await page.goto(f"http://127.0.0.1:{server}/good")
    connect = "url => new Promise(done => { const s = new WebSocket(url); s.onmessage = e => done(e.data); " \
              "s.onerror = () => done('refused'); })"
    assert await page.evaluate(connect, f"ws://127.0.0.1:{server}/ws") == "xin chào"
    # The same server on this machine's other address: routes do not see WebSockets, the dead proxy stops it.
    assert await page.evaluate(connect, f"ws://{address}:{server}/ws") == "refused"
    with pytest.raises(pytest.fail.Exception, match=f"websocket ws://{address}:{server}/ws"):
        assert_offline(page)


def test_a_missing_browser_skips_locally_and_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("SIPAS_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"needs Chromium at .*: apt-get install chromium"):
        chromium_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        chromium_path()


@pytest.fixture
async def on_a_function_loop():
    return "a value made on this test's own loop"


async def test_a_browser_test_off_the_session_loop_is_refused_with_the_fix(request, on_a_function_loop):
    # This test takes no browser fixture, so it stays on its own loop: what `browser` would refuse.
    with pytest.raises(pytest.fail.Exception) as refusal:
        require_session_loop(request)
    assert 'the test: mark it @pytest.mark.asyncio(loop_scope="session")' in str(refusal.value)
    assert ("the fixture 'on_a_function_loop' runs on a loop of its own: take one made with "
            '@pytest_asyncio.fixture(loop_scope="session") instead') in str(refusal.value)
