"""`POST /api/v1/invitations`: the case system's one call when a dossier is returned, and the QR code of each
invitation at `GET /api/v1/invitations/{id}/qr.png`.

Issuing is `bot.survey.batches.issue_batch` (or, with a phone, `bot.zalo.zns.invite_by_phone`), as for
`sipas-bot invite`. A dossier number is kept only as a keyed hash, to refuse a second invitation for it (409).

The QR endpoint: the token exists only in the answer to the POST (the database keeps its keyed hash), so the
`qr_url` carries it, `/api/v1/invitations/{id}/qr.png?token=TOKEN`, and the endpoint checks that the token's hash
is that invitation's before drawing the code of its link. No signature is needed: the token is 192 random bits
and is proof enough. A `qr_url` is as good as the QR itself, so it is fetched with the same key as the POST.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from aiohttp import web
from pydantic import Field
from sqlalchemy import select

from bot.http.api.auth import caller
from bot.http.api.bodies import Answer, Body, read_body
from bot.http.api.errors import PREFIX, ApiError
from bot.http.keys import SERVICES
from bot.storage.models import Centre, Invitation
from bot.storage.secret import keyed_hash
from bot.survey import directory
from bot.survey.api_keys import Caller
from bot.survey.batches import Links, issue_batch, links_now, web_base
from bot.survey.invitations import IssuedInvitation, dossier_hash, looks_like_token
from bot.survey.qr import qr_png
from bot.zalo.zns import check_ready, invite_by_phone

MAX_COUNT = 500  # one call; `sipas-bot invite` prints larger batches
Code = Annotated[str, Field(min_length=1, max_length=40)]


class IssueBody(Body):
    """What a case system sends: the centre, and optionally the service, survey, count, phone and dossier."""

    centre: Code = Field(description="The centre's code.")
    service: Code | None = Field(None, description="The service's code (thủ tục hành chính), if known.")
    survey: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        None, description="The instrument id; SIPAS_DEFAULT_SURVEY when left out.")
    count: Annotated[int, Field(ge=1, le=MAX_COUNT)] = Field(1, description="How many invitations, issued together.")
    expires_days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        None, description="Days they stay valid, to the end of that local day; SIPAS_INVITATION_DAYS when left out.")
    phone: Annotated[str, Field(min_length=1, max_length=30)] | None = Field(
        None, description="A Vietnamese mobile number: the one invitation is sent to it as a ZNS message.")
    dossier_ref: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="The dossier's number: kept only as a keyed hash, so a second invitation for it is "
                          "refused (409).")


class IssuedOut(Answer):
    id: int
    token: str = Field(description="Shown only here: the database keeps a keyed hash.")
    code: str = Field(description="The short code as printed, ABCD-EFGH.")
    centre: str
    service: str | None
    survey: str
    expires_at: dt.datetime = Field(description="UTC; the end of the last local day it is valid.")
    links: dict[str, str] = Field(description="web and telegram, where the settings give them.")
    qr_url: str | None = Field(description="The QR code of its link (PNG); null when there is no link.")
    phone: str | None = Field(None, description="The number it was sent to by ZNS, masked.")


class IssueOut(Answer):
    invitations: list[IssuedOut]
    valid_until: dt.date = Field(description="The last local day on which they are valid all day.")


def _out(issued: IssuedInvitation, links: Links, phone: str | None = None) -> IssuedOut:
    qr = f"{PREFIX}/invitations/{issued.id}/qr.png?token={issued.token}" if links.for_qr(issued.token) else None
    return IssuedOut(id=issued.id, token=issued.token, code=issued.display_code, centre=issued.centre,
                     service=issued.service, survey=issued.survey, expires_at=issued.expires_at,
                     links=links.of(issued.token), qr_url=qr, phone=phone)


def _may_issue(who: Caller, centre: str) -> None:
    if who.role == "viewer":
        raise ApiError.of(403, "admin.api_viewer_no_issue")
    if who.role != "admin" and who.centre != centre:
        raise ApiError.of(403, "admin.api_other_centre", centre=who.centre, asked=centre)


async def issue(request: web.Request) -> web.Response:
    who = await caller(request)
    body = await read_body(request, IssueBody)
    services = request.app[SERVICES]
    _may_issue(who, directory.normalize_code(body.centre, "centre code"))
    dossier = dossier_hash(services.secret_key, body.dossier_ref) if body.dossier_ref is not None else None
    if body.phone is not None:
        if body.count != 1:
            raise ApiError.of(400, "admin.api_phone_one", count=body.count)
        check_ready(services.settings)  # ZNS not set up: refused (400, which setting), not silently dropped
        sent = await invite_by_phone(services, body.phone, body.centre, body.service, body.survey,
                                     expires_days=body.expires_days, dossier=dossier)
        # The ZNS message carries the web link; the answer gives the same, for a receipt.
        links = Links(web_base(services.settings), None)
        answer = IssueOut(invitations=[_out(sent.issued, links, sent.phone_masked)], valid_until=sent.valid_until)
    else:
        batch = await issue_batch(services, centre_code=body.centre, service_code=body.service, survey=body.survey,
                                  count=body.count, expires_days=body.expires_days, dossier=dossier)
        answer = IssueOut(invitations=[_out(one, batch.links) for one in batch.issued], valid_until=batch.valid_until)
    # The tokens are credentials: no cache along the way may keep them.
    return web.json_response(answer.model_dump(mode="json"), status=201, headers={"Cache-Control": "no-store"})


async def qr(request: web.Request) -> web.Response:
    who = await caller(request)
    if who.role == "viewer":
        raise ApiError.of(403, "admin.api_viewer_no_issue")
    raw_id, token = request.match_info["id"], request.query.get("token", "")
    services = request.app[SERVICES]
    async with services.db.reading() as session:
        found = (await session.execute(select_invitation(int(raw_id)))).first() if _is_id(raw_id) else None
        if found is None:
            raise ApiError.of(404, "admin.api_no_invitation", id=raw_id)
        invitation, centre = found
        if who.role != "admin" and who.centre != centre:
            raise ApiError.of(403, "admin.api_other_centre", centre=who.centre, asked=centre)
        if not looks_like_token(token) or keyed_hash(services.secret_key, "token", token) != invitation.token_hash:
            raise ApiError.of(404, "admin.api_no_invitation", id=raw_id)
        link = (await links_now(session, services.settings)).for_qr(token)
    if link is None:
        raise ApiError.of(409, "admin.api_qr_no_link")
    png = await asyncio.to_thread(qr_png, link)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


def _is_id(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) <= 18  # a row id: fits a 64-bit integer


def select_invitation(invitation_id: int):
    return select(Invitation, Centre.code).join(Centre, Centre.id == Invitation.centre_id).where(
        Invitation.id == invitation_id)


ROUTES = [web.post(f"{PREFIX}/invitations", issue), web.get(f"{PREFIX}/invitations/{{id}}/qr.png", qr)]

_ERRORS = {"400": "bad_request", "401": "unauthorized", "403": "forbidden"}
PATHS = {
    f"{PREFIX}/invitations": {"post": {
        "summary": "Issue one invitation or a batch (a case system's call when a dossier is returned)",
        "operationId": "issueInvitations", "tags": ["invitations"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": IssueBody}}},
        "responses": {"201": {"description": "Issued: tokens, short codes, links and QR addresses",
                              "content": {"application/json": {"schema": IssueOut}}},
                      **{status: {"$ref": f"#/components/responses/{name}"} for status, name in _ERRORS.items()},
                      "404": {"$ref": "#/components/responses/not_found"},
                      "409": {"$ref": "#/components/responses/conflict"},
                      "413": {"$ref": "#/components/responses/too_large"}}}},
    f"{PREFIX}/invitations/{{id}}/qr.png": {"get": {
        "summary": "The QR code of an invitation's link (the qr_url of its issue, token included)",
        "operationId": "invitationQr", "tags": ["invitations"],
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "token", "in": "query", "required": True, "schema": {"type": "string"},
                        "description": "The invitation's token, as in qr_url."}],
        "responses": {"200": {"description": "PNG", "content": {"image/png": {"schema": {"type": "string",
                                                                                         "format": "binary"}}}},
                      **{status: {"$ref": f"#/components/responses/{name}"} for status, name in _ERRORS.items()
                         if status != "400"},
                      "404": {"$ref": "#/components/responses/not_found"},
                      "409": {"$ref": "#/components/responses/conflict"}}}},
}
