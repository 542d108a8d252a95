"""The catalogue of what sipas-bot says to people, vi and en, outside the engine's own sentences
(`surveys/messages.py`): citizens in a chat or on the web, staff in a chat, admins at the command line.

The texts live in `bot/locale/*.yaml`, one file per audience, each entry `key: {vi: ..., en: ...}` with
`str.format` placeholders; a text is named `file.key` ("citizen.welcome", "staff.refusal", "admin.centre_added").
Vietnamese is the default and the fallback. `tests/test_texts.py` walks the catalogue and the code: every entry
has both languages with the same placeholders, and every name the code uses exists.
"""

from __future__ import annotations

import functools
from importlib import resources

import yaml

LANGUAGES = ("vi", "en")


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every text by its full name, loaded once."""
    texts: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files("bot").joinpath("locale").iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        audience = entry.name.removesuffix(".yaml")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        for key, by_language in (yaml.load(entry.read_text(encoding="utf-8"), Loader=loader) or {}).items():
            texts[f"{audience}.{key}"] = by_language
    return texts


def say(key: str, language: str = "vi", /, **values: object) -> str:
    """The text ``key`` in ``language`` (Vietnamese when that language has none), filled with ``values``."""
    by_language = catalogue()[key]
    return by_language.get(language, by_language["vi"]).format(**values)


def language_of(value: str | None) -> str:
    """A language we speak: ``value`` when it is one of them, else Vietnamese."""
    return value if value in LANGUAGES else "vi"
