"""The weight of the web survey's pages over the wire, and what they make a browser load from elsewhere.

From one citizen's captured run (bench/web_client.py, bodies as sent): per page kind the body and header bytes
(the status line and every header line, as aiohttp wrote them), what gzip would make of the body, and whether the
server compressed it (the client sent aiohttp's Accept-Encoding: gzip, deflate); the static files the pages
name; and "cold", a question page with its stylesheet and script, as the first question costs a fresh browser.

External references: every resource a page or the stylesheet makes a browser fetch (src, srcset, poster, data,
<link href>, CSS url() and @import, @font-face at all, a URL in the script) must stay on this site; links a
citizen may follow (<a href>, form actions) are listed apart and do not fail the check.
"""

from __future__ import annotations

import gzip
import re
from urllib.parse import urlsplit

from bench.web_client import PAGE_KINDS, Exchange

_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")
_ATTR = re.compile(r'([a-zA-Z][a-zA-Z0-9_:-]*)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))')
_RESOURCE_ATTRS = {"src", "srcset", "poster", "data", "background", "manifest"}
_LINK_ATTRS = {"href", "action", "formaction", "cite", "ping"}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
_JS_URL = re.compile(r"""['"`]((?:[a-z][a-z0-9+.-]*:)?//[^'"`]*)['"`]""", re.IGNORECASE)


def header_bytes(exchange: Exchange) -> int:
    """The response head on the wire: status line, header lines, the blank line."""
    return (len(f"HTTP/1.1 {exchange.status} {exchange.reason}\r\n")
            + sum(len(k) + len(v) + 4 for k, v in exchange.headers) + 2)


def is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or (bool(parts.scheme) and parts.scheme not in ("data", "about"))


def html_references(html: str) -> tuple[list[str], list[str]]:
    """(resources a browser fetches, links it may follow) of a page."""
    resources, links = [], []
    for tag, attrs in _TAG.findall(html):
        for name, *values in _ATTR.findall(attrs):
            value, name = next((v for v in values if v), ""), name.lower()
            urls = [part.strip().split(" ")[0] for part in value.split(",")] if name == "srcset" else [value]
            if name in _RESOURCE_ATTRS or (tag.lower() == "link" and name == "href"):
                resources += urls
            elif name in _LINK_ATTRS:
                links += urls
            elif name == "style":
                resources += css_references(value)
    return resources, links


def css_references(css: str) -> list[str]:
    found = [a or b for a, b in _CSS_URL.findall(css)]
    return found + (["@font-face (a web font)"] if "@font-face" in css.lower() else [])


def weigh(exchanges: list[Exchange]) -> dict:
    """The weight table and the external references of one captured survey."""
    pages: dict[str, dict] = {}
    external_resources: set[str] = set()
    external_links: set[str] = set()
    for kind in (*PAGE_KINDS, "static"):
        of_kind = [e for e in exchanges if e.kind == kind]
        if not of_kind:
            continue
        bodies = [len(e.body) for e in of_kind]
        heads = [header_bytes(e) for e in of_kind]
        zipped = [len(gzip.compress(e.body, 6)) if e.body else 0 for e in of_kind]
        pages[kind] = {"count": len(of_kind), "body_bytes": [min(bodies), max(bodies)],
                       "header_bytes": [min(heads), max(heads)], "gzip_body_bytes": [min(zipped), max(zipped)],
                       "content_encoding": sorted({e.header("Content-Encoding") or "none" for e in of_kind})}
    static = {}
    for e in exchanges:
        content_type = (e.header("Content-Type") or "").split(";")[0]
        if content_type == "text/html":
            resources, links = html_references(e.text)
            external_resources.update(u for u in resources if is_external(u))
            external_links.update(u for u in links if is_external(u))
        elif content_type == "text/css":
            external_resources.update(u for u in css_references(e.text) if u.startswith("@") or is_external(u))
        elif content_type.endswith("javascript"):
            external_resources.update(_JS_URL.findall(e.text))
        if e.kind == "static":
            static[e.path.split("?")[0]] = {"body_bytes": len(e.body), "header_bytes": header_bytes(e),
                                            "gzip_body_bytes": len(gzip.compress(e.body, 6)),
                                            "content_type": content_type,
                                            "cache_control": e.header("Cache-Control")}
    questions = [e for e in exchanges if e.kind == "question"]
    heaviest = max(questions, key=lambda e: len(e.body) + header_bytes(e))
    static_wire = sum(s["body_bytes"] + s["header_bytes"] for s in static.values())
    cold = len(heaviest.body) + header_bytes(heaviest) + static_wire
    cold_gzip = (len(gzip.compress(heaviest.body, 6)) + header_bytes(heaviest)
                 + sum(s["gzip_body_bytes"] + s["header_bytes"] for s in static.values()))
    accept = next((e.request_headers.get("Accept-Encoding") for e in exchanges if e.request_headers), None)
    compressed = sorted({e.header("Content-Encoding") for e in exchanges if e.header("Content-Encoding")})
    return {"pages": pages, "static": static, "accept_encoding_sent": accept,
            "server_compresses": compressed or None,
            "question_cold_bytes": cold, "question_cold_gzip_bytes": cold_gzip,
            "question_warm_bytes": len(heaviest.body) + header_bytes(heaviest),
            "survey_bytes": sum(len(e.body) + header_bytes(e) for e in exchanges), "survey_requests": len(exchanges),
            "heaviest_question": heaviest.text.split('name="q" value="', 1)[1].split('"', 1)[0]
            if 'name="q" value="' in heaviest.text else None,
            "csp": heaviest.header("Content-Security-Policy"),
            "external_resources": sorted(external_resources), "external_links": sorted(external_links)}
