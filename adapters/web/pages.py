"""The web survey's pages: every GET shows where things stand and changes nothing; every POST is one service call
followed by a redirect to the page that shows its result (POST-redirect-GET), so a reload or the Back button never
records an answer twice.

    GET  /s            the box for the short code on the receipt      POST /s            redeem the code
    GET  /s/{token}    the invitation's first page (or why not)       POST /s/{token}    start it, in a language
    GET  /c/{centre}   an open survey's first page (or why not)       POST /c/{centre}   start it
    GET  /s/q          the current question, the stop prompt or the thanks
    POST /s/q          an answer, Skip, Back, the language, Stop
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web

from adapters.web import forms, visitors
from adapters.web.render import page, redirect
from bot import counters
from bot.config import Settings
from bot.errors import NotFound
from bot.survey.conversation import Outcome, SurveyService
from bot.survey.open_limits import Visitor
from bot.texts import language_of, say
from surveys import events as ev

log = logging.getLogger(__name__)
PLATFORM = "web"
QUESTION_PAGE = "/s/q"
# Why a link cannot be used, said plainly: a token is not guessable, so naming the reason teaches nothing.
PROBLEM_PAGES = {"unknown": (404, "web.link_unknown"), "expired": (410, "web.link_expired"),
                 "used": (410, "web.link_used"), "in_progress": (409, "web.link_in_use"),
                 "closed": (403, "citizen.not_open"), "open_limit": (429, "web.open_done_today")}


class Refused(Exception):
    """A post refused before the service is called: the page to show instead."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


def boundary(handler):
    """The web's error boundary: a citizen sees a polite page in their language, never JSON or a trace."""

    @functools.wraps(handler)
    async def wrapped(self: WebPages, request: web.Request) -> web.StreamResponse:
        browser = visitors.browser_of(request)
        fresh = browser is None and request.method == "GET"
        if request.method == "POST":  # a form posted: the web's update (a GET only shows where things stand)
            counters.update_received("web")
        if fresh:
            browser = visitors.new_browser_id()
        try:
            response = await handler(self, request, browser)
        except Refused as refused:
            response = refused.response
        except NotFound:
            response = self.message(language_of(request.query.get("lang")), [say("web.not_found")], status=404)
        except Exception:
            log.exception("web %s %s failed", request.method, request.path)
            counters.error_caught("bot")
            response = self.message("vi", [say("citizen.something_wrong")], status=500)
        if fresh:
            visitors.set_browser_cookie(response, browser, secure=self.secure)
        return response

    return wrapped


class WebPages:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secure = (settings.public_url or "").startswith("https://")
        self.trusted = settings.trusted_networks
        self.limiter = visitors.PostLimiter()
        self.service: SurveyService | None = None  # set when the channel starts
        self.wake_outbox = lambda: None  # an alert of a completed survey may be waiting

    # -- pages without a survey ------------------------------------------------------------------------------

    @boundary
    async def code_page(self, request: web.Request, browser: str) -> web.Response:
        return self.code(language_of(request.query.get("lang")), browser)

    @boundary
    async def redeem_code(self, request: web.Request, browser: str | None) -> web.Response:
        posted, browser = await self.checked_post(request, browser)
        lang = language_of(posted.get("lang"))
        code = posted.get("code").strip()
        if not code:
            return self.code(lang, browser, error=say("web.code_missing", lang), status=400)
        outcome = await self.service.redeem(PLATFORM, browser, code, language=lang, event_key=posted.event_key,
                                            guard_id=self.address(request))
        if outcome.status in ("survey", "duplicate"):
            return redirect(QUESTION_PAGE + "?welcome=1")  # no first page was shown: the welcome goes above Câu 1
        status = 429 if outcome.problem == "locked" else 400
        return self.code(lang, browser, error=" ".join(outcome.texts), status=status)

    @boundary
    async def invitation_page(self, request: web.Request, browser: str) -> web.Response:
        lang = language_of(request.query.get("lang"))
        token = request.match_info["token"]
        shown = await self.service.preview(PLATFORM, browser, token, language=lang)
        if shown.resume:
            return redirect(QUESTION_PAGE)
        if shown.problem:
            return self.problem(shown.problem, lang, browser)
        return self.welcome(shown, browser, request.path)

    @boundary
    async def start_invitation(self, request: web.Request, browser: str | None) -> web.Response:
        posted, browser = await self.checked_post(request, browser)
        lang = language_of(posted.get("lang"))
        outcome = await self.service.redeem(PLATFORM, browser, request.match_info["token"], language=lang,
                                            event_key=posted.event_key, guard_id=self.address(request))
        return self.after_start(outcome, lang, browser)

    @boundary
    async def open_page(self, request: web.Request, browser: str) -> web.Response:
        lang = language_of(request.query.get("lang"))
        try:
            shown = await self.service.preview_open(request.match_info["centre"], language=lang,
                                                    visitor=self.visitor(request, browser))
        except NotFound:
            return self.message(lang, [say("web.centre_unknown", lang)], status=404)
        if shown.problem:
            return self.problem(shown.problem, lang, browser)
        return self.welcome(shown, browser, request.path)

    @boundary
    async def start_open(self, request: web.Request, browser: str | None) -> web.Response:
        posted, browser = await self.checked_post(request, browser)
        lang = language_of(posted.get("lang"))
        try:
            outcome = await self.service.start_open(PLATFORM, browser, request.match_info["centre"], language=lang,
                                                    visitor=self.visitor(request, browser),
                                                    event_key=posted.event_key)
        except NotFound:
            return self.message(lang, [say("web.centre_unknown", lang)], status=404)
        return self.after_start(outcome, lang, browser)

    @boundary
    async def not_found(self, request: web.Request, browser: str) -> web.Response:
        lang = language_of(request.query.get("lang"))
        return self.message(lang, [say("web.not_found", lang)], status=404)

    # -- the survey ------------------------------------------------------------------------------------------

    @boundary
    async def survey_page(self, request: web.Request, browser: str) -> web.Response:
        return self.show(await self.service.current(PLATFORM, browser), browser,
                         welcome=request.query.get("welcome") == "1")

    @boundary
    async def answer(self, request: web.Request, browser: str | None) -> web.Response:
        posted, browser = await self.checked_post(request, browser)
        event = forms.event_of(posted)
        if event is None:
            return self.message("vi", [say("web.bad_form")], status=400)
        if isinstance(event, str):  # nothing chosen: the same question again, with what to do
            return self.show(await self.service.current(PLATFORM, browser), browser, notice=event)
        names_question = isinstance(event, ev.Choose | ev.NotApplicable | ev.Skip | ev.Back | ev.Text)
        outcome = await self.service.handle(PLATFORM, browser, event, event_key=posted.event_key,
                                            question=posted.get("q") if names_question else None)
        reply = outcome.reply
        if reply is not None and reply.status == "completed" and reply.accepted:
            self.wake_outbox()
        if outcome.status == "duplicate" or (reply is not None and reply.accepted and reply.status != "cancelled"):
            return redirect(QUESTION_PAGE)
        if reply is not None and reply.status == "cancelled":
            return self.message(outcome.language, [say("web.stopped", outcome.language)])
        return self.show(outcome, browser)

    # -- drawing ---------------------------------------------------------------------------------------------

    def show(self, outcome: Outcome, browser: str, notice: str | None = None, welcome: bool = False) -> web.Response:
        """The page for where a survey stands (the current question, the stop prompt, the thanks, or the code box)."""
        lang, reply = outcome.language, outcome.reply
        if outcome.status == "finished":
            return page("end.html", lang, texts=list(outcome.texts))
        if outcome.status == "invitation_problem":
            return self.problem(outcome.problem or "unknown", lang, browser)
        if reply is None or reply.status not in ("active", "confirm_cancel"):
            return self.code(lang, browser, texts=list(outcome.texts))
        form = self.form_fields(browser)
        if reply.status == "confirm_cancel":
            return page("confirm.html", lang, labels=reply.command_labels, **form)
        notices = [say(notice, lang)] if notice else list(reply.notices)
        return page("question.html", lang, q=reply.question, commands=reply.commands, labels=reply.command_labels,
                    welcome=list(outcome.texts) if outcome.started and welcome else [], notices=notices,
                    nonce2=forms.new_nonce(), status=200 if reply.accepted or not notices else 422, **form)

    def after_start(self, outcome: Outcome, lang: str, browser: str) -> web.Response:
        if outcome.status in ("survey", "duplicate"):
            return redirect(QUESTION_PAGE)
        return self.problem(outcome.problem or "unknown", lang, browser)

    def welcome(self, shown, browser: str, action: str) -> web.Response:
        return page("welcome.html", shown.language, title=say("web.page_title", shown.language),
                    welcome=shown.welcome, introduction=list(shown.introduction), action=action, zalo_link=None,
                    **self.form_fields(browser))

    def problem(self, problem: str, lang: str, browser: str) -> web.Response:
        status, key = PROBLEM_PAGES.get(problem, PROBLEM_PAGES["unknown"])
        if problem in ("unknown", "closed"):
            return self.code(lang, browser, texts=[say(key, lang)], status=status)
        return self.message(lang, [say(key, lang)], status=status)

    def code(self, lang: str, browser: str, *, texts: list[str] | None = None, error: str | None = None,
             status: int = 200) -> web.Response:
        return page("code.html", lang, status=status, texts=texts or [], code_error=error,
                    **self.form_fields(browser))

    def message(self, lang: str, texts: list[str], *, status: int = 200) -> web.Response:
        return page("message.html", lang, status=status, heading=None, texts=texts, code_form=False)

    def form_fields(self, browser: str) -> dict[str, str]:
        return {"csrf": visitors.csrf_token(self.service.services.secret_key, browser), "nonce": forms.new_nonce()}

    # -- checks before a post reaches the service ------------------------------------------------------------

    def address(self, request: web.Request) -> str:
        return visitors.client_address(request, self.trusted)

    def visitor(self, request: web.Request, browser: str) -> Visitor:
        return Visitor(browser, self.address(request))

    async def checked_post(self, request: web.Request, browser: str | None) -> tuple[forms.Posted, str]:
        """The posted form, once the address is under its rate, the body readable and the CSRF token right."""
        if not self.limiter.allow(self.address(request)):
            raise Refused(self.message("vi", [say("web.too_many")], status=429))
        try:
            posted = await forms.read_form(request)
        except forms.FormError as error:
            raise Refused(self.message("vi", [say(error.text_key)], status=error.status)) from None
        lang = language_of(posted.get("lang"))
        if browser is None or not visitors.csrf_ok(self.service.services.secret_key, browser, posted.get("csrf")):
            raise Refused(self.message(lang, [say("web.cookies_needed", lang)], status=403))
        return posted, browser

