"""The simulated citizens of the Telegram benchmark, the optional open-loop pacing, and the measurements.

A citizen sends ``/start <token>``, then answers each question as it arrives by pressing a button: a rating gets a
value (seeded, 5 to 1), a choice its first option, the comment the skip button (or, with a comment text, a typed
message). A step is one answer handled: for a button, the callback answered, the question edited into a transcript
line and the next question (or the closing) sent; the citizen waits for that next message before the next step.

Without pacing every citizen answers as soon as the next question arrives (a closed loop: the throughput is the
bot's capacity; the latencies then mostly measure queueing, K citizens / throughput). With a ``rate`` every citizen
action (the /start included) takes the next slot of one shared Poisson schedule of ``rate`` actions a second.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from bench.telegram_fake import BenchFake
from surveys.instrument import Instrument


class Pacer:
    """Slots of a Poisson process of ``rate`` events a second, shared by all citizens (None: no waiting)."""

    def __init__(self, rate: float | None, seed: int) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.next: float | None = None

    async def __call__(self) -> None:
        if self.rate is None:
            return
        now = time.monotonic()
        self.next = (now if self.next is None else self.next) + self.rng.expovariate(self.rate)
        if self.next > now:
            await asyncio.sleep(self.next - now)


@dataclass
class Citizen:
    chat: int
    steps: int = 0
    last_text: str | None = None
    stuck: str | None = None  # why the citizen gave up waiting
    rng: random.Random = field(default_factory=random.Random)


def choose(citizen: Citizen, keyboard: list[list[tuple[str, str | None]]], instrument: Instrument,
           comment: str | None) -> tuple[str | None, str | None]:
    """(callback data to press, or text to type) for the question a keyboard belongs to."""
    buttons = [data for row in keyboard for _, data in row if data]
    answers = [data for data in buttons if data.startswith("a|")]
    code = (answers or buttons)[0].split("|")[1]
    if answers:
        if instrument.question(code).type == "rating":
            return citizen.rng.choice(answers), None
        return answers[0], None
    skip = f"s|{code}"
    if comment is None and skip in buttons:
        return skip, None
    return None, comment or "Tốt"


async def run_citizen(fake: BenchFake, citizen: Citizen, token: str, instrument: Instrument, pacer: Pacer,
                      comment: str | None, timeout: float) -> None:
    try:
        await answer_all(fake, citizen, token, instrument, pacer, comment, timeout)
    except TimeoutError as error:
        citizen.stuck = str(error).split("\n")[0]


async def answer_all(fake: BenchFake, citizen: Citizen, token: str, instrument: Instrument, pacer: Pacer,
                     comment: str | None, timeout: float) -> None:
    await pacer()
    fake.user_sends(citizen.chat, f"/start {token}")
    count = 2  # the welcome (with the language buttons) and the first question
    latest = await fake.wait_bot_messages(citizen.chat, count, timeout)
    while latest.keyboard:
        data, text = choose(citizen, latest.keyboard, instrument, comment)
        await pacer()
        if data is not None:
            fake.user_presses(citizen.chat, latest.message_id, data)
        else:
            fake.user_sends(citizen.chat, text)
        count += 1
        citizen.steps += 1
        latest = await fake.wait_bot_messages(citizen.chat, count, timeout)
    citizen.last_text = latest.text


async def drive(fake: BenchFake, tokens: list[str], instrument: Instrument, *, rate: float | None,
                comment: str | None, seed: int, timeout: float = 180.0) -> dict:
    """Run every citizen to the end of the survey; wall and CPU time of the whole run, and the citizens."""
    citizens = [Citizen(100_000 + i, rng=random.Random(seed * 1_000_003 + i)) for i in range(len(tokens))]
    pacer = Pacer(rate, seed)
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(run_citizen(fake, c, t, instrument, pacer, comment, timeout)
                           for c, t in zip(citizens, tokens, strict=True)))
    return {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu, "citizens": citizens}


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50 and p99 (nearest rank) in milliseconds."""
    if not values:
        return {"p50": None, "p99": None}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))] * 1000, 1)

    return {"p50": rank(0.50), "p99": rank(0.99)}


def step_timings(fake: BenchFake, chats: list[int]) -> dict:
    """Per answer (not the /start): from the webhook POST to the bot's first reply in the chat (the fake's
    ``reply_latency``: answerCallbackQuery for a button) and to the next question; from the press (when the update
    was queued at the fake) to the next question; and from the POST to the webhook's HTTP 200. A POST that failed
    (the fake's 10 s timeout) is delivered again; the first POST of an update counts, the failures are counted."""
    first_posts: dict[int | None, dict[int, object]] = defaultdict(dict)
    failed = 0
    for delivery in fake.deliveries:
        first_posts[delivery.chat_id].setdefault(delivery.update_id, delivery)
        failed += delivery.status != 200
    first_reply, question, press, response = [], [], [], []
    for chat in chats:
        entries = fake.transcript(chat)
        actions = [i for i, entry in enumerate(entries) if entry.kind in ("user", "press")]
        posts = list(first_posts[chat].values())
        if len(posts) != len(actions):
            raise RuntimeError(f"chat {chat}: {len(actions)} updates but {len(posts)} delivered")
        for k in range(1, len(actions)):
            end = actions[k + 1] if k + 1 < len(actions) else len(entries)
            replies = [entry for entry in entries[actions[k] + 1:end] if entry.kind == "bot"]
            post = posts[k]
            first_reply.append(post.reply_latency)
            question.append(replies[-1].time - post.sent_at)
            press.append(replies[-1].time - entries[actions[k]].time)
            if post.status == 200:
                response.append(post.response_time)
    return {"post_to_first_reply": percentiles(first_reply), "post_to_next_question": percentiles(question),
            "press_to_next_question": percentiles(press), "post_to_http_200": percentiles(response),
            "failed_posts": failed}
