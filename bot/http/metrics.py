"""`GET /metrics` in the Prometheus text format: updates received per channel and unexpected errors per surface
(this process's counters, `bot.counters`, and the CLI's errors.log), responses stored per channel and instrument,
ZNS messages (paid) sent today per centre, the outbox's waiting and given-up messages per platform, and the webhook
inbox's unprocessed events per platform. Counts only: no chat id, phone number or text."""

from __future__ import annotations

import asyncio
import time
import weakref

from aiohttp import web
from sqlalchemy import func, select

from bot import counters
from bot.http.keys import SERVICES
from bot.storage.database import Database
from bot.storage.models import InboxEvent, OutboxMessage, Response
from bot.zalo.zns import sent_today

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Counting the responses reads the whole table (0.6 s at a million on SQLite): a count that took long is kept for
# COST_FACTOR times as long (at most MAX_KEPT seconds), so scrapes spend at most about 1% of the time on it.
SLOW_COUNT = 0.05
COST_FACTOR = 100
MAX_KEPT = 60.0
_kept: weakref.WeakKeyDictionary[Database, tuple[float, list]] = weakref.WeakKeyDictionary()


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, help_text: str, samples: list[tuple[dict[str, object], int]], kind: str = "gauge"
            ) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        inner = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{inner}}} {value}" if inner else f"{name} {value}")
    return lines


async def completions(db: Database) -> list[tuple[str, str, int]]:
    """(channel, instrument, responses stored), from the database; a slow count is reused for a while."""
    kept = _kept.get(db)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    async with db.reading() as session:
        await session.execute(select(1))  # the connection first: its cost is no cost of the count
        started = time.monotonic()
        rows = [(channel, instrument, int(count)) for channel, instrument, count in (await session.execute(
            select(Response.channel, Response.instrument, func.count()).group_by(Response.channel,
                                                                                 Response.instrument))).all()]
        cost = time.monotonic() - started
    if cost > SLOW_COUNT:
        _kept[db] = (time.monotonic() + min(MAX_KEPT, COST_FACTOR * cost), sorted(rows))
    return sorted(rows)


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    stored = await completions(services.db)
    bugs = await asyncio.to_thread(counters.cli_bugs, services.settings.data_dir)
    zns = await sent_today(services)
    async with services.db.reading() as session:
        outbox = (await session.execute(select(OutboxMessage.platform, OutboxMessage.failed, func.count())
                                        .group_by(OutboxMessage.platform, OutboxMessage.failed))).all()
        inbox = (await session.execute(select(InboxEvent.platform, func.count()).where(InboxEvent.done.is_(False))
                                       .group_by(InboxEvent.platform))).all()
    lines = _family("sipas_updates_received_total", "Platform updates received by this process, per channel.",
                    [({"channel": channel}, count) for channel, count in counters.updates().items()], "counter")
    lines += _family("sipas_errors_total", "Unexpected errors caught at an error boundary: bot (a channel's update "
                     "handling) and http (a request) in this process; cli: the bugs in the data folder's errors.log.",
                     [*(({"surface": surface}, count) for surface, count in counters.errors().items()),
                      ({"surface": "cli"}, bugs)], "counter")
    lines += _family("sipas_survey_completions", "Responses stored (completed surveys, imported paper forms) per "
                     "channel and instrument; falls when an import is undone.",
                     [({"channel": channel, "instrument": instrument}, count)
                      for channel, instrument, count in stored])
    lines += _family("sipas_zns_sent_today", "ZNS messages sent today (local day) per centre.",
                    [({"centre": code}, sent) for code, sent in sorted(zns.items())])
    lines += _family("sipas_outbox_messages", "Outbox messages waiting to be sent or given up, per platform.",
                     [({"platform": platform, "state": "failed" if failed else "waiting"}, count)
                      for platform, failed, count in sorted(outbox, key=lambda r: (r[0], bool(r[1])))])
    lines += _family("sipas_inbox_pending", "Webhook events received and not yet processed, per platform.",
                     [({"platform": platform}, count) for platform, count in sorted(inbox)])
    return web.Response(body=("\n".join(lines) + "\n").encode(), headers={"Content-Type": CONTENT_TYPE})


ROUTES = [web.get("/metrics", metrics)]
