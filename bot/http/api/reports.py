"""`GET /api/v1/reports/sipas[.csv|.xlsx]`: `sipas-bot report` over HTTP, the same parameters as query parameters
and the same output as `--format json|csv|xlsx` (built by `bot.reports`, nothing computed twice here).

A staff or viewer key sees its own centre only: the report must be grouped by centre, and only that centre's rows
leave (no province total, which would tell the other centres' figures apart). Their follow-up figures
(`cases`) count no harassment or payment report for a staff or viewer key: counter staff may not learn that such a
case exists (`bot.survey.case_access`), so they are counted without them; a head's key counts them."""

from __future__ import annotations

import asyncio
import tempfile
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from bot.http.api.auth import caller
from bot.http.api.errors import PREFIX, ApiError
from bot.http.keys import SERVICES
from bot.reports.build import Report, build_report
from bot.reports.cases import add_case_figures, applies
from bot.reports.render import render_csv, render_json
from bot.reports.request import ReportRequest, parse_request
from bot.services import Services
from bot.survey.api_keys import Caller

TEXT = ("survey", "from", "to", "period", "by", "origin", "compare", "weight")
NUMBERS = ("min_n", "window")
FLAGS = ("exclude_flagged", "total")
PARAMETERS = (*TEXT, *NUMBERS, *FLAGS)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A centre's key may not lower min_n below the report's default: groups of a few responses (one service on one
# day) would let counter staff tell a citizen's answers apart.
CENTRE_MIN_N = ReportRequest().min_n
# Workbooks of the latest reports, by the Report object: a served report is the same object while nothing it reads
# changed (bot.reports.memory), so its second download costs nothing (the first: 1-3 s at 100 centres, most of it
# the chart). Each entry holds its report, so an id is never reused while kept.
_WORKBOOKS: OrderedDict[int, tuple[Report, bytes]] = OrderedDict()
WORKBOOKS_KEPT = 8


def request_of(query) -> dict:
    """The keyword arguments of `parse_request` from the query string; 400 for a parameter it does not take, a
    parameter given twice, or a number or flag that is none."""
    unknown = sorted({name for name in query if name not in PARAMETERS}
                     | {name for name in query if len(query.getall(name)) > 1})
    if unknown:
        raise ApiError.of(400, "admin.api_unknown_parameter", names=", ".join(unknown), allowed=", ".join(PARAMETERS))
    options: dict = {}
    for name in TEXT:
        if name in query:
            options[{"from": "date_from", "to": "date_to"}.get(name, name)] = query[name]
    for name in NUMBERS:
        if name in query:
            try:
                options[name] = int(query[name])
            except ValueError:
                raise ApiError.of(400, "admin.api_bad_number", name=name, given=query[name]) from None
    for name in FLAGS:
        if name in query:
            given = query[name].strip().lower()
            if given not in _TRUE + _FALSE:
                raise ApiError.of(400, "admin.api_bad_flag", name=name, given=query[name])
            options[name] = given in _TRUE
    return options


def for_caller(report: Report, who: Caller) -> Report:
    """The report as ``who`` may see it: all of it for an admin key, else only the key's centre's rows."""
    if who.role == "admin":
        return report
    rows = [row for row in report.rows if row.get("centre") == who.centre and not row.get("total")]
    return replace(report, rows=rows)


async def _report(request: web.Request) -> Report:
    who = await caller(request)
    return await report_for(request.app[SERVICES], who, request.query)


async def report_for(services: Services, who: Caller, query) -> Report:
    """The report the query parameters ask for, as ``who`` may see it (the dashboard's exports too)."""
    wanted = parse_request(**request_of(query))  # a UserError (400) before any database work
    if who.role != "admin" and "centre" not in wanted.by:
        raise ApiError.of(403, "admin.api_needs_centre_rows", centre=who.centre)
    if who.role != "admin" and wanted.min_n < CENTRE_MIN_N:
        raise ApiError.of(403, "admin.api_min_n_floor", min_n=CENTRE_MIN_N, given=wanted.min_n)
    found = for_caller(await build_report(services, wanted), who)
    if who.role in ("staff", "viewer") and applies(found.request):
        rows = [dict(row) for row in found.rows]  # copies: the report's own rows keep every case
        await add_case_figures(services, found.request, rows, sensitive=False)  # its request names the survey
        found = replace(found, rows=rows)
    return found


async def sipas_json(request: web.Request) -> web.Response:
    report = await _report(request)
    return web.Response(text=render_json(report), content_type="application/json", charset="utf-8")


async def sipas_csv(request: web.Request) -> web.Response:
    return csv_response(await _report(request))


async def sipas_xlsx(request: web.Request) -> web.Response:
    return await xlsx_response(await _report(request))


def csv_response(report: Report) -> web.Response:
    # With a byte-order mark, as `report --format csv -o FILE` writes it: Excel then reads the Vietnamese as UTF-8.
    return web.Response(body=render_csv(report).encode("utf-8-sig"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{_file_name(report)}.csv"'})


async def xlsx_response(report: Report) -> web.Response:
    kept = _WORKBOOKS.get(id(report))
    if kept is not None and kept[0] is report:
        _WORKBOOKS.move_to_end(id(report))
        body = kept[1]
    else:
        body = await asyncio.to_thread(_xlsx_bytes, report)  # openpyxl is slow: off the event loop
        _WORKBOOKS[id(report)] = (report, body)
        while len(_WORKBOOKS) > WORKBOOKS_KEPT:
            _WORKBOOKS.popitem(last=False)
    return web.Response(body=body, content_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{_file_name(report)}.xlsx"'})


def _xlsx_bytes(report: Report) -> bytes:
    from bot.reports.xlsx import write_xlsx  # openpyxl loads only when a workbook is asked for

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.xlsx"
        write_xlsx(report, path)
        return path.read_bytes()


def _file_name(report: Report) -> str:
    """sipas-<survey>-<period>, e.g. sipas-sipas-2023-month (ASCII: survey ids and periods are)."""
    return f"sipas-{report.request.survey}-{report.request.period}"


ROUTES = [web.get(f"{PREFIX}/reports/sipas", sipas_json), web.get(f"{PREFIX}/reports/sipas.csv", sipas_csv),
          web.get(f"{PREFIX}/reports/sipas.xlsx", sipas_xlsx)]


# The report's JSON in outline (the rows' columns follow the survey and the options: see `sipas-bot report`).
REPORT_JSON = {"type": "object", "required": ["survey", "period", "by", "min_n", "rows"], "properties": {
    "survey": {"type": "string"}, "period": {"type": "string"}, "by": {"type": "array", "items": {"type": "string"}},
    "min_n": {"type": "integer"}, "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
    "origin": {"type": ["array", "null"]}, "exclude_flagged": {"type": "boolean"},
    "weight": {"type": ["string", "null"]}, "flagged": {"type": "object"},
    "rows": {"type": "array", "items": {"type": "object"}}}}
_PARAMETERS = [{"name": name, "in": "query", "required": False,
                "schema": {"type": "integer"} if name in NUMBERS else {"type": "boolean"} if name in FLAGS
                else {"type": "string"}} for name in PARAMETERS]
_FAILURES = {status: {"$ref": f"#/components/responses/{code}"}
             for status, code in (("400", "bad_request"), ("401", "unauthorized"), ("403", "forbidden"))}


def _report_path(suffix: str, media: str, schema: dict, what: str) -> dict:
    return {f"{PREFIX}/reports/sipas{suffix}": {"get": {
        "summary": f"The SIPAS report as {what} (`sipas-bot report --format {what.lower()}`)", "tags": ["reports"],
        "operationId": f"report_{what.lower()}", "parameters": _PARAMETERS,
        "responses": {"200": {"description": what, "content": {media: {"schema": schema}}}, **_FAILURES}}}}


PATHS = {**_report_path("", "application/json", REPORT_JSON, "JSON"),
         **_report_path(".csv", "text/csv", {"type": "string"}, "CSV"),
         **_report_path(".xlsx", XLSX, {"type": "string", "format": "binary"}, "XLSX")}
