"""The profiled run of bench/web.py, inside the server process: cProfile of its event loop thread, summarised by
package and function, and the calls each request hands to aiosqlite's worker thread."""

from __future__ import annotations

import contextvars
import cProfile
import pstats
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The current request's count of aiosqlite calls (a one-item list), set by the timing middleware while profiling.
TRIPS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("trips", default=None)


def count_round_trips() -> callable:
    """Count every call aiosqlite hands to its thread (a statement, a fetch, a commit...) for the request that
    made it; returns the undo. Only while profiling: the measured runs run aiosqlite untouched."""
    from aiosqlite.core import Connection

    original = Connection._execute

    async def counted(self, fn, *args, **kwargs):
        if (box := TRIPS.get()) is not None:
            box[0] += 1
        return await original(self, fn, *args, **kwargs)

    Connection._execute = counted
    return lambda: setattr(Connection, "_execute", original)


def summarise_profile(profile: cProfile.Profile, requests: int, top: int = 20) -> dict:
    """The event loop thread's own time (tottime) by package and the functions that spend most of it, the waits
    for the next event (epoll) left out; and our own functions by cumulative time (a coroutine's counts only while
    it runs, so it is the work done in it and in what it calls, not its waits)."""
    stats = pstats.Stats(profile)
    groups: dict[str, float] = defaultdict(float)
    rows, ours = [], []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():
        if name == "<method 'poll' of 'select.epoll' objects>":
            continue  # idle: waiting for the client
        package = package_of(filename)
        groups[package] += tottime
        label = f"{package}: {name} ({Path(filename).name}:{line})"
        rows.append((tottime, cumtime, calls, label))
        if package.split(".")[0] in ("bot", "adapters", "surveys"):
            ours.append((cumtime, tottime, calls, label))
    total = sum(groups.values()) or 1.0
    rows.sort(reverse=True)
    ours.sort(reverse=True)
    return {"total_s": round(total, 3), "requests": requests,
            "ms_per_request": round(total / max(requests, 1) * 1000, 3),
            "by_package": {k: round(v / total, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:15]},
            "top": [{"function": f, "tottime_s": round(t, 4), "cumtime_s": round(c, 4), "calls": n}
                    for t, c, n, f in rows[:top]],
            "ours_cumulative": [{"function": f, "tottime_s": round(t, 4), "cumtime_s": round(c, 4), "calls": n}
                                for c, t, n, f in ours[:top]]}


def package_of(filename: str) -> str:
    if filename.startswith("<") or filename == "~":
        return "C builtins"
    path = Path(filename)
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    try:
        parts = path.resolve().relative_to(ROOT).parts
        return ".".join(parts[:2]).removesuffix(".py")
    except ValueError:
        return f"stdlib {path.parent.name if path.parent.name != 'lib' else path.stem}" if "python3" in filename \
            else path.stem
