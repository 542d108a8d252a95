"""`GET /metrics` in the Prometheus text format: ZNS messages (paid) sent today per centre, the outbox's waiting
and given-up messages per platform, and the webhook inbox's unprocessed events per platform. Counts only: no
chat id, phone number or text."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from bot.http.keys import SERVICES
from bot.storage.models import InboxEvent, OutboxMessage
from bot.zalo.zns import sent_today

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, help_text: str, samples: list[tuple[dict[str, object], int]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        inner = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{inner}}} {value}" if inner else f"{name} {value}")
    return lines


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    zns = await sent_today(services)
    async with services.db.reading() as session:
        outbox = (await session.execute(select(OutboxMessage.platform, OutboxMessage.failed, func.count())
                                        .group_by(OutboxMessage.platform, OutboxMessage.failed))).all()
        inbox = (await session.execute(select(InboxEvent.platform, func.count()).where(InboxEvent.done.is_(False))
                                       .group_by(InboxEvent.platform))).all()
    lines = _family("sipas_zns_sent_today", "ZNS messages sent today (local day) per centre.",
                    [({"centre": code}, sent) for code, sent in sorted(zns.items())])
    lines += _family("sipas_outbox_messages", "Outbox messages waiting to be sent or given up, per platform.",
                     [({"platform": platform, "state": "failed" if failed else "waiting"}, count)
                      for platform, failed, count in sorted(outbox, key=lambda r: (r[0], bool(r[1])))])
    lines += _family("sipas_inbox_pending", "Webhook events received and not yet processed, per platform.",
                     [({"platform": platform}, count) for platform, count in sorted(inbox)])
    return web.Response(body=("\n".join(lines) + "\n").encode(), headers={"Content-Type": CONTENT_TYPE})


ROUTES = [web.get("/metrics", metrics)]
