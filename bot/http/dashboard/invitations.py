"""`/dashboard/invitations`: issue a batch of invitations for a counter (`bot.survey.batches.issue_batch`, as
`sipas-bot invite` and `POST /api/v1/invitations` do) and print its A4 sheet of QR cards (`bot.survey.batch_sheet`,
the CLI's --qr-dir sheet) or download its codes as CSV (the CLI's --format csv).

The tokens exist only at issue (the database keeps their keyed hashes), so an issued batch is kept in this
process's memory for an hour, for the key that issued it only, under a random id: the sheet and the CSV can be
opened, reloaded and printed, and a reload never issues again. A staff or head key issues for its own centre
only; a viewer key cannot issue."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import time
import weakref
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import select

from bot.errors import UserError
from bot.http.api.invitations import MAX_COUNT
from bot.http.dashboard.render import HEADERS, language, page, redirect
from bot.http.dashboard.session import BASE, CALLER, check_csrf, csrf_token, require_login
from bot.http.keys import SERVICES
from bot.storage.models import Centre, Service
from bot.survey import batch_sheet
from bot.survey.api_keys import Caller
from bot.survey.batches import Batch, issue_batch

KEEP_SECONDS = 3600
KEEP_BATCHES = 50  # per server: the oldest goes first
MAX_DAYS = 366


@dataclass
class _Kept:
    key_id: int
    made: float
    batch: Batch
    sheet: str | None = None


@dataclass
class _Store:
    batches: dict[str, _Kept] = field(default_factory=dict)

    def put(self, key_id: int, batch: Batch) -> str:
        self.prune()
        while len(self.batches) >= KEEP_BATCHES:
            self.batches.pop(next(iter(self.batches)))
        batch_id = secrets.token_urlsafe(16)
        self.batches[batch_id] = _Kept(key_id, time.monotonic(), batch)
        return batch_id

    def get(self, batch_id: str, key_id: int) -> _Kept | None:
        self.prune()
        kept = self.batches.get(batch_id)
        return kept if kept is not None and kept.key_id == key_id else None

    def prune(self) -> None:
        for batch_id in [b for b, kept in self.batches.items() if time.monotonic() - kept.made > KEEP_SECONDS]:
            del self.batches[batch_id]


_STORES: weakref.WeakKeyDictionary[web.Application, _Store] = weakref.WeakKeyDictionary()


def _store(request: web.Request) -> _Store:
    return _STORES.setdefault(request.app, _Store())


async def _choices(request: web.Request, who: Caller) -> dict:
    services = request.app[SERVICES]
    async with services.db.reading() as session:
        query = select(Centre.code, Centre.name).order_by(Centre.code)
        if who.role != "admin":
            query = query.where(Centre.code == who.centre)
        centres = (await session.execute(query)).all()
        kinds = (await session.execute(select(Service.code, Service.name).order_by(Service.code))).all()
    return {"centres": [tuple(c) for c in centres], "service_options": [tuple(s) for s in kinds],
            "surveys": sorted(services.instruments), "max_count": MAX_COUNT, "max_days": MAX_DAYS}


def _form_page(request: web.Request, who: Caller, choices: dict, given: dict, *, status: int = 200,
               error: str | None = None) -> web.Response:
    return page(request, "invitations.html", status=status, who=who, csrf=csrf_token(request), error=error,
                given=given, **choices)


def _viewer_refused(request: web.Request, who: Caller) -> web.Response:
    return page(request, "message.html", status=403, heading="forbidden", lines=["viewer_no_issue"], who=who,
                csrf=csrf_token(request))


async def form(request: web.Request) -> web.Response:
    who: Caller = request[CALLER]
    if who.role == "viewer":
        return _viewer_refused(request, who)
    settings = request.app[SERVICES].settings
    given = {"centre": who.centre or "", "service": "", "survey": settings.default_survey, "count": "12",
             "expires_days": str(settings.invitation_days)}
    return _form_page(request, who, await _choices(request, who), given)


def _whole(raw: str, low: int, high: int, key: str) -> int:
    text = raw.strip()
    if not re.fullmatch(r"\d{1,6}", text) or not low <= int(text) <= high:
        raise UserError.say(f"dashboard.{key}", low=low, high=high, given=raw)
    return int(text)


async def issue(request: web.Request) -> web.Response:
    refused = await check_csrf(request)
    if refused:
        return refused
    who: Caller = request[CALLER]
    if who.role == "viewer":
        return _viewer_refused(request, who)
    posted = await request.post()
    given = {name: str(posted.get(name, "")) for name in ("centre", "service", "survey", "count", "expires_days")}
    if who.role != "admin":
        given["centre"] = who.centre  # a centre's key issues for its own centre, whatever the form says
    services = request.app[SERVICES]
    try:
        count = _whole(given["count"], 1, MAX_COUNT, "bad_count")
        days = _whole(given["expires_days"], 1, MAX_DAYS, "bad_days")
        if not given["centre"].strip():
            raise UserError.say("dashboard.no_centre_chosen")
        batch = await issue_batch(services, centre_code=given["centre"], service_code=given["service"] or None,
                                  survey=given["survey"] or None, count=count, expires_days=days)
    except UserError as error:
        return _form_page(request, who, await _choices(request, who), given, status=error.status,
                          error=error.text(language(request)))
    return redirect(f"{BASE}/invitations/{_store(request).put(who.key_id, batch)}")


def _kept(request: web.Request) -> _Kept | None:
    return _store(request).get(request.match_info["batch"], request[CALLER].key_id)


def _gone(request: web.Request) -> web.Response:
    return page(request, "message.html", status=404, heading="not_found", lines=["batch_gone"],
                who=request[CALLER], csrf=csrf_token(request))


async def issued(request: web.Request) -> web.Response:
    kept = _kept(request)
    if kept is None:
        return _gone(request)
    batch_id = request.match_info["batch"]
    return page(request, "invitations_issued.html", who=request[CALLER], csrf=csrf_token(request),
                batch=kept.batch, records=batch_sheet.records(kept.batch),
                valid=batch_sheet.dmy(kept.batch.valid_until), gaps=kept.batch.links.gaps(),
                sheet=f"{BASE}/invitations/{batch_id}/sheet", csv=f"{BASE}/invitations/{batch_id}/codes.csv")


async def sheet(request: web.Request) -> web.Response:
    """The printable sheet itself: the CLI's self-contained HTML, its inline stylesheet allowed by its hash."""
    kept = _kept(request)
    if kept is None:
        return _gone(request)
    if kept.sheet is None:
        kept.sheet = await asyncio.to_thread(batch_sheet.sheet, kept.batch)  # drawing QR codes takes a while
    styles = re.findall(r"<style>(.*?)</style>", kept.sheet, flags=re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles)
    policy = HEADERS["Content-Security-Policy"].replace("style-src 'self'", f"style-src {hashes}")
    return web.Response(text=kept.sheet, content_type="text/html", charset="utf-8",
                        headers={**HEADERS, "Content-Security-Policy": policy})


async def codes_csv(request: web.Request) -> web.Response:
    kept = _kept(request)
    if kept is None:
        return _gone(request)
    body = batch_sheet.csv_text(batch_sheet.records(kept.batch)).encode("utf-8-sig")  # BOM: Excel reads UTF-8
    return web.Response(body=body, content_type="text/csv", charset="utf-8", headers={
        **HEADERS, "Content-Disposition": 'attachment; filename="invitations.csv"'})


def routes() -> list[web.RouteDef]:
    base = f"{BASE}/invitations"
    return [web.get(base, require_login(form)), web.post(base, require_login(issue)),
            web.get(f"{base}/{{batch}}", require_login(issued)),
            web.get(f"{base}/{{batch}}/sheet", require_login(sheet)),
            web.get(f"{base}/{{batch}}/codes.csv", require_login(codes_csv))]
