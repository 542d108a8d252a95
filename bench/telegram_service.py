"""The service layer alone: `SurveyService.handle` per survey step (bench/telegram.py --service).

K citizens redeem their invitation and answer every question the benchmark's way (bench/telegram_floor.py's
`answer_event`), each event with its own event key as a webhook update has, on a fresh data dir with one centre:
"serial" one step at a time, "concurrent" with ``concurrency`` citizens at once (the Telegram channel's
PerChatProcessor: one update per chat at a time, different chats concurrently). Measured: wall and CPU (every thread
of the process, so aiosqlite's too) per handle(), and the p50/p99 of one handle() call.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.telegram_floor import answer_event
from bot.config import Settings
from bot.services import open_services
from bot.survey import directory, invitations
from bot.survey.conversation import SurveyService


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run_service(*, citizens: int, survey: str, concurrency: int) -> dict:
    """One fresh database; returns {"serial": ..., "concurrent": ...} with ms per step and latency percentiles."""
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="sipas-bench-service-") as data:
        settings = Settings(data_dir=Path(data), _env_file=None)
        async with open_services(settings) as services:
            async with services.db.transaction() as session:
                centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
                issued = await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                                 survey=survey, count=2 * citizens)
            service = SurveyService(services)
            tokens = iter([i.token for i in issued])
            counter = iter(range(10**9))
            for mode, width in (("serial", 1), ("concurrent", concurrency)):
                latencies: list[float] = []
                gate = asyncio.Semaphore(width)

                async def citizen(chat: int, latencies=latencies, gate=gate) -> None:
                    async with gate:
                        outcome = await service.redeem("telegram", chat, next(tokens),
                                                       event_key=str(next(counter)))
                        while (question := outcome.reply.question if outcome.reply else None) is not None:
                            event = answer_event(question, outcome.reply.commands, None)
                            started = time.perf_counter()
                            outcome = await service.handle("telegram", chat, event, event_key=str(next(counter)))
                            latencies.append(time.perf_counter() - started)
                        if not (outcome.reply and outcome.reply.status == "completed"):
                            raise RuntimeError(f"citizen {chat} did not complete: {outcome}")

                wall, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*[citizen(1000 * width + i) for i in range(citizens)])
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                steps = len(latencies)
                out[mode] = {"steps": steps, "wall_ms_per_step": round(wall / steps * 1000, 3),
                             "cpu_ms_per_step": round(cpu / steps * 1000, 3),
                             "p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
                             "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2)}
    return out


async def compare(*, citizens: int, survey: str, concurrency: int, repeat: int, progress=None) -> dict:
    """``repeat`` runs; each run's figures and, per mode, the best run."""
    runs: list[dict] = []
    for _ in range(repeat):
        runs.append(await run_service(citizens=citizens, survey=survey, concurrency=concurrency))
        if progress:
            progress(runs[-1])
    return {"runs": runs, "best": {mode: min((r[mode] for r in runs), key=lambda m: m["wall_ms_per_step"])
                                   for mode in ("serial", "concurrent")}}
