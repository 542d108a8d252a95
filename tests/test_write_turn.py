"""SQLite's write turn inside one process (bot/storage/write_turn.py): first come first served, an urgent writer
ahead of the queue but never ahead of the one writing, and a writer cancelled while waiting loses nothing."""

import asyncio

import pytest

from bot.storage.write_turn import WriteTurn


async def writer(turn: WriteTurn, name: str, log: list, urgent: bool = False, hold: float = 0.0) -> None:
    async with turn(urgent):
        log.append(f"{name} in")
        await asyncio.sleep(hold)
        log.append(f"{name} out")


async def test_an_urgent_writer_goes_before_the_queue_but_after_the_one_writing():
    turn, log = WriteTurn(), []
    first = asyncio.create_task(writer(turn, "a", log, hold=0.02))
    await asyncio.sleep(0)
    queued = [asyncio.create_task(writer(turn, name, log)) for name in ("b", "c")]
    await asyncio.sleep(0)
    urgent = asyncio.create_task(writer(turn, "ack", log, urgent=True))
    await asyncio.gather(first, *queued, urgent)
    assert log == ["a in", "a out", "ack in", "ack out", "b in", "b out", "c in", "c out"]


async def test_a_writer_cancelled_while_waiting_or_as_it_is_handed_the_turn_passes_it_on():
    turn, log, tasks = WriteTurn(), [], {}

    async def holder() -> None:
        async with turn():
            log.append("a in")
            await asyncio.sleep(0.01)
        tasks["handed"].cancel()  # in the same step that handed it the turn, before it could run

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    gone = asyncio.create_task(writer(turn, "gone", log))
    tasks["handed"] = handed = asyncio.create_task(writer(turn, "handed", log))
    last = asyncio.create_task(writer(turn, "last", log))
    await asyncio.sleep(0)
    gone.cancel()  # while waiting
    await asyncio.wait_for(asyncio.gather(first, last), timeout=5)
    for task in (gone, handed):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert log == ["a in", "last in", "last out"]
    async with turn():  # and the turn is free again
        pass
