"""The web survey through its real aiohttp app on a real database, as a citizen's browser without JavaScript sees
it: every page, and every bad path (unknown, expired, used and in-use links, tampered CSRF, double submit, reload,
back after the end, oversize bodies, a second browser)."""

import datetime as dt
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from web_browser import Browser

from bot.http.app import create_app
from bot.http.keys import SERVICES
from bot.storage.models import Invitation, Response
from bot.survey import directory
from bot.survey.batches import issue_batch


@pytest.fixture
async def site(settings):
    app = create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"}))
    client = TestClient(TestServer(app))
    await client.start_server()
    services = app[SERVICES]
    async with services.db.transaction() as session:
        await directory.add_centre(session, "HN01", "Trung tâm Phục vụ hành chính công tỉnh Hà Nam")
    browsers = []

    class Site:
        def __init__(self):
            self.services, self.client = services, client

        def browser(self, address=None) -> Browser:
            browsers.append(Browser(client, address))
            return browsers[-1]

        async def invite(self, survey="sipas-quick", centre="HN01") -> str:
            batch = await issue_batch(services, centre_code=centre, survey=survey)
            return batch.issued[0].token

        async def responses(self):
            async with services.db.reading() as session:
                return (await session.execute(select(Response))).scalars().all()

    yield Site()
    for browser in browsers:
        await browser.close()
    await client.close()


async def answer_quick(browser: Browser, page, comment="Cán bộ nhiệt tình"):
    """Answer sipas-quick to the end (5 ratings, then the comment) from its first question."""
    for _ in range(5):
        assert page.status == 200 and page.forms[0].options, page.html
        page = await browser.choose(page, "Hài lòng")
    return await browser.submit(page, "answer", text=comment)


async def test_a_citizen_completes_the_survey_from_the_link_and_it_is_reported(site, cli):
    token = await site.invite()
    browser = site.browser()
    first = await browser.get(f"/s/{token}")
    assert first.status == 200 and 'lang="vi"' in first.html
    assert first.has("Trung tâm Phục vụ hành chính công tỉnh Hà Nam") and first.has("ẩn danh")
    assert first.has("6 câu hỏi") and first.has("2 phút")
    assert "HttpOnly" in first.headers["Set-Cookie"] and "SameSite=Lax" in first.headers["Set-Cookie"]
    assert "script-src 'self'" in first.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in first.headers["Content-Security-Policy"]
    assert first.headers["Referrer-Policy"] == "no-referrer" and first.headers["Cache-Control"] == "no-store"

    question = await browser.submit(first, "vi")
    assert question.url == "/s/q" and question.has("Câu 1/6") and question.has("Rất hài lòng")
    assert not question.has("ẩn danh")  # said on the first page already, not again above the question
    assert [label for _, label in question.forms[0].options][:2] == ["Rất hài lòng", "Hài lòng"]
    assert question.has('<legend class="question-text">')  # the question labels its radio group
    end = await answer_quick(browser, question)
    assert end.url == "/s/q" and end.has("Xin cảm ơn Ông/Bà!") and not end.forms  # nothing else to click

    stored = await site.responses()
    assert [(r.channel, r.open_survey, r.flagged, r.comment) for r in stored] == [
        ("web", False, False, "Cán bộ nhiệt tình")]
    code, out, _ = cli("report", "--survey", "sipas-quick", "--by", "channel", "--format", "json")
    assert code == 0 and '"web"' in out and '"n": 1' in out


async def test_english_from_the_first_page_and_the_language_switched_midway(site):
    token = await site.invite()
    browser = site.browser()
    page = await browser.submit(await browser.get(f"/s/{token}"), "en")
    assert 'lang="en"' in page.html and page.has("Question 1/6") and page.has("Very satisfied")
    page = await browser.submit(page, "lang", action="/s/q")
    assert 'lang="vi"' in page.html and page.has("Câu 1/6")


async def test_a_reload_or_a_double_tap_records_an_answer_once(site):
    token = await site.invite()
    browser = site.browser()
    page = await browser.submit(await browser.get(f"/s/{token}"), "vi")
    form = page.forms[0]
    body = {**form.hidden, "do": "answer", "choice": "4"}
    once = await browser.post("/s/q", body)
    twice = await browser.post("/s/q", body)  # the same form again: the same nonce
    assert once.has("Câu 2/6") and twice.has("Câu 2/6")
    again = await browser.get("/s/q")  # a reload of the page shown
    assert again.has("Câu 2/6")


async def test_an_older_page_is_refused_and_back_shows_the_earlier_answer(site):
    token = await site.invite()
    browser = site.browser()
    first = await browser.submit(await browser.get(f"/s/{token}"), "vi")
    second = await browser.choose(first, "Bình thường")
    stale = await browser.post("/s/q", {**first.forms[0].hidden, "n": "0" * 32, "do": "answer", "choice": "1"})
    assert stale.status == 422 and stale.has("Câu hỏi này đã qua") and stale.has("Câu 2/6")
    back = await browser.submit(second, "back")
    assert back.has("Câu 1/6") and re.search(r'value="3" checked', back.html)


async def test_continue_without_a_choice_asks_for_one(site):
    token = await site.invite()
    browser = site.browser()
    page = await browser.submit(await browser.get(f"/s/{token}"), "vi")
    again = await browser.submit(page, "answer")
    assert again.has("vui lòng chọn một phương án") and again.has("Câu 1/6")


async def test_closing_the_tab_and_opening_the_link_again_continues_and_another_browser_is_told_it_is_in_use(site):
    token = await site.invite()
    browser = site.browser()
    await browser.choose(await browser.submit(await browser.get(f"/s/{token}"), "vi"), "Hài lòng")
    reopened = await browser.get(f"/s/{token}")
    assert reopened.url == "/s/q" and reopened.has("Câu 2/6")
    other = site.browser()
    elsewhere = await other.get(f"/s/{token}")
    assert elsewhere.status == 409 and elsewhere.has("đang được trả lời trên một trình duyệt khác")
    own_form = (await other.get("/s")).form("/s").hidden  # its own CSRF token, from any page
    taken = await other.post(f"/s/{token}", {**own_form, "lang": "vi"})
    assert taken.status == 409 and taken.has("trình duyệt khác")
    assert (await browser.get("/s/q")).has("Câu 2/6")  # the first browser goes on


async def test_unknown_expired_and_used_links_say_which_and_record_nothing(site):
    browser = site.browser()
    mistyped = await browser.get("/s/abc/def")
    assert mistyped.status == 404 and mistyped.has("Không có trang này") and "text/html" in mistyped.headers[
        "Content-Type"]
    unknown = await browser.get("/s/" + "x" * 32)
    assert unknown.status == 404 and unknown.has("Đường liên kết khảo sát này chưa đúng")
    assert unknown.form("/s")  # the code box, to type the code instead

    expired = await site.invite()
    async with site.services.db.transaction() as session:
        await session.execute(update(Invitation).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    page = await browser.get(f"/s/{expired}")
    assert page.status == 410 and page.has("đã hết hạn")

    used = await site.invite()
    await answer_quick(browser, await browser.submit(await browser.get(f"/s/{used}"), "vi"))
    again = await site.browser().get(f"/s/{used}")
    assert again.status == 410 and again.has("đã được trả lời")
    assert len(await site.responses()) == 1


async def test_back_after_the_end_and_an_old_form_posted_again_change_nothing(site):
    token = await site.invite()
    browser = site.browser()
    page = await browser.submit(await browser.get(f"/s/{token}"), "vi")
    for _ in range(5):
        page = await browser.choose(page, "Hài lòng")
    last = page
    assert last.has("Tối đa 1.000 ký tự.") and last.has('maxlength="1000"')  # the limit shown, and kept by the box
    await browser.submit(last, "answer", text="Lần đầu")
    replay = await browser.post("/s/q", {**last.forms[0].hidden, "n": "1" * 32, "do": "answer", "text": "Lần hai"})
    assert replay.has("Xin cảm ơn") and not replay.forms
    assert [r.comment for r in await site.responses()] == ["Lần đầu"]


async def test_stopping_records_nothing_and_frees_the_invitation(site):
    token = await site.invite()
    browser = site.browser()
    page = await browser.choose(await browser.submit(await browser.get(f"/s/{token}"), "vi"), "Hài lòng")
    confirm = await browser.submit(page, "cancel")
    assert confirm.has("Ông/Bà có muốn dừng khảo sát không?")
    kept = await browser.submit(confirm, "no")
    assert kept.has("Câu 2/6")
    stopped = await browser.submit(await browser.submit(kept, "cancel"), "yes")
    assert stopped.has("Khảo sát đã dừng") and await site.responses() == []
    assert (await site.browser().get(f"/s/{token}")).status == 200  # free for the citizen to start again


async def test_tampered_csrf_and_missing_cookie_are_refused(site):
    token = await site.invite()
    browser = site.browser()
    page = await browser.get(f"/s/{token}")
    forged = await browser.post(f"/s/{token}", {**page.forms[0].hidden, "csrf": "0" * 32, "lang": "vi"})
    assert forged.status == 403 and forged.has("chặn cookie")
    fresh = Browser(site.client)
    try:
        cookieless = await fresh.post(f"/s/{token}", {**page.forms[0].hidden, "lang": "vi"})
        assert cookieless.status == 403
    finally:
        await fresh.close()
    assert (await browser.get(f"/s/{token}")).status == 200  # still unstarted


async def test_oversize_and_unreadable_bodies_are_refused_politely(site):
    token = await site.invite()
    browser = site.browser()
    page = await browser.submit(await browser.get(f"/s/{token}"), "vi")
    huge = await browser.post("/s/q", {**page.forms[0].hidden, "do": "answer", "text": "a" * 20_000})
    assert huge.status == 413 and huge.has("quá dài") and "text/html" in huge.headers["Content-Type"]
    json_body = await browser.post("/s/q", '{"do": "answer"}', content_type="application/json")
    assert json_body.status == 415
    bad_utf8 = await browser.post("/s/q", b"do=answer&choice=%ff%fe", content_type="application/x-www-form-urlencoded")
    assert bad_utf8.status == 400
    assert (await browser.get("/s/q")).has("Câu 1/6")


async def test_html_in_names_and_comments_is_shown_as_text(site):
    async with site.services.db.transaction() as session:
        await directory.add_centre(session, "X1", "Trung tâm <script>alert(1)</script>")
    token = await site.invite(centre="X1")
    page = await site.browser().get(f"/s/{token}")
    assert "<script>alert" not in page.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html


async def test_the_code_box_starts_a_survey_and_wrong_codes_get_one_polite_answer(site):
    token_batch = await issue_batch(site.services, centre_code="HN01", survey="sipas-quick")
    code = token_batch.issued[0].display_code
    browser = site.browser()
    box = await browser.get("/s")
    assert box.has('<label for="code">')
    wrong = await browser.post("/s", {**box.form("/s").hidden, "code": "AAAA-AAAA"})
    assert wrong.status == 400 and wrong.has("Mã khảo sát này không dùng được")
    empty = await browser.post("/s", {**wrong.form("/s").hidden, "code": " "})
    assert empty.status == 400 and empty.has("8 ký tự")
    started = await browser.post("/s", {**empty.form("/s").hidden, "code": code.lower()})
    assert started.url == "/s/q" and started.has("Câu 1/6") and started.has("ẩn danh")


async def test_guessing_codes_is_limited_per_address_even_with_new_cookies(site):
    address = "10.250.0.9"
    for attempt in range(5):
        browser = site.browser(address)  # a new cookie each time: the address still counts
        box = await browser.get("/s")
        page = await browser.post("/s", {**box.form("/s").hidden, "code": f"AAAA-AAA{'BCDEF'[attempt]}"})
        assert page.status == 400
    browser = site.browser(address)
    box = await browser.get("/s")
    locked = await browser.post("/s", {**box.form("/s").hidden, "code": "AAAA-AAAG"})
    assert locked.status == 429 and locked.has("nhiều lần")


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(settings):
    from adapters.web.visitors import client_address

    class Request:
        def __init__(self, remote, forwarded):
            self.remote, self.headers = remote, _Headers(forwarded)

    class _Headers:
        def __init__(self, values):
            self.values = values

        def getall(self, name, default):
            return self.values or default

    trusted = settings.model_copy(update={"trusted_proxies": "127.0.0.1,10.0.0.0/8"}).trusted_networks
    assert client_address(Request("127.0.0.1", ["203.0.113.7, 10.0.0.2"]), trusted) == "203.0.113.7"
    assert client_address(Request("198.51.100.1", ["203.0.113.7"]), trusted) == "198.51.100.1"
    assert client_address(Request("127.0.0.1", ["garbage"]), trusted) == "127.0.0.1"
    assert client_address(Request("127.0.0.1", ["203.0.113.7"]), ()) == "127.0.0.1"



async def test_more_than_sixty_posts_a_minute_from_one_address_are_refused(site):
    browser = site.browser()
    box = await browser.get("/s")
    statuses = [(await browser.post("/s", {**box.form("/s").hidden, "code": ""})).status for _ in range(60)]
    assert set(statuses) == {400}
    refused = await browser.post("/s", {**box.form("/s").hidden, "code": ""})
    assert refused.status == 429 and refused.has("thao tác quá nhanh")
    assert (await site.browser().post("/s", {**box.form("/s").hidden, "code": ""})).status != 429  # others go on
