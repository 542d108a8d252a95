"""`/dashboard/centre/{code}`: one centre in the chosen period: its SIPAS, elements and criteria with intervals,
"ưu tiên cải thiện" (the criteria that would add most SIPAS points, `bot.reports.priority`), the participation
funnel, its monthly trend over a year with the 95% band and the significant changes marked, the answers to the
unscored questions and the latest comments, masked (`bot.reports.voices`)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

from aiohttp import web

from bot.errors import UserError
from bot.http.api.reports import report_for
from bot.http.dashboard.overview import (
    chosen_period,
    criterion_name,
    element_names,
    export_links,
    period_form,
    suppressed_text,
)
from bot.http.dashboard.periods import label
from bot.http.dashboard.render import language, page
from bot.http.dashboard.reports import QUERIES
from bot.http.dashboard.session import CALLER, csrf_token
from bot.http.dashboard.svg import bar, bar_axis, trend
from bot.http.keys import SERVICES
from bot.reports.request import PARTICIPATION
from bot.reports.voices import centre_voices
from bot.survey.api_keys import Caller


def _elements(row: dict, axis, names: dict[str, str]) -> list[dict]:
    intervals, aims = row.get("elements_ci") or {}, ((row.get("target") or {}).get("elements") or {})
    return [{"code": code, "name": names[code], "value": value, "ci": intervals.get(code),
             "bar": bar(axis, value, intervals.get(code), (aims.get(code) or {}).get("target"))}
            for code, value in (row.get("elements") or {}).items()]


def _criteria(found, row: dict, axis, lang: str) -> list[dict]:
    names = element_names(found, lang)
    return [{"code": code, "name": criterion_name(found, code, lang),
             "element": names.get(found.instrument.criteria()[code], ""), "n": measures["n"],
             "value": measures["satisfied_pct"], "ci": measures["ci"],
             "bar": bar(axis, measures["satisfied_pct"], measures["ci"])}
            for code, measures in (row.get("criteria") or {}).items()]


def _funnel(row: dict) -> list[dict] | None:
    counts = row.get("participation")
    if not counts or not counts.get("issued"):
        return None
    return [{"stage": stage, "count": counts[stage], "pct": 100 * counts[stage] / counts["issued"]}
            for stage in PARTICIPATION]


async def centre(request: web.Request) -> web.Response:
    started = time.perf_counter()
    who: Caller = request[CALLER]
    code = request.match_info["code"].strip().upper()
    if who.role != "admin" and code != who.centre:
        return page(request, "message.html", status=403, heading="forbidden", lines=["other_centre"])
    period, keys = await chosen_period(request)
    services = request.app[SERVICES]
    try:
        # Both at once: each scores in worker threads, and the machine has two cores.
        found, months = await asyncio.gather(report_for(services, who, QUERIES["league"](period, who)),
                                             report_for(services, who, QUERIES["trend"](period, who)))
    except UserError as error:
        return page(request, "message.html", status=error.status, heading="error", lines=[],
                    message=error.text(language(request)))
    row = next((r for r in found.rows if r.get("centre") == code and not r.get("total")), None)
    name = found.centre_names.get(code)
    if name is None:
        return page(request, "message.html", status=404, heading="not_found", lines=["no_centre"])
    lang = language(request)
    async with services.db.reading() as session:  # the unscored answers and the latest comments, masked
        def voices_now():
            return centre_voices(session, found.instrument, code, period.first, period.last, lang, found.request.min_n)

        memory = getattr(services, "reports", None)  # a server's: kept until a response of the period changes
        voices = await (memory.remembered(session, found.instrument.id, period.first, period.last,
                                          ("voices", code, lang, found.request.min_n), voices_now)
                        if memory is not None else voices_now())
    measures = [] if row is None else [
        *(row.get("elements_ci") or {}).values(), *(m["ci"] for m in (row.get("criteria") or {}).values())]
    axis = bar_axis([end for interval in measures for end in (interval or [None])])
    history = [r for r in months.rows if r.get("centre") == code]
    trend_rows = [(r["period"], r["sipas"], r["sipas_ci"], r.get("change")) for r in history]
    criteria = _criteria(found, row, axis, lang) if row else []
    names = {c["code"]: c["name"] for c in criteria}
    return page(request, "centre.html", who=who, csrf=csrf_token(request), period=period, code=code, name=name,
                title=f"{code} · {period.label(lang)}", form=period_form(period, keys, lang), row=row,
                why=suppressed_text(row) if row else None, axis=axis,
                sipas_bar=bar(axis, row["sipas"], row["sipas_ci"]) if row else None,
                elements=_elements(row, axis, element_names(found, lang)) if row else [], criteria=criteria,
                priority=[{**item, "name": names.get(item["code"], item["code"])}
                          for item in (row.get("priority") or [])] if row else [],
                funnel=_funnel(row) if row else None, chart=trend(trend_rows), voices=voices,
                history=[{"label": label(r["period"], "month", lang), "row": r} for r in history],
                exports=export_links("league", period), trend_exports=export_links("trend", period),
                back=f"/dashboard?{urlencode(period.query())}",
                server_ms=round(1000 * (time.perf_counter() - started)))
