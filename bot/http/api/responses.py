"""`GET /api/v1/responses.csv` (admin keys only): `sipas-bot export responses` over HTTP, its options as query
parameters and its CSV file byte for byte (the importer's wide format, formulas guarded), built by the same
functions of `bot.paper.exporter`. Streamed: the rows are read and sent in parts, so a million responses never sit
in memory at once. The codebook stays with the CLI (`export responses -o FILE` writes it beside the file)."""

from __future__ import annotations

import datetime as dt
import logging

from aiohttp import web

from bot import counters
from bot.errors import NotFound
from bot.http.api.auth import caller
from bot.http.api.errors import PREFIX, ApiError
from bot.http.keys import SERVICES
from bot.paper import exporter

PATH = f"{PREFIX}/responses.csv"
PARAMETERS = ("survey", "from", "to", "exclude_flagged")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
log = logging.getLogger(__name__)
ROWS_PER_PART = 5000  # about 2 MB of CSV for sipas-2023: a part is read, then sent, then the next one


def export_options(query) -> tuple[str | None, dt.date | None, dt.date | None, bool]:
    """(survey, first day, last day, exclude flagged) from the query string; 400 for a parameter the export does
    not take, one given twice, a day that is no YYYY-MM-DD, a first day after the last, a flag that is none."""
    unknown = sorted({name for name in query if name not in PARAMETERS}
                     | {name for name in query if len(query.getall(name)) > 1})
    if unknown:
        raise ApiError.of(400, "admin.api_unknown_parameter", names=", ".join(unknown), allowed=", ".join(PARAMETERS))
    first, last = exporter.parse_day(query.get("from"), "from"), exporter.parse_day(query.get("to"), "to")
    if first and last and first > last:
        raise ApiError.of(400, "admin.api_from_after_to", first=first, last=last)
    given = query.get("exclude_flagged", "").strip().lower()
    if given not in _TRUE + _FALSE:
        raise ApiError.of(400, "admin.api_bad_flag", name="exclude_flagged", given=query["exclude_flagged"])
    return query.get("survey") or None, first, last, given in _TRUE


async def responses_csv(request: web.Request) -> web.StreamResponse:
    who = await caller(request)
    if who.role != "admin":  # every centre's answers, comments included: the province's admins only
        raise ApiError.of(403, "admin.api_responses_admin_only")
    survey, first, last, exclude_flagged = export_options(request.query)
    services = request.app[SERVICES]
    try:
        instrument = services.instrument(survey)
    except NotFound as error:  # a bad parameter, not a missing address
        raise ApiError.of(400, "admin.unknown_survey", **error.values) from None
    async with services.db.reading() as session:
        parts = exporter.iter_wide(session, instrument, first, last, ROWS_PER_PART)
        table = await anext(parts)  # read before the headers leave: a database error is still a JSON 500
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="responses-{instrument.id}.csv"'})
        await response.prepare(request)
        try:
            # With a byte-order mark, as the CLI's file: Excel then reads the Vietnamese as UTF-8.
            await response.write(b"\xef\xbb\xbf" + _part(table, exclude_flagged, header=True))
            async for table in parts:
                await response.write(_part(table, exclude_flagged, header=False))
        except ConnectionResetError:  # the client went away: no bug, and nobody to tell
            return response
        except Exception:
            # The headers are gone, so no JSON error can follow: cut the connection, and the client sees an
            # unfinished download, never a shorter file that looks whole.
            log.exception("HTTP GET %s failed while streaming", request.path)
            counters.error_caught("http")
            if request.transport is not None:
                request.transport.close()
            return response
    await response.write_eof()
    return response


def _part(table, exclude_flagged: bool, *, header: bool) -> bytes:
    if exclude_flagged:
        table, _ = exporter.without_flagged(table)
    return exporter.csv_part(table, header=header).encode("utf-8")


ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
PATHS = {PATH: {"get": {
    "summary": "The anonymous responses in the export format (`sipas-bot export responses`)",
    "description": "Admin keys only (`Authorization: Bearer <key>`). Streamed in parts of a few thousand rows.",
    "operationId": "exportResponses",
    "parameters": [
        {"name": "survey", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "Instrument id (default: SIPAS_DEFAULT_SURVEY, sipas-2023)."},
        {"name": "from", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
         "description": "First day (inclusive), YYYY-MM-DD."},
        {"name": "to", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
         "description": "Last day (inclusive), YYYY-MM-DD."},
        {"name": "exclude_flagged", "in": "query", "required": False, "schema": {"type": "boolean"},
         "description": "Leave out the responses flagged as a burst from one client address."},
    ],
    "responses": {
        "200": {"description": "UTF-8 CSV with a byte-order mark: the importer's wide columns, then open_survey "
                               "and flagged; texts that start like a formula get an apostrophe.",
                "content": {"text/csv": {"schema": {"type": "string"}}}},
        **{status: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
           for status, text in (("400", "A bad parameter"), ("401", "No key, or a wrong or revoked one"),
                                ("403", "Not an admin key"))},
    },
}}}

ROUTES = [web.get(PATH, responses_csv)]
