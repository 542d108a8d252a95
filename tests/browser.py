"""Real-browser tests: Debian's Chromium driven by Playwright's async API, axe-core checks and screenshots.

Every context made by `offline_context` stays on this machine: a request to anything but 127.0.0.1/localhost is
aborted and recorded, and the test fails when it looks (`assert_offline`, which `check_accessibility`,
`screenshot` and the context's exit call). Chromium also gets a proxy that does not exist for everything that is
not loopback, so what routes do not see (WebSockets, the browser's own requests) cannot leave either.
The fixtures that use this (tests/conftest.py): `browser`, `phone`, `phone_no_js`. They share one Chromium per
xdist worker, on the worker's session loop (Playwright belongs to the loop that starts it; its driver and Chromium
take about 0.75 s to start and stop, a context with its page 0.15 s), so a test that takes them runs on that loop,
as must its async fixtures.
"""

import inspect
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import pytest
from axe_playwright_python.base import AXE_SCRIPT  # the package's bundled axe.min.js (axe-core 4.x), no network
from playwright.async_api import Browser, BrowserContext, Page, Request, Route, WebSocket, async_playwright

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Root in a container: no sandbox (it needs user namespaces), no GPU, /dev/shm is small; nothing in the
# background. The proxy is a closed port: loopback bypasses it (Chromium's implicit rule), all else fails.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--proxy-server=http://127.0.0.1:9"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "vi-VN"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
BROWSER_FIXTURES = {"browser", "phone", "phone_no_js"}
# Async fixtures whose value belongs to no loop (a Settings object), so a browser test may take them as they are.
VALUE_ONLY_FIXTURES = {"settings"}


def chromium_path() -> str:
    """The Chromium to drive (SIPAS_CHROMIUM, else Debian's); skips the test when it is missing, or fails it
    when the CI variable is set (there a missing browser is a broken setup, not an optional extra)."""
    path = os.environ.get("SIPAS_CHROMIUM") or DEFAULT_CHROMIUM
    if os.access(path, os.X_OK):
        return path
    reason = f"needs Chromium at {path}: apt-get install chromium (Debian), or point SIPAS_CHROMIUM at one"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (CI is set, so a missing browser fails)", pytrace=False)
    pytest.skip(reason)


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Browser]:
    """A headless Chromium on the running event loop (Playwright's driver is bound to the loop that starts it)."""
    path = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


def put_on_session_loop(items: list[pytest.Item]) -> None:
    """Run each async test that takes a browser fixture on the worker's session loop (its mark goes first)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())) and inspect.iscoroutinefunction(
                getattr(item, "obj", None)):
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


def require_session_loop(request: pytest.FixtureRequest) -> None:
    """Fail a browser test that does not run wholly on the session loop, where the worker's browser lives: on a
    loop of its own it would wait forever on the browser, and a function-loop fixture's server or database engine
    sits on a loop that does not run while the test does."""
    problems = []
    marker = request.node.get_closest_marker("asyncio")
    if marker is None or marker.kwargs.get("loop_scope") != "session":
        problems.append('the test: mark it @pytest.mark.asyncio(loop_scope="session")')
    default = request.config.getini("asyncio_default_fixture_loop_scope")
    for name, definitions in request.node._fixtureinfo.name2fixturedefs.items():  # as pytest-asyncio reads it
        definition = definitions[-1]
        func = definition.func
        is_async = inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func) or getattr(
            func, "_force_asyncio_fixture", False)  # pytest-asyncio's wrapper, while that fixture is being set up
        loop = getattr(func, "_loop_scope", None) or default or definition.scope
        if is_async and loop != "session" and name not in VALUE_ONLY_FIXTURES:
            problems.append(f"the fixture {name!r} runs on a loop of its own: take one made with "
                            '@pytest_asyncio.fixture(loop_scope="session") instead')
    if problems:
        pytest.fail("a browser test runs on the session loop, where the worker's Chromium lives; fix "
                    + "; ".join(problems), pytrace=False)


class _Guard:
    """What one context asked for outside this machine, and whether it runs JavaScript."""

    def __init__(self, javascript: bool) -> None:
        self.javascript = javascript
        self.external: list[str] = []

    async def route(self, route: Route) -> None:
        request = route.request
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
            return
        self.external.append(f"{request.resource_type} {request.url} (asked by {_asker(request)})")
        await route.abort("blockedbyclient")

    def websocket(self, socket: WebSocket) -> None:
        if urlsplit(socket.url).hostname not in LOCAL_HOSTS:  # the proxy refuses it; the test must still fail
            self.external.append(f"websocket {socket.url}")


def _asker(request: Request) -> str:
    try:
        return request.frame.url
    except Exception:  # a service worker's request has no frame
        return "a worker"


_GUARDS: "WeakKeyDictionary[BrowserContext, _Guard]" = WeakKeyDictionary()


@asynccontextmanager
async def offline_context(browser: Browser, **options) -> AsyncIterator[BrowserContext]:
    """`browser.new_context(**options)` that may only reach 127.0.0.1/localhost; on exit it is closed, and the
    test fails if a page asked for anything else."""
    context = await browser.new_context(**options)
    guard = _GUARDS[context] = _Guard(options.get("java_script_enabled", True))
    context.on("page", lambda page: page.on("websocket", guard.websocket))
    await context.route("**/*", guard.route)
    try:
        yield context
    finally:
        await context.close()
    assert_offline(context)


def assert_offline(target: Page | BrowserContext) -> None:
    """Fail the test if a page of this context asked for an external resource (each one is reported once)."""
    guard = _GUARDS.get(target.context if isinstance(target, Page) else target)
    if guard is None or not guard.external:
        return
    asked, guard.external = guard.external, []
    pytest.fail("the page asked for resources outside 127.0.0.1/localhost (the web survey must have none; they "
                "were blocked):\n" + "\n".join(f"- {line}" for line in asked), pytrace=False)


# Without JavaScript the page's timers never fire, and axe-core waits on setTimeout; promise jobs still run, so
# while axe runs the timers become promise jobs. axe also counts <noscript> content as hidden (it assumes
# scripting), but without JavaScript that content is the page: it is checked as <span>s, then put back.
_NO_JS_BEFORE = """() => {
  window.__sipasTimers = [window.setTimeout, window.clearTimeout, window.requestAnimationFrame];
  window.setTimeout = (fn, _ms, ...args) => { Promise.resolve().then(() => fn(...args)); return 0; };
  window.clearTimeout = () => {};
  window.requestAnimationFrame = fn => window.setTimeout(fn, 0, performance.now());
  for (const element of document.querySelectorAll("noscript")) {
    const span = document.createElement("span");
    span.setAttribute("data-sipas-noscript", "");
    span.append(...element.childNodes);
    element.replaceWith(span);
  }
}"""
_NO_JS_AFTER = """() => {
  [window.setTimeout, window.clearTimeout, window.requestAnimationFrame] = window.__sipasTimers;
  delete window.__sipasTimers;
  for (const span of document.querySelectorAll("span[data-sipas-noscript]")) {
    const element = document.createElement("noscript");
    element.append(...span.childNodes);
    span.replaceWith(element);
  }
}"""
_AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


async def check_accessibility(page: Page) -> None:
    """Run axe-core on the page for WCAG 2.0/2.1 A and AA; fail with each violation's rule id, impact and
    offending HTML. Pages without JavaScript are checked too (as they render: <noscript> content included)."""
    assert_offline(page)
    guard = _GUARDS.get(page.context)
    no_js = guard is not None and not guard.javascript
    if no_js:
        await page.evaluate(_NO_JS_BEFORE)
    try:
        if not await page.evaluate("() => typeof axe === 'object'"):
            await page.evaluate(AXE_SCRIPT)
        results = await page.evaluate("options => axe.run(document, options)", _AXE_OPTIONS)
    finally:
        if no_js:
            await page.evaluate(_NO_JS_AFTER)
    if results["violations"]:
        pytest.fail(_violations_report(page.url, results["violations"]), pytrace=False)


def _violations_report(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core found {len(violations)} WCAG 2.0/2.1 A/AA violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            html = " ".join(node["html"].split())
            lines.append(f"    {html[:200]}{'…' if len(html) > 200 else ''}")
            summary = " ".join(node.get("failureSummary", "").split())
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def screenshots_dir() -> Path:
    """Where `screenshot` writes: SIPAS_SCREENSHOTS, else build/screenshots/ (gitignored)."""
    return Path(os.environ.get("SIPAS_SCREENSHOTS") or ROOT / "build" / "screenshots")


async def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as NAME.png in `screenshots_dir()`, for a person to look at after the run."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"a screenshot name is a plain file name without extension, not {name!r}")
    assert_offline(page)
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    await page.screenshot(path=path, full_page=True, animations="disabled")
    return path
