"""`GET /metrics` as Prometheus reads it: strict text format 0.0.4 (a parser below refuses what Prometheus would),
updates received per channel rising as a citizen's updates arrive through the web survey and the Telegram webhook,
errors counted at the bot, HTTP and CLI boundaries, responses stored per channel and instrument, and the outbox."""

import math
import re

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer
from fake_zalo_bot import FakeZaloBot
from test_cli_mistakes import broken_command  # noqa: F401  (the fixture)
from test_telegram_webhook import fake, served  # noqa: F401  (fixtures)
from web_browser import Browser
from zalo_bot_world import THANKS, bot_settings, complete_quick, seed, serving
from zalo_oa_served import serving as oa_serving

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.survey import directory
from bot.survey.batches import issue_batch
from bot.survey.outbox import enqueue

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
KINDS = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_prometheus(text: str) -> dict[str, dict]:
    """{family: {"type", "help", "samples": {frozenset(labels): value}}}; AssertionError for anything Prometheus's
    text parser would refuse or that breaks its rules: a sample before its TYPE, a family split or typed twice,
    a bad name, label or value, a series given twice, no final newline."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families: dict[str, dict] = {}
    current = None
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        where = f"line {number}: {line!r}"
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, keyword, name, *rest = line.split(" ", 3)
            assert re.fullmatch(NAME, name), where
            family = families.setdefault(name, {"type": None, "help": None, "samples": {}})
            assert not family["samples"], f"{where}: HELP/TYPE after the family's samples"
            if keyword == "TYPE":
                assert family["type"] is None and rest and rest[0] in KINDS, where
                family["type"] = rest[0]
            else:
                assert family["help"] is None, where
                family["help"] = rest[0] if rest else ""
            current = name
            continue
        assert line and not line.startswith("#"), f"{where}: blank lines and other comments are not ours"
        match = SAMPLE.match(line)
        assert match, f"{where}: not a sample"
        name, raw = match.group(1), match.group(match.lastindex)
        assert name == current and families[name]["type"], f"{where}: sample outside its family, or untyped"
        pairs = re.findall(LABEL, match.group(2) or "")
        assert len({name for name, _ in pairs}) == len(pairs), f"{where}: a label twice"
        labels = frozenset(pairs)
        try:
            number_value = float(raw)  # Prometheus's own: a float, +Inf, -Inf or NaN
        except ValueError:
            raise AssertionError(f"{where}: not a number") from None
        assert not math.isnan(number_value), where
        if families[name]["type"] == "counter":
            assert name.endswith("_total") and number_value >= 0, where
        samples = families[name]["samples"]
        assert labels not in samples, f"{where}: the same series twice"
        samples[labels] = number_value
    return families


def value(families: dict, name: str, **labels: str) -> float:
    return families[name]["samples"].get(frozenset(labels.items()), 0.0)


async def scrape(client) -> dict:
    answer = await client.get("/metrics")
    assert answer.status == 200 and answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse_prometheus(await answer.text())


def test_the_parser_refuses_what_prometheus_would():
    good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"s"} 3\n'
    assert value(parse_prometheus(good), "a_total", x="1", y='q\\"s') == 3
    for bad in (good.rstrip("\n"), good.replace("# TYPE a_total counter\n", ""), good + 'a_total{x="1",y="q\\"s"} 4\n',
                good.replace(" 3", " three"), good.replace("x=", "1x="), good + "# TYPE a_total counter\n",
                good.replace("a_total{", "b_total{"), good.replace(",y=", ",x=")):
        with pytest.raises(AssertionError):
            parse_prometheus(bad)


class CountingBrowser(Browser):
    """A browser that counts the forms it posts: each is one update of the web channel."""

    posts = 0

    async def post(self, path, data, **options):
        self.posts += 1
        return await super().post(path, data, **options)


@pytest.fixture
async def site(settings):
    app = create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"}))
    async with TestClient(TestServer(app)) as client:
        async with app[SERVICES].db.transaction() as session:
            await directory.add_centre(session, "HN01", "Trung tâm Phục vụ hành chính công tỉnh Hà Nam")
        yield app, client


async def test_a_web_survey_raises_the_web_updates_and_the_completions(site):
    app, client = site
    before = await scrape(client)
    assert {"sipas_updates_received_total", "sipas_errors_total", "sipas_survey_completions",
            "sipas_outbox_messages", "sipas_inbox_pending", "sipas_zns_sent_today"} <= set(before)
    assert {dict(labels)["channel"] for labels in before["sipas_updates_received_total"]["samples"]} >= {
        "telegram", "zalo-oa", "zalo-bot", "web"}  # every channel from the start, at 0 or more
    token = (await issue_batch(app[SERVICES], centre_code="HN01", survey="sipas-quick")).issued[0].token
    browser = CountingBrowser(client)
    page = await browser.submit(await browser.get(f"/s/{token}"), "vi")
    for _ in range(5):
        page = await browser.choose(page, "Hài lòng")
    page = await browser.submit(page, "answer", text="Cán bộ nhiệt tình")
    await browser.close()
    assert page.has("Xin cảm ơn")
    after = await scrape(client)
    assert browser.posts == 7
    rise = value(after, "sipas_updates_received_total", channel="web") - value(
        before, "sipas_updates_received_total", channel="web")
    assert rise == browser.posts  # a GET shows a page; only a posted form is an update
    assert value(before, "sipas_survey_completions", channel="web", instrument="sipas-quick") == 0
    assert value(after, "sipas_survey_completions", channel="web", instrument="sipas-quick") == 1
    assert after["sipas_survey_completions"]["type"] == "gauge"  # `import undo` lowers it


async def test_telegram_updates_and_a_failed_one_are_counted(fake, served):  # noqa: F811
    settings, issued = served

    before = await fetch_metrics(settings.public_url)
    chat = 7101
    fake.user_sends(chat, f"/start {issued['sipas-quick'][0].token}")
    await fake.wait_for_bot_messages(chat, 2)  # the welcome and Câu 1
    fake.fail_next("sendMessage", 400)  # Telegram refuses the next reply: the update's handling fails
    fake.user_sends(chat, "/help")
    await fake.wait_for(lambda: len(fake.deliveries) == 2 and all(d.status is not None for d in fake.deliveries),
                        what="both updates answered")
    await fake.wait_for_bot_messages(chat, 3)  # the boundary's apology went out
    after = await fetch_metrics(settings.public_url)
    delivered = len([d for d in fake.deliveries if d.via == "webhook"])
    assert delivered == 2
    assert value(after, "sipas_updates_received_total", channel="telegram") - value(
        before, "sipas_updates_received_total", channel="telegram") == delivered
    assert value(after, "sipas_errors_total", surface="bot") - value(before, "sipas_errors_total", surface="bot") == 1


async def test_http_and_cli_errors_are_counted(settings, cli, broken_command):  # noqa: F811
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug in a handler")

    app = create_app(settings)
    # Registered for the test only, like the broken CLI command: what the real boundaries do with the unexpected.
    app.router.add_get("/broken-for-test", broken)
    app.router.add_get("/api/v1/broken-for-test", broken)
    async with TestClient(TestServer(app)) as client:
        before = await scrape(client)
        assert value(before, "sipas_errors_total", surface="cli") == 0
        assert (await client.get("/broken-for-test")).status == 500
        assert (await client.get("/api/v1/broken-for-test")).status == 500
        assert cli("broken-for-test")[0] == 1  # another process in real life: its bug goes to errors.log
        assert cli("broken-for-test")[0] == 1
        after = await scrape(client)
    assert value(after, "sipas_errors_total", surface="http") - value(before, "sipas_errors_total", surface="http") == 2
    assert value(after, "sipas_errors_total", surface="cli") == 2


async def test_the_outbox_backlog_is_still_there(site):
    app, client = site
    services = app[SERVICES]
    async with services.db.transaction() as session:
        enqueue(session, "telegram", "12345", "Có phiếu đánh giá thấp")
    families = await scrape(client)
    # Waiting, or given up at once by this server's worker (it runs no Telegram channel to send it with).
    assert value(families, "sipas_outbox_messages", platform="telegram", state="waiting") + value(
        families, "sipas_outbox_messages", platform="telegram", state="failed") == 1


async def fetch_metrics(base: str) -> dict:
    async with ClientSession() as http, http.get(f"{base}/metrics") as response:
        assert response.status == 200
        return parse_prometheus(await response.text())


async def test_zalo_bot_updates_are_counted(settings):
    async with FakeZaloBot() as bot_api:
        zb = bot_settings(settings, bot_api, webhook=True)
        issued = await seed(zb)
        async with serving(zb):
            before = await fetch_metrics(zb.public_url)
            seen = await complete_quick(bot_api, "metrics-0000000001", issued[0].display_code)
            assert seen[-1].startswith(THANKS)
            after = await fetch_metrics(zb.public_url)
    # The code, five answers and "bỏ qua": seven updates, each POSTed once to the webhook.
    assert value(after, "sipas_updates_received_total", channel="zalo-bot") - value(
        before, "sipas_updates_received_total", channel="zalo-bot") == 7
    assert value(after, "sipas_survey_completions", channel="zalo-bot", instrument="sipas-quick") == 1


async def test_zalo_oa_events_are_counted(settings):
    async with oa_serving(settings) as world:
        base = f"http://127.0.0.1:{world.port}"
        before = await fetch_metrics(base)
        citizen = world.citizen("3001")
        await citizen.says("xin chào")
        await citizen.says(world.issued["sipas-quick"][0].display_code)
        after = await fetch_metrics(base)
    assert value(after, "sipas_updates_received_total", channel="zalo-oa") - value(
        before, "sipas_updates_received_total", channel="zalo-oa") == 2
