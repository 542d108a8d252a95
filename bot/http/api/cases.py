"""Follow-up cases over HTTP: list, read one, move one (assign, start, resolve), with the functions of
`bot.survey.case_access` that `sipas-bot case` and the dashboard use, so a centre's case system or a helpdesk tool can
track and close them without the browser.

Who sees what is the key's `CaseScope`: an admin key every case; a head's key its centre's, harassment and payment
reports included; a staff key its centre's other cases; a viewer key what staff see, read-only. A case outside the
scope answers 404 like an unknown id, so a key cannot learn that a sensitive case exists. The citizen stays
anonymous: a case carries what was said (low items, the masked comment), never a chat, phone or invitation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field

from bot.errors import NotFound
from bot.http.api.auth import caller
from bot.http.api.bodies import Answer, Body, json_answer, read_body
from bot.http.api.errors import PREFIX, ApiError, error_refs
from bot.http.keys import SERVICES
from bot.storage.base import utcnow
from bot.survey.case_access import ACTIONS, NOTE_LIMIT, CaseView, case_detail, list_cases_in, move_case, scope_of

_QUERY = ("centre", "status", "overdue")


class CaseItem(Answer):
    kind: Literal["rating", "report"] = Field(description="A criterion rated 1-2, or Câu 5/6 of sipas-2023.")
    code: str
    text: str
    value: int
    label: str


class CaseOut(Answer):
    id: str
    centre: str
    centre_name: str
    service: str | None = Field(description="The service's name, when the response named one.")
    status: Literal["new", "in_progress", "resolved"]
    sensitive: bool = Field(description="A harassment or informal-payment report: heads and admins only.")
    items: list[CaseItem]
    comment: str | None = Field(description="The citizen's comment, phone numbers, ID numbers and e-mails masked.")
    assignee: str | None
    note: str | None = Field(description="What was done (given when resolved).")
    opened_on: dt.date
    due_on: dt.date
    closed_on: dt.date | None
    overdue: bool
    escalation: int = Field(description="0: none yet; 1: reminded the assignee; 2: the head; 3: the admin.")


class CaseMove(Body):
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    assignee: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="assign: a name, or a staff member's registered name (reminders then reach their chat).")
    note: Annotated[str, Field(min_length=1, max_length=NOTE_LIMIT)] | None = Field(
        None, description="resolve: what was done.")


def _out(view: CaseView) -> CaseOut:
    return CaseOut(**dataclasses.asdict(view))  # the same fields: a case as the CLI and the dashboard see it


def _filters(request: web.Request) -> dict:
    query = request.query
    unknown = sorted({name for name in query if name not in _QUERY} | {name for name in query
                                                                      if len(query.getall(name)) > 1})
    if unknown:
        raise ApiError.of(400, "admin.api_unknown_parameter", names=", ".join(unknown), allowed=", ".join(_QUERY))
    chosen: dict = {name: query[name] for name in ("centre", "status") if name in query}
    overdue = query.get("overdue", "false").strip().lower()
    if overdue not in ("true", "false"):
        raise ApiError.of(400, "admin.api_bad_flag", name="overdue", given=query["overdue"])
    return {**chosen, "overdue": overdue == "true"}


async def list_cases(request: web.Request) -> web.Response:
    scope = scope_of(await caller(request))
    views = await list_cases_in(request.app[SERVICES], scope, **_filters(request))
    return json_answer([_out(view) for view in views])


def _unknown(case_id: str) -> ApiError:
    # The CLI's wording names `sipas-bot case list`; over HTTP the list is a call.
    return ApiError.of(404, "admin.api_no_case", id=case_id.strip().upper())


async def one_case(request: web.Request) -> web.Response:
    scope = scope_of(await caller(request))
    services, case_id = request.app[SERVICES], request.match_info["id"]
    async with services.db.reading() as session:
        try:
            view = await case_detail(session, scope, case_id, today=services.local_date(utcnow()))
        except NotFound:
            raise _unknown(case_id) from None
    return json_answer(_out(view))


async def move(request: web.Request) -> web.Response:
    scope = scope_of(await caller(request))
    body = await read_body(request, CaseMove)
    services, now, case_id = request.app[SERVICES], utcnow(), request.match_info["id"]
    async with services.db.transaction() as session:
        try:
            view = await move_case(session, scope, case_id, body.action, now=now, today=services.local_date(now),
                                   assignee=body.assignee, note=body.note)
        except NotFound:
            raise _unknown(case_id) from None
    return json_answer(_out(view))


ROUTES = [web.get(f"{PREFIX}/cases", list_cases), web.get(f"{PREFIX}/cases/{{id}}", one_case),
          web.post(f"{PREFIX}/cases/{{id}}/moves", move)]


def _content(schema) -> dict:
    return {"application/json": {"schema": schema}}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
PATHS = {
    f"{PREFIX}/cases": {"get": {
        "summary": "Follow-up cases the key may see, overdue first (admin: all; head: its centre's; staff, viewer: "
                   "its centre's without harassment and payment reports)",
        "operationId": "list_cases", "tags": ["cases"],
        "parameters": [
            {"name": "centre", "in": "query", "schema": {"type": "string"}, "description": "A centre's code."},
            {"name": "status", "in": "query", "schema": {"enum": ["new", "in_progress", "resolved"]}},
            {"name": "overdue", "in": "query", "schema": {"type": "boolean"},
             "description": "true: only open cases past their due date."}],
        "responses": {"200": {"description": "OK", "content": _content({"type": "array", "items": CaseOut})},
                      **error_refs(400, 401, 403, 404)}}},
    f"{PREFIX}/cases/{{id}}": {"get": {
        "summary": "One case (404 for one outside the key's scope, as for an unknown id)",
        "operationId": "get_case", "tags": ["cases"], "parameters": [_ID],
        "responses": {"200": {"description": "OK", "content": _content(CaseOut)}, **error_refs(401, 404)}}},
    f"{PREFIX}/cases/{{id}}/moves": {"post": {
        "summary": "Assign, start (new → in_progress) or resolve (in_progress → resolved, with a note) a case "
                   "(admin, head and staff keys; viewer keys read only)",
        "operationId": "move_case", "tags": ["cases"], "parameters": [_ID],
        "requestBody": {"required": True, "content": _content(CaseMove)},
        "responses": {"200": {"description": "The case after the move", "content": _content(CaseOut)},
                      **error_refs(400, 401, 403, 404, 413)}}},
}
