"""A citizen's browser without JavaScript, for the aiohttp tests of the web survey: it keeps its cookie, reads the
forms of each page (hidden fields, buttons, radio options) and posts them as a browser would, following the
redirects. Each browser has its own client address, sent as X-Forwarded-For (the test server trusts 127.0.0.1 as
its proxy), so the per-address limits of one test never touch another's."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html.parser import HTMLParser

import aiohttp
from aiohttp.test_utils import TestClient

_ADDRESSES = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 250), range(256), range(1, 250)))


@dataclass
class Form:
    action: str
    hidden: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, caption)
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label) of the radio buttons
    has_text: bool = False


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self._radio_ids: dict[str, tuple[Form, str]] = {}
        self._button: tuple[str, str] | None = None
        self._label_for: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
        elif tag == "input" and self.forms:
            form = self.forms[-1]
            if a.get("type") == "hidden":
                form.hidden[a["name"]] = a.get("value", "")
            elif a.get("type") == "radio":
                self._radio_ids[a["id"]] = (form, a["value"])
            elif a.get("type") == "text":
                form.has_text = True
        elif tag == "textarea" and self.forms:
            self.forms[-1].has_text = True
        elif tag == "button":
            self._button, self._text = (a.get("name", ""), a.get("value", "")), []
        elif tag == "label":
            self._label_for, self._text = a.get("for"), []

    def handle_data(self, data):
        self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._button and self.forms:
            self.forms[-1].buttons.append((*self._button, "".join(self._text).strip()))
            self._button = None
        elif tag == "label" and self._label_for:
            self.labels[self._label_for] = "".join(self._text).strip()
            self._label_for = None

    def close(self):
        super().close()
        for radio_id, (form, value) in self._radio_ids.items():
            form.options.append((value, self.labels.get(radio_id, "")))


@dataclass
class Page:
    status: int
    url: str
    html: str
    headers: dict

    @property
    def forms(self) -> list[Form]:
        parser = _Forms()
        parser.feed(self.html)
        parser.close()
        return parser.forms

    def form(self, action: str | None = None) -> Form:
        return next(f for f in self.forms if action is None or f.action == action)

    def has(self, text: str) -> bool:
        return text in self.html


class Browser:
    """One browser: its own cookie jar and client address."""

    def __init__(self, client: TestClient, address: str | None = None) -> None:
        self.client = client
        self.address = address or next(_ADDRESSES)
        self.jar = aiohttp.CookieJar(unsafe=True)
        self.session = aiohttp.ClientSession(cookie_jar=self.jar)

    def url(self, path: str) -> str:
        return str(self.client.make_url(path))

    async def get(self, path: str) -> Page:
        async with self.session.get(self.url(path), headers={"X-Forwarded-For": self.address}) as response:
            return Page(response.status, response.url.path, await response.text(), dict(response.headers))

    async def post(self, path: str, data: dict | bytes | str, *, content_type: str | None = None) -> Page:
        headers = {"X-Forwarded-For": self.address}
        if content_type:
            headers["Content-Type"] = content_type
        async with self.session.post(self.url(path), data=data, headers=headers) as response:
            return Page(response.status, response.url.path, await response.text(), dict(response.headers))

    async def submit(self, page: Page, button: str, *, action: str | None = None, **fields: str) -> Page:
        """Press the button whose value is ``button`` in the page's form (the first with it), with ``fields``."""
        form = next(f for f in page.forms if (action is None or f.action == action)
                    and any(value == button for _, value, _ in f.buttons))
        name = next(n for n, value, _ in form.buttons if value == button)
        return await self.post(form.action, {**form.hidden, name: button, **fields})

    async def choose(self, page: Page, label: str) -> Page:
        """Pick the option labelled ``label`` and press Continue."""
        form = next(f for f in page.forms if f.options)
        value = next(v for v, shown in form.options if shown == label)
        return await self.submit(page, "answer", choice=value)

    async def close(self) -> None:
        await self.session.close()
