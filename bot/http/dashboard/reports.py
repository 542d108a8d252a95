"""The reports behind the dashboard's pages, asked for with the API's own query parameters and built by the API's
own function (`bot.http.api.reports.report_for`): the same figures, the same restriction of a centre's key, and
exports with the same bytes as `GET /api/v1/reports/sipas.csv|.xlsx` with those parameters."""

from __future__ import annotations

import asyncio
import logging

from multidict import MultiDict

from bot.http.api.reports import request_of
from bot.http.dashboard.periods import Period, chosen, months_to, span
from bot.reports.build import Report
from bot.reports.request import ReportRequest, parse_request
from bot.services import Services
from bot.survey.api_keys import Caller

TREND_MONTHS = 12
REFRESH_SECONDS = 60
log = logging.getLogger(__name__)


def league_query(period: Period, who: Caller) -> MultiDict:
    """The period's league table of centres with each one's change from the period before; for an admin key also
    the province row (a centre's key gets only its centre's rows: no total)."""
    query = MultiDict(period=period.kind, by="centre", compare="previous", **{
        "from": period.first.isoformat(), "to": period.last.isoformat()})
    if who.role == "admin":
        query["total"] = "true"
    return query


def trend_query(period: Period) -> MultiDict:
    """Month by month over the year that ends with the period, each month against the one before."""
    first, last = months_to(period, TREND_MONTHS)
    return MultiDict(period="month", by="centre", compare="previous", **{"from": first.isoformat(),
                                                                         "to": last.isoformat()})


QUERIES = {"league": league_query, "trend": lambda period, _who: trend_query(period)}


async def usual_requests(services: Services) -> list[ReportRequest]:
    """The reports of the pages a province admin opens first: the league tables of the latest month, quarter and
    year with responses, and the twelve-month trend of a centre's page (a server computes them at its start, so
    that the first visitor does not wait seconds for them at a million responses)."""
    days = await span(services, services.instrument(None).id)
    admin = Caller(0, "admin", None)
    month, _ = chosen({"period": "month"}, days)
    queries = [league_query(month, admin), trend_query(month),
               *(league_query(chosen({"period": kind}, days)[0], admin) for kind in ("quarter", "year"))]
    return [parse_request(**request_of(query)) for query in queries]


def league(report_: Report) -> tuple[list[dict], dict | None]:
    """The centres' rows in the report's order (highest lower bound first, suppressed last) and the province row."""
    rows = [row for row in report_.rows if not row.get("total")]
    total = next((row for row in report_.rows if row.get("total")), None)
    return rows, total


async def refresh_usual_pages(services: Services, every: float = REFRESH_SECONDS) -> None:
    """Forever, every ``every`` seconds: compute again, in the background, those of the usual pages that new
    answers changed (only the changed period: a year's page takes about a second at a million responses), so that
    the next visitor finds them ready; unchanged ones cost a check of the day versions."""
    while True:
        await asyncio.sleep(every)
        try:
            for request in await usual_requests(services):
                await services.reports.report(services, request)
        except Exception:  # a page asked later says what is wrong; the server runs on
            log.exception("refreshing the dashboard's usual pages failed")
