"""Counters of this process for `GET /metrics`: platform updates received per channel, and unexpected exceptions
caught at each error boundary. In memory, like the redemption guard's (bot/survey/redemptions.py): a restart starts
them at zero again, which Prometheus reads as a counter reset, and each worker process counts its own.

The adapters increment them (this module imports nothing of ours, so any layer may), `bot.http.metrics` shows them.
Counts only: never a chat id, a text or an address.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

# The channels as responses, the inbox and the outbox name them, so updates and completions join on one label;
# shown from the start, at 0, so a rate() has a first point.
CHANNELS = ("telegram", "zalo-oa", "zalo-bot", "web")
SURFACES = ("bot", "http")  # the CLI's are counted in its errors.log: each command is a process of its own
BUG_LOG = "errors.log"  # in the data folder: the CLI boundary's bugs, with their tracebacks (bot.cli.mistakes)
_BUG_ENTRY = re.compile(rb"^--- \S+ sipas-bot \d+$", re.MULTILINE)  # the line that opens each entry

_lock = threading.Lock()  # the CLI runs commands in worker threads; += on a Counter is no atomic step
_updates: Counter[str] = Counter()
_errors: Counter[str] = Counter()


def update_received(channel: str) -> None:
    """One update taken from a platform: a Telegram update, a signed Zalo OA event, a Zalo Bot update, a web
    survey form posted."""
    with _lock:
        _updates[channel] += 1


def error_caught(surface: str) -> None:
    """One unexpected exception caught by the error boundary of ``surface``: "bot" (a channel's handler of a
    citizen's or a staff member's update) or "http" (a request's)."""
    with _lock:
        _errors[surface] += 1


def updates() -> dict[str, int]:
    with _lock:
        return {channel: _updates[channel] for channel in (*CHANNELS, *sorted(set(_updates) - set(CHANNELS)))}


def errors() -> dict[str, int]:
    with _lock:
        return {surface: _errors[surface] for surface in (*SURFACES, *sorted(set(_errors) - set(SURFACES)))}


def cli_bugs(data_dir: Path) -> int:
    """The bugs the CLI's boundary logged in ``data_dir``'s errors.log (every `sipas-bot` command is a process of
    its own, so the file is where they add up)."""
    try:
        return len(_BUG_ENTRY.findall((Path(data_dir) / BUG_LOG).read_bytes()))
    except OSError:  # no bug yet: no file
        return 0
