"""Errors meant for the person at the other end. Each surface (CLI, HTTP, chat) has one boundary that turns
them into its own kind of answer: an exit code 1 with the message, a 4xx JSON body, a chat reply.

An error made with `UserError.say("admin.key", **values)` names a text of the catalogue (`bot/texts.py`),
so each boundary can render it in its own person's language (`error.text(language)`); `str(error)` is the English
text, for logs and for callers that have no language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A catalogue text used as a value inside another ("mã trung tâm" in "mã trung tâm 'a b' phải gồm ...")."""

    name: str


@dataclass(frozen=True)
class Count:
    """A whole number used as a value, written as the message's language writes it (1.234 / 1,234)."""

    value: int


def grouped(value: int, language: str) -> str:
    """``value`` with the thousands separator of ``language``: a dot in Vietnamese, a comma in English."""
    text = f"{value:,}"
    return text if language == "en" else text.replace(",", ".")


def _render(name: str, language: str, values: dict[str, object]) -> str:
    from bot.texts import say  # the catalogue loads when an error is made, not when bot/ is imported

    def shown(value: object) -> object:
        if isinstance(value, Term):
            return say(value.name, language)
        return grouped(value.value, language) if isinstance(value, Count) else value

    return say(name, language, **{key: shown(value) for key, value in values.items()})


class UserError(Exception):
    """Something the user can fix; the message says what and how."""

    status = 400
    name: str | None = None  # the catalogue text, when the error was made with `say`
    values: dict[str, object] = {}  # noqa: RUF012 (never mutated: `say` gives each error its own)

    @classmethod
    def say(cls, name: str, /, **values: object) -> UserError:
        """The error whose message is the catalogue text ``name`` filled with ``values``."""
        error = cls(_render(name, "en", values))
        error.name, error.values = name, values
        return error

    @staticmethod
    def term(name: str) -> Term:
        """A catalogue text to pass as a value of `say` (rendered in the same language as the message)."""
        return Term(name)

    @staticmethod
    def count(value: int) -> Count:
        """A number to pass as a value of `say`, with the thousands separator of the message's language."""
        return Count(value)

    def text(self, language: str) -> str:
        """The message in ``language`` (errors made from a plain string have only the one they were given)."""
        if self.name is None:
            return str(self)
        return _render(self.name, language, self.values)


class NotFound(UserError):
    status = 404


class Conflict(UserError):
    status = 409
