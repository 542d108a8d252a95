"""Centres, services and staff over HTTP: list, create (`POST`), update (`PATCH`), with the functions of
`bot.survey.directory` that `sipas-bot centre|service|staff` use.

Changes take an admin key. Reading: services (the procedures' names) with any key; centres with any key, a centre's
key seeing its own only; staff (their chat accounts) with an admin key only. In a PATCH a field left out stays as it
is, and null clears what may be empty (a centre's parent and alert chat, a service's field, a staff member's name).
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot.http.api.auth import caller
from bot.http.api.bodies import Answer, Body, json_answer, read_body
from bot.http.api.errors import PREFIX, ApiError, error_refs
from bot.http.keys import SERVICES
from bot.storage.models import Centre, Service, Staff
from bot.survey import directory
from bot.survey.api_keys import Caller

Code = Annotated[str, Field(min_length=1, max_length=40)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class CentreOut(Answer):
    code: str
    name: str
    parent: str | None = Field(description="The code of the centre it reports to (roll-ups).")
    open_surveys: bool = Field(description="Accepts surveys without an invitation.")
    alert_chat: str | None = Field(description="PLATFORM:CHAT that gets alerts about low ratings.")


class CentreNew(Body):
    code: Code
    name: Text
    parent: Code | None = None
    open_surveys: bool = False
    alert_chat: Annotated[str, Field(max_length=100)] | None = None


class CentreChange(Body):
    name: Text | None = None
    parent: Code | None = Field(None, description="null: no parent.")
    open_surveys: bool | None = None
    alert_chat: Annotated[str, Field(max_length=100)] | None = Field(None, description="null: no alerts.")


class ServiceOut(Answer):
    code: str
    name: str
    field: str | None = Field(description="Lĩnh vực, the field of procedures.")


class ServiceNew(Body):
    code: Annotated[str, Field(min_length=1, max_length=40)]
    name: Text
    field: Annotated[str, Field(max_length=300)] | None = None


class ServiceChange(Body):
    name: Text | None = None
    field: Annotated[str, Field(max_length=300)] | None = Field(None, description="null: none.")


class StaffOut(Answer):
    id: int
    centre: str
    platform: Literal["telegram", "zalo"]
    user_id: str
    role: Literal["staff", "admin"]
    name: str | None


class StaffNew(Body):
    centre: Code
    platform: Literal["telegram", "zalo"]
    user_id: Annotated[str, Field(min_length=1, max_length=64)]
    role: Literal["staff", "admin"] = "staff"
    name: Annotated[str, Field(max_length=200)] | None = None


class StaffChange(Body):
    centre: Code | None = None
    role: Literal["staff", "admin"] | None = None
    name: Annotated[str, Field(max_length=200)] | None = Field(None, description="null: no name.")


def _admin(who: Caller) -> None:
    if who.role != "admin":
        raise ApiError.of(403, "admin.api_admin_only")


def _changes(body: Body, clearable: tuple[str, ...]) -> dict:
    """The fields a PATCH gave, null as '' where it clears (what `bot.survey.directory`'s change functions take)."""
    given = {name: getattr(body, name) for name in body.model_fields_set}
    return {name: ("" if value is None and name in clearable else value) for name, value in given.items()
            if value is not None or name in clearable}


def _centre_out(centre: Centre, codes: dict[int, str]) -> CentreOut:
    return CentreOut(code=centre.code, name=centre.name, parent=codes.get(centre.parent_id),
                     open_surveys=centre.open_surveys, alert_chat=centre.alert_chat)


def _staff_out(staff: Staff, codes: dict[int, str]) -> StaffOut:
    return StaffOut(id=staff.id, centre=codes[staff.centre_id], platform=staff.platform,
                    user_id=staff.platform_user_id, role=staff.role, name=staff.name)


async def list_centres(request: web.Request) -> web.Response:
    who = await caller(request)
    async with request.app[SERVICES].db.reading() as session:
        query = select(Centre).order_by(Centre.code)
        if who.role != "admin":
            query = query.where(Centre.code == who.centre)
        centres = (await session.scalars(query)).all()
        codes = await directory.centre_codes(session)
    return json_answer([_centre_out(centre, codes) for centre in centres])


async def add_centre(request: web.Request) -> web.Response:
    _admin(await caller(request))
    body = await read_body(request, CentreNew)
    async with request.app[SERVICES].db.transaction() as session:
        centre = await directory.add_centre(session, body.code, body.name, body.parent, body.open_surveys)
        if body.alert_chat is not None:
            centre = await directory.change_centre(session, centre.code, alert_chat=body.alert_chat)
        out = _centre_out(centre, await directory.centre_codes(session))
    return json_answer(out, 201)


async def change_centre(request: web.Request) -> web.Response:
    _admin(await caller(request))
    body = await read_body(request, CentreChange)
    async with request.app[SERVICES].db.transaction() as session:
        centre = await directory.change_centre(session, request.match_info["code"],
                                               **_changes(body, ("parent", "alert_chat")))
        out = _centre_out(centre, await directory.centre_codes(session))
    return json_answer(out)


def _service_out(service: Service) -> ServiceOut:
    return ServiceOut(code=service.code, name=service.name, field=service.field)


async def list_services(request: web.Request) -> web.Response:
    await caller(request)
    async with request.app[SERVICES].db.reading() as session:
        services = (await session.scalars(select(Service).order_by(Service.code))).all()
    return json_answer([_service_out(service) for service in services])


async def add_service(request: web.Request) -> web.Response:
    _admin(await caller(request))
    body = await read_body(request, ServiceNew)
    async with request.app[SERVICES].db.transaction() as session:
        out = _service_out(await directory.add_service(session, body.code, body.name, body.field))
    return json_answer(out, 201)


async def change_service(request: web.Request) -> web.Response:
    _admin(await caller(request))
    body = await read_body(request, ServiceChange)
    async with request.app[SERVICES].db.transaction() as session:
        out = _service_out(await directory.change_service(session, request.match_info["code"],
                                                          **_changes(body, ("field",))))
    return json_answer(out)


async def list_staff(request: web.Request) -> web.Response:
    _admin(await caller(request))
    async with request.app[SERVICES].db.reading() as session:
        staff = (await session.scalars(select(Staff).order_by(Staff.id))).all()
        codes = await directory.centre_codes(session)
    return json_answer([_staff_out(member, codes) for member in staff])


async def add_staff(request: web.Request) -> web.Response:
    _admin(await caller(request))
    body = await read_body(request, StaffNew)
    async with request.app[SERVICES].db.transaction() as session:
        staff = await directory.add_staff(session, body.centre, body.platform, body.user_id, body.role, body.name)
        out = _staff_out(staff, await directory.centre_codes(session))
    return json_answer(out, 201)


async def change_staff(request: web.Request) -> web.Response:
    _admin(await caller(request))
    body = await read_body(request, StaffChange)
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):  # a row id: fits a 64-bit integer
        raise ApiError.of(404, "admin.api_no_staff", id=raw)
    async with request.app[SERVICES].db.transaction() as session:
        staff = await directory.change_staff(session, int(raw), **_changes(body, ("name",)))
        out = _staff_out(staff, await directory.centre_codes(session))
    return json_answer(out)


ROUTES = [
    web.get(f"{PREFIX}/centres", list_centres), web.post(f"{PREFIX}/centres", add_centre),
    web.patch(f"{PREFIX}/centres/{{code}}", change_centre),
    web.get(f"{PREFIX}/services", list_services), web.post(f"{PREFIX}/services", add_service),
    web.patch(f"{PREFIX}/services/{{code}}", change_service),
    web.get(f"{PREFIX}/staff", list_staff), web.post(f"{PREFIX}/staff", add_staff),
    web.patch(f"{PREFIX}/staff/{{id}}", change_staff),
]


def _paths(kind: str, item: str, out: type[BaseModel], new: type[Body], change: type[Body], reads: str) -> dict:
    """The path items of one kind of entry: list and create at /KIND, update at /KIND/{ITEM}."""
    def json(schema) -> dict:
        return {"application/json": {"schema": schema}}

    written = error_refs(400, 401, 403, 404, 409, 413)
    return {
        f"{PREFIX}/{kind}": {
            "get": {"summary": f"List {kind} ({reads})", "operationId": f"list_{kind}", "tags": [kind],
                    "responses": {"200": {"description": "OK", "content": json({"type": "array", "items": out})},
                                  **error_refs(401, 403)}},
            "post": {"summary": f"Create one of the {kind} (admin)", "operationId": f"create_{kind}", "tags": [kind],
                     "requestBody": {"required": True, "content": json(new)},
                     "responses": {"201": {"description": "Created", "content": json(out)}, **written}}},
        f"{PREFIX}/{kind}/{{{item}}}": {
            "patch": {"summary": f"Change one of the {kind} (admin): the fields given", "tags": [kind],
                      "operationId": f"change_{kind}",
                      "parameters": [{"name": item, "in": "path", "required": True,
                                      "schema": {"type": "integer" if item == "id" else "string"}}],
                      "requestBody": {"required": True, "content": json(change)},
                      "responses": {"200": {"description": "Changed", "content": json(out)}, **written}}},
    }


PATHS = {**_paths("centres", "code", CentreOut, CentreNew, CentreChange, "a centre's key: its own"),
         **_paths("services", "code", ServiceOut, ServiceNew, ServiceChange, "any key"),
         **_paths("staff", "id", StaffOut, StaffNew, StaffChange, "admin")}
