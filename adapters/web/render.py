"""Drawing the web survey's pages: Jinja2 templates (autoescape on, so a comment with HTML shows as text), the
security headers every page carries, and the two static files (a stylesheet and a small optional script).

Pages are never cached (they show where a survey stands); the static files are, for a year, under a name that
carries their content hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import jinja2
from aiohttp import web

from bot.errors import grouped
from bot.texts import say

# No inline script or style, nothing from another site; forms post only here; no framing (clickjacking).
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token in /s/TOKEN must never leave in a Referer
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_TYPES = {"web.css": "text/css", "web.js": "text/javascript"}


@dataclass(frozen=True)
class Static:
    body: bytes
    content_type: str
    version: str


def _load_static() -> dict[str, Static]:
    folder = resources.files("adapters.web").joinpath("static")
    files = {}
    for name, content_type in _TYPES.items():
        body = folder.joinpath(name).read_bytes()
        files[name] = Static(body, content_type, hashlib.sha256(body).hexdigest()[:10])
    return files


STATIC = _load_static()


def static_url(name: str) -> str:
    return f"/s/static/{name}?v={STATIC[name].version}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("adapters.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["static"] = static_url
    return env


ENV = _environment()


def page(template: str, language: str, *, status: int = 200, **context) -> web.Response:
    """A page in ``language``: the template filled, with the security headers."""

    def text(key: str, lang: str | None = None, **values) -> str:
        return say(key, lang or language, **values)

    def number(value: int | None) -> str:
        return grouped(value, language) if value is not None else ""

    html = ENV.get_template(template).render(lang=language, other_lang="en" if language == "vi" else "vi", t=text,
                                             number=number, **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def redirect(location: str) -> web.Response:
    """See Other: after a post, the browser fetches the page with GET (a reload then posts nothing again)."""
    return web.Response(status=303, headers={**HEADERS, "Location": location})


async def static_file(request: web.Request) -> web.Response:
    found = STATIC.get(request.match_info["name"])
    if found is None:
        return page("message.html", "vi", status=404, heading=None, texts=[say("web.not_found")], code_form=False)
    fresh = request.query.get("v") == found.version
    return web.Response(body=found.body, content_type=found.content_type, charset="utf-8", headers={
        "Cache-Control": "public, max-age=31536000, immutable" if fresh else "no-cache",
        "X-Content-Type-Options": "nosniff"})
