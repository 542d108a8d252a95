"""`/dashboard`: the league table of centres for a chosen period (ranked by the lower bound of the SIPAS interval,
each with its interval bar, rank interval, five element indices, change and gap to target), the province row with
its change from the period before, and the exports. A centre's key sees only its centre's row."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from aiohttp import web

from bot.errors import UserError
from bot.http.api.reports import report_for
from bot.http.dashboard import periods
from bot.http.dashboard.render import language, page
from bot.http.dashboard.reports import QUERIES, league
from bot.http.dashboard.session import CALLER, csrf_token
from bot.http.dashboard.svg import bar, bar_axis
from bot.http.keys import SERVICES
from bot.reports.build import Report
from bot.reports.priority import criterion_label
from bot.reports.render import ELEMENT_SHORT
from bot.storage.base import utcnow
from bot.survey.api_keys import Caller
from bot.survey.case_access import open_counts, scope_of

ELEMENT_SHORT_EN = {"access": "Access", "procedure": "Procedure", "staff": "Staff", "result": "Result",
                    "feedback": "Feedback"}


def element_names(report_: Report, language: str) -> dict[str, str]:
    short = ELEMENT_SHORT if language == "vi" else ELEMENT_SHORT_EN
    return {code: short.get(code) or report_.instrument.elements[code].get(language) for code in report_.elements}


def criterion_name(report_: Report, code: str, language: str) -> str:
    """The criterion's short text ("Hồ sơ đúng quy định"), else "Thủ tục 2"."""
    question = report_.instrument.question(code)
    if question.short is not None:
        return question.short.get(language)
    element = question.element or ""
    return criterion_label(code, element_names(report_, language).get(element))


def suppressed_text(row: dict) -> str:
    """The locale key saying why a row shows only its n."""
    return "withheld_complementary" if row.get("suppressed_reason") == "complementary" else "too_few"


def table_row(row: dict, axis, centre_names: dict[str, str]) -> dict:
    target = ((row.get("target") or {}).get("sipas") or {})
    change = ((row.get("change") or {}).get("sipas") or {})
    return {"code": row.get("centre"), "name": centre_names.get(row.get("centre"), row.get("centre") or ""),
            "row": row, "bar": bar(axis, row["sipas"], row["sipas_ci"], target.get("target")),
            "target": target or None, "change": change or None, "why": suppressed_text(row)}


def export_links(kind: str, period: periods.Period) -> dict[str, str]:
    query = urlencode({**period.query(), "report": kind})
    return {"csv": f"/dashboard/export.csv?{query}", "xlsx": f"/dashboard/export.xlsx?{query}"}


def period_form(period: periods.Period, keys: list[str], language: str) -> dict:
    return {"kind": period.kind, "at": period.key, "kinds": periods.KINDS,
            "options": [{"key": key, "label": periods.label(key, period.kind, language)} for key in keys]}


async def chosen_period(request: web.Request) -> tuple[periods.Period, list[str]]:
    services = request.app[SERVICES]
    return periods.chosen(request.query, await periods.span(services, services.instrument(None).id))


async def overview(request: web.Request) -> web.Response:
    started = time.perf_counter()
    who: Caller = request[CALLER]
    period, keys = await chosen_period(request)
    try:
        found = await report_for(request.app[SERVICES], who, QUERIES["league"](period, who))
    except UserError as error:
        return page(request, "message.html", status=error.status, heading="error", lines=[],
                    message=error.text(language(request)))
    rows, total = league(found)
    services = request.app[SERVICES]
    async with services.db.reading() as session:  # the open and overdue follow-up cases the key may see
        cases = await open_counts(session, scope_of(who), today=services.local_date(utcnow()))
    axis = bar_axis([v for row in found.rows for v in (row["sipas_ci"] or [None])])
    lang = language(request)
    base = ((total or {}).get("change") or {}).get("period")
    return page(request, "overview.html", who=who, csrf=csrf_token(request), period=period,
                title=period.label(lang), form=period_form(period, keys, lang), axis=axis,
                rows=[table_row(row, axis, found.centre_names) for row in rows],
                total=table_row(total, axis, found.centre_names) if total else None,
                elements=element_names(found, lang), exports=export_links("league", period),
                base_label=periods.label(base, period.kind, lang) if base else None,
                cases=cases,
                centre_query=urlencode(period.query()), server_ms=round(1000 * (time.perf_counter() - started)))

