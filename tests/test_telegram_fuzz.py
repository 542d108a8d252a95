"""Hostile bodies at the Telegram webhook, with the right secret: updates built from the Update schema, then
mutated (wrong JSON types, missing fields, lone surrogates, kinds of update we never asked for). Every answer is a
JSON 200 or 400, never a 5xx, and nothing is stored.

CI runs a fixed, derandomized set (SIPAS_FUZZ_EXAMPLES, default 150); a larger run is
`SIPAS_FUZZ_EXAMPLES=3000` (docs/benchmarks.md).
"""

import asyncio
import json
import os
import urllib.error
import urllib.request

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_telegram_webhook import SECRET, fake, served  # noqa: F401 (fixtures)

from bot.services import open_services
from bot.storage.models import Invitation, Response, SurveySession

EXAMPLES = int(os.environ.get("SIPAS_FUZZ_EXAMPLES", "150"))
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
TEXT = st.one_of(st.text(max_size=12), st.lists(st.one_of(st.characters(), SURROGATES, st.just("\x00")),
                                                 max_size=8).map("".join),
                 st.sampled_from(["/start", "/start abc", "/huy", "/trogiup", "/ngonngu", "/moi", "ABCD-EFGH"]))
LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False), TEXT)
JSON = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=6)
CHAT = st.integers(1, 40)


@st.composite
def message(draw):
    chat = draw(CHAT)
    text = draw(TEXT)
    body = {"message_id": draw(st.integers(1, 10**6)), "date": 1764000000,
            "chat": {"id": chat, "type": draw(st.sampled_from(["private", "group", "channel"]))},
            "from": {"id": chat, "is_bot": False, "first_name": "Dân", "language_code": draw(TEXT)},
            "text": text}
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}]
    return body


@st.composite
def update(draw):
    kind = draw(st.sampled_from(["message", "message", "edited_message", "channel_post", "edited_channel_post",
                                 "business_message", "callback_query", "callback_query", "my_chat_member"]))
    body = {"update_id": draw(st.integers(1, 2**31))}
    if kind == "callback_query":
        query = {"id": str(draw(st.integers(1, 10**6))), "chat_instance": "c", "data": draw(TEXT),
                 "from": {"id": draw(CHAT), "is_bot": False, "first_name": "Dân"}, "message": draw(message())}
        for key in draw(st.sets(st.sampled_from(["message", "from", "data"]), max_size=2)):
            del query[key]
        body[kind] = query
    else:
        body[kind] = draw(message())
    return mutate(draw, body)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def mutate(draw, body):
    """Replace or delete a few fields anywhere in the body (the body itself included)."""
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(list(paths(body))))
        if not where:
            return draw(JSON)
        parent = body
        for step in where[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(JSON)
    return body


def post(url: str, data: bytes) -> tuple[int, object]:
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw


async def stored(settings):
    async with open_services(settings) as services, services.db.reading() as session:
        return [await session.scalar(select(func.count()).select_from(model)) for model in (Response, SurveySession)
                ] + [sorted((await session.execute(select(Invitation.status))).scalars())]


async def test_fuzzed_updates_never_get_a_5xx_and_change_nothing(served):  # noqa: F811
    settings, _ = served
    url = f"{settings.public_url}/webhooks/telegram"
    before = await stored(settings)
    seen = []

    @settings_for_fuzz
    @given(update())
    def run(body):
        status, answer = post(url, json.dumps(body).encode())
        seen.append(status)
        assert status in (200, 400) and isinstance(answer, dict), (status, answer, body)

    await asyncio.to_thread(run)
    assert await stored(settings) == before
    assert 200 in seen and 400 in seen


settings_for_fuzz = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))


async def test_json_nested_a_thousand_deep_gets_400(served):  # noqa: F811
    settings, _ = served
    url = f"{settings.public_url}/webhooks/telegram"
    for body in ("[" * 1000 + "]" * 1000, '{"update_id": 1, "message": ' + '{"a": ' * 1000 + "1" + "}" * 1001):
        status, answer = await asyncio.to_thread(post, url, body.encode())
        assert (status, answer["status"]) == (400, 400)
