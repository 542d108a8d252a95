"""Drawing the dashboard's pages: Jinja2 templates (autoescape on), the language of the page (Vietnamese unless
?lang=en or the language cookie says English), numbers the way that language writes them, the security headers
and the stylesheet.

No script at all: every page, its charts included (inline SVG), reads the same without JavaScript.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import jinja2
from aiohttp import web

from bot.reports.render import vi_number
from bot.texts import LANGUAGES, say

LANGUAGE_COOKIE = "sipas_lang"
# Nothing from another site, no script, forms post only here, no framing; the SVG charts are inline markup.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
_CSS = resources.files("bot.http.dashboard").joinpath("static", "dashboard.css").read_bytes()
CSS_VERSION = hashlib.sha256(_CSS).hexdigest()[:10]


def language(request: web.Request) -> str:
    """?lang= when it names a language we speak, else the cookie's, else Vietnamese."""
    for given in (request.query.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if given in LANGUAGES:
            return given
    return "vi"


def number(value: float | None, language: str, digits: int = 2, none: str = "–") -> str:
    """83.9412 → "83,94" in Vietnamese, "83.94" in English; 1234 (digits=0) → "1.234" or "1,234"."""
    if value is None:
        return none
    return vi_number(value, digits, none) if language == "vi" else f"{value:,.{digits}f}"


def signed(value: float | None, language: str, digits: int = 2) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "−" if value < 0 else "±") + number(abs(value), language, digits)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("bot.http.dashboard", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["css"] = f"/dashboard/static/dashboard.css?v={CSS_VERSION}"
    return env


ENV = _environment()


def page(request: web.Request, template: str, *, status: int = 200, **context) -> web.Response:
    """A page in the request's language (kept in a cookie when ?lang= chose it), with the security headers."""
    lang = language(request)

    def text(key: str, **values) -> str:
        return say(f"dashboard.{key}", lang, **values)

    html = ENV.get_template(template).render(
        lang=lang, other_lang="en" if lang == "vi" else "vi", t=text, path=request.path,
        query={k: v for k, v in request.query.items() if k != "lang"},
        num=lambda value, digits=2: number(value, lang, digits), signed=lambda value: signed(value, lang),
        **context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86_400, path="/dashboard", samesite="Strict",
                            httponly=True)
    return response


def redirect(location: str) -> web.Response:
    """See Other: after a post the browser fetches the page with GET."""
    return web.Response(status=303, headers={**HEADERS, "Location": location})


async def stylesheet(request: web.Request) -> web.Response:
    fresh = request.query.get("v") == CSS_VERSION
    return web.Response(body=_CSS, content_type="text/css", charset="utf-8", headers={
        "Cache-Control": "public, max-age=31536000, immutable" if fresh else "no-cache",
        "X-Content-Type-Options": "nosniff"})
