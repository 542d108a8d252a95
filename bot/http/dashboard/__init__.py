"""The dashboard under `/dashboard`: server-rendered pages (Jinja2, inline SVG, no script) for admins and heads of
centres, logged in with an API key or a one-time login link (`bot.http.dashboard.session`), on the same reports as
the CLI and the API (`bot.http.dashboard.reports`)."""

from __future__ import annotations

from aiohttp import web

from bot.http.api.reports import csv_response, report_for, xlsx_response
from bot.http.dashboard import cases, centre, invitations, overview, session
from bot.http.dashboard.periods import chosen, span
from bot.http.dashboard.render import page, stylesheet
from bot.http.dashboard.reports import QUERIES
from bot.http.keys import SERVICES

__all__ = ["routes"]


@session.require_login
async def export(request: web.Request) -> web.Response:
    """The report of a page as CSV or XLSX: `GET /api/v1/reports/sipas.csv|.xlsx` with the page's parameters."""
    kind = request.query.get("report", "league")
    if kind not in QUERIES:
        return page(request, "message.html", status=404, heading="not_found", lines=["no_export"])
    services = request.app[SERVICES]
    period, _ = chosen(request.query, await span(services, services.instrument(None).id))
    found = await report_for(services, request[session.CALLER], QUERIES[kind](period, request[session.CALLER]))
    if request.match_info["format"] == "csv":
        return csv_response(found)
    return await xlsx_response(found)


def routes() -> list[web.RouteDef]:
    base = session.BASE
    return [
        web.get(base, session.require_login(overview.overview)),
        web.get(f"{base}/centre/{{code}}", session.require_login(centre.centre)),
        web.get(f"{base}/export.{{format:csv|xlsx}}", export),
        web.get(f"{base}/login", session.login_form),
        web.post(f"{base}/login", session.login_with_key),
        web.get(f"{base}/login/{{token}}", session.link_form),
        web.post(f"{base}/login/{{token}}", session.login_with_link),
        web.post(f"{base}/logout", session.logout),
        web.get(f"{base}/static/dashboard.css", stylesheet),
        *cases.routes(),
        *invitations.routes(),
    ]
