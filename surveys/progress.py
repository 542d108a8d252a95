"""The saved state of one survey conversation: plain data that a channel stores between events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from surveys.events import Status
from surveys.instrument import AnswerValue


@dataclass(frozen=True)
class Progress:
    """Where one citizen is in one instrument.

    Attributes:
        instrument: the instrument id.
        version: the instrument version the survey was started on.
        language: the conversation language.
        sections: optional sections enabled for this survey.
        history: codes of the questions shown so far, in order; the last one is the current question.
        answers: answers so far, {code: value}; every code in ``history`` but possibly the current one has one.
        status: "active", "confirm_cancel", "completed" or "cancelled".
    """

    instrument: str
    version: int
    language: str
    sections: frozenset[str] = frozenset()
    history: tuple[str, ...] = ()
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    status: Status = "active"

    @property
    def current(self) -> str | None:
        """The code of the question being asked, or ``None`` when the survey is over."""
        if self.status in ("completed", "cancelled") or not self.history:
            return None
        return self.history[-1]

    def evolve(self, **changes: Any) -> Progress:
        """A copy with some fields changed (the engine never mutates a `Progress`)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, for storing the progress between events."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "language": self.language,
            "sections": sorted(self.sections),
            "history": list(self.history),
            "answers": dict(self.answers),
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Progress:
        """Rebuild a `Progress` stored with `to_dict`."""
        return cls(
            instrument=data["instrument"],
            version=int(data["version"]),
            language=data["language"],
            sections=frozenset(data.get("sections", ())),
            history=tuple(data.get("history", ())),
            answers=dict(data.get("answers", {})),
            status=data.get("status", "active"),
        )
