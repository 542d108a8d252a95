"""`/dashboard/cases`: the follow-up cases of low ratings, harassment and payment reports (`bot.survey.case_access`),
filtered by centre, status and overdue (overdue first), and a case's page with its items, masked comment, handler,
due date and reminders, and the forms that assign, start and resolve it.

What a key sees is exactly its `CaseScope`: a staff or viewer key never learns that a sensitive case exists (its page
is a 404 like an unknown id), a viewer key gets no forms, and every move is `move_case`, whose refusals are shown
in the page's language."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.errors import UserError
from bot.http.dashboard.render import language, page, redirect
from bot.http.dashboard.session import BASE, CALLER, check_csrf, csrf_token
from bot.http.keys import SERVICES
from bot.storage.base import utcnow
from bot.storage.models import Centre
from bot.survey.api_keys import Caller
from bot.survey.case_access import ACTIONS, NOTE_LIMIT, case_detail, list_cases_in, move_case, open_counts, scope_of
from bot.survey.cases import STATUSES
from bot.texts import catalogue

# The refusals of move_case whose CLI wording names a command: the dashboard says them its own way.
_OWN_WORDS = ("case_read_only", "case_already_resolved", "case_already_started", "case_not_started",
              "case_note_required", "case_note_too_long", "case_empty_assignee")


def refusal(error: UserError, lang: str) -> str:
    """The message of a refused move in the page's language, in the dashboard's words where it has them."""
    name = (error.name or "").removeprefix("admin.")
    if name in _OWN_WORDS and f"dashboard.{name}" in catalogue():
        return error.__class__.say(f"dashboard.{name}", **error.values).text(lang)
    return error.text(lang)


def _filters(query) -> dict:
    chosen = {"centre": query.get("centre", "").strip() or None, "status": query.get("status", "").strip() or None,
              "overdue": query.get("overdue") in ("1", "on", "true")}
    return chosen


async def _centres(services, who: Caller) -> list[tuple[str, str]]:
    """The centres a key may filter by: all for an admin, its own otherwise."""
    async with services.db.reading() as session:
        query = select(Centre.code, Centre.name).order_by(Centre.code)
        if who.role != "admin":
            query = query.where(Centre.code == who.centre)
        return [(code, name) for code, name in (await session.execute(query)).all()]


async def cases(request: web.Request) -> web.Response:
    who: Caller = request[CALLER]
    services = request.app[SERVICES]
    scope, lang, chosen = scope_of(who), language(request), _filters(request.query)
    today = services.local_date(utcnow())
    error, status, found = None, 200, []
    try:
        found = await list_cases_in(services, scope, today, **chosen)
    except UserError as refused:
        error, status = refusal(refused, lang), refused.status
    async with services.db.reading() as session:
        counts = await open_counts(session, scope, today=today)
    return page(request, "cases.html", status=status, who=who, csrf=csrf_token(request), cases=found,
                error=error, chosen=chosen, statuses=STATUSES, centres=await _centres(services, who),
                counts=counts, today=today)


async def _detail_page(request: web.Request, case_id: str, *, status: int = 200, error: str | None = None,
                       note: str = "", assignee: str = "") -> web.Response:
    who: Caller = request[CALLER]
    services = request.app[SERVICES]
    scope = scope_of(who)
    try:
        async with services.db.reading() as session:
            view = await case_detail(session, scope, case_id, today=services.local_date(utcnow()))
    except UserError:  # unknown, and outside the scope alike: the key learns nothing
        return page(request, "message.html", status=404, heading="not_found", lines=["no_case"], who=who,
                    csrf=csrf_token(request))
    done = request.query.get("done")
    return page(request, "case.html", status=status, who=who, csrf=csrf_token(request), case=view,
                act=scope.act, error=error, done=done if done in ACTIONS else None, note=note,
                assignee=assignee or (view.assignee or ""), note_limit=NOTE_LIMIT)


async def case(request: web.Request) -> web.Response:
    return await _detail_page(request, request.match_info["id"])


async def move(request: web.Request) -> web.Response:
    """A form's move: assign, start or resolve; back to the case page, with the refusal when there is one."""
    refused = await check_csrf(request)
    if refused:
        return refused
    who: Caller = request[CALLER]
    services = request.app[SERVICES]
    case_id, action = request.match_info["id"], request.match_info["action"]
    form = await request.post()
    note, assignee = str(form.get("note", "")), str(form.get("assignee", ""))
    now = utcnow()
    try:
        async with services.db.transaction() as session:
            view = await move_case(session, scope_of(who), case_id, action, now=now, today=services.local_date(now),
                                   assignee=assignee, note=note)
    except UserError as error:
        if error.status == 404:
            return await _detail_page(request, case_id)  # the same 404 page as a GET
        return await _detail_page(request, case_id, status=error.status, error=refusal(error, language(request)),
                                  note=note, assignee=assignee)
    return redirect(f"{BASE}/cases/{view.id}?done={action}")


def routes() -> list[web.RouteDef]:
    from bot.http.dashboard.session import require_login

    return [web.get(f"{BASE}/cases", require_login(cases)),
            web.get(f"{BASE}/cases/{{id}}", require_login(case)),
            web.post(f"{BASE}/cases/{{id}}/{{action:assign|start|resolve}}", require_login(move))]
