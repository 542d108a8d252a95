"""ZNS invitations end to end: `sipas-bot invite --phone` on a real SQLite file, the outbox delivering through the
real ZNSSender and OAApi to the wire-compatible fake on 127.0.0.1 (tests/fake_zns.py)."""

import contextlib
import datetime as dt
import json

import aiohttp
import pytest
from fake_zns import FakeZNS
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from adapters.zalo_oa.api import OAApi
from adapters.zalo_oa.zns import ZNSSender
from bot.services import open_services
from bot.storage.models import Invitation, OutboxMessage, ZaloToken, ZnsDaily, ZnsRecipient
from bot.survey import invitations, outbox
from bot.zalo.tokens import OATokens
from bot.zalo.zns import record_sent

TEMPLATE = "7001"
URL = "https://khaosat.hue.gov.vn"
ACCESS = "oa-access-token-1"
CENTRE = "Trung tâm Phục vụ hành chính công tỉnh Thừa Thiên Huế"


def zns_env(fake_url: str = "http://127.0.0.1:9", **extra) -> dict[str, str]:
    return {"SIPAS_ZALO_ZNS_TEMPLATE_ID": TEMPLATE, "SIPAS_PUBLIC_URL": URL, "SIPAS_ZALO_ZNS_API_URL": fake_url,
            **extra}


@pytest.fixture
def zns_settings(settings):
    return settings.model_copy(update={"zalo_zns_template_id": TEMPLATE, "public_url": URL})


@contextlib.asynccontextmanager
async def delivering(settings, fake: FakeZNS):
    """The services, a seeded OA token, and ``deliver(now)``: one outbox round for platform "zns"."""
    settings = settings.model_copy(update={"zalo_zns_api_url": fake.base_url})
    async with open_services(settings) as services, aiohttp.ClientSession() as http:
        async with services.db.transaction() as session:
            if await session.get(ZaloToken, "oa") is None:
                session.add(ZaloToken(name="oa", access_token=ACCESS, refresh_token="r1",
                                      expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)))
        sender = ZNSSender(settings, OAApi(http, OATokens(services, http)),
                           on_sent=lambda tracking, msg: record_sent(services, tracking, msg))

        async def deliver(now=None):
            return await outbox.deliver_due(services.db, "zns", sender.send, now=now, hold=(300.0, 300.0))

        yield services, deliver


async def table_text(services) -> str:
    """Every row of every table, as text: what a copy of the database would show."""
    async with services.db.reading() as session:
        names = await session.run_sync(lambda s: sa_inspect(s.connection()).get_table_names())
        dump = []
        for name in names:
            dump += [repr(tuple(row)) for row in (await session.execute(text(f'SELECT * FROM "{name}"'))).all()]
    return "\n".join(dump)


async def outbox_rows(services):
    async with services.db.reading() as session:
        return (await session.scalars(select(OutboxMessage))).all()


def add_centre(cli):
    assert cli("centre", "add", "HUE", CENTRE)[0] == 0
    assert cli("service", "add", "GKS", "Đăng ký khai sinh")[0] == 0


@pytest.mark.parametrize("typed", ["0912345678", "0912 345 678", "84912345678", "+84 912.345.678", "0912-345-678"])
async def test_invite_by_phone_sends_one_template_message_with_a_working_code(cli, zns_settings, typed):
    add_centre(cli)
    code, out, err = cli("invite", "--centre", "hue", "--service", "gks", "--phone", typed, env=zns_env())
    assert code == 0, err
    assert "Queued a ZNS invitation to 84912***678" in out and "912345678" not in out.replace("84912***678", "")
    printed = out.split("survey code ")[1].split(",")[0]
    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake, \
            delivering(zns_settings, fake) as (services, deliver):
        [row] = await outbox_rows(services)
        assert row.platform == "zns" and row.chat_id == "84912345678"
        assert await deliver() == 1  # at once: no random hold for ZNS, whatever the worker's hold
        [message] = fake.messages
        async with services.db.reading() as session:
            [invitation] = (await session.scalars(select(Invitation))).all()
            by_code = await invitations.find(session, services.secret_key, printed)
            token = message["template_data"]["link_khao_sat"].removeprefix(f"{URL}/s/")
            by_token = await invitations.find(session, services.secret_key, token)
        assert message["phone"] == "84912345678" and message["template_id"] == TEMPLATE
        assert message["tracking_id"] == str(invitation.id)
        assert message["template_data"]["ten_trung_tam"] == CENTRE
        assert message["template_data"]["ten_dich_vu"] == "Đăng ký khai sinh"
        assert message["template_data"]["ma_khao_sat"] == printed
        assert by_code.id == by_token.id == invitation.id and invitation.channel_hint == "zns"
        assert invitation.zns_msg_id == message["msg_id"]  # kept by on_sent: ratings may name only that
        assert await outbox_rows(services) == []
        dump = await table_text(services)
        assert "912345678" not in dump  # the number is gone with its row; only the keyed hash of it stays
        async with services.db.reading() as session:
            assert len((await session.scalars(select(ZnsRecipient))).all()) == 1
            assert (await session.scalars(select(ZnsDaily.sent))).all() == [1]


@pytest.mark.parametrize(("typed", "says"), [
    ("0212345678", "is a landline"), ("091234567", "has 9 digits"), ("+1 415 555 0100", "is not Vietnamese"),
    ("0912-abc-678", "characters other than digits"), ("0112345678", "not a Vietnamese mobile prefix")])
async def test_a_bad_number_is_one_line_exit_1_and_nothing_stored(cli, settings, typed, says):
    add_centre(cli)
    code, out, err = cli("invite", "--centre", "hue", "--phone", typed, env=zns_env())
    assert code == 1 and out == "" and says in err and len(err.strip().splitlines()) == 1
    async with open_services(settings) as services:
        assert await outbox_rows(services) == []
        async with services.db.reading() as session:
            assert (await session.scalars(select(Invitation))).all() == []


async def test_settings_missing_and_options_that_do_not_fit(cli, settings):
    add_centre(cli)
    no_template = {"SIPAS_PUBLIC_URL": URL}
    assert "SIPAS_ZALO_ZNS_TEMPLATE_ID" in cli("invite", "--centre", "hue", "--phone", "0912345678",
                                               env=no_template)[2]
    no_url = {"SIPAS_ZALO_ZNS_TEMPLATE_ID": TEMPLATE}
    assert "SIPAS_PUBLIC_URL" in cli("invite", "--centre", "hue", "--phone", "0912345678", env=no_url)[2]
    code, _, err = cli("invite", "--centre", "hue", "--phone", "0912345678", "--count", "3", env=zns_env())
    assert code == 1 and "--count" in err
    async with open_services(settings) as services:
        assert await outbox_rows(services) == []


async def test_the_same_phone_twice_a_day_and_the_daily_cap(cli, settings):
    add_centre(cli)
    env = zns_env(SIPAS_ZALO_ZNS_DAILY_CAP="2")
    assert cli("invite", "--centre", "hue", "--phone", "0912345678", env=env)[0] == 0
    code, _, err = cli("invite", "--centre", "hue", "--phone", "+84 912 345 678", env=env)
    assert code == 1 and "already got a ZNS invitation today" in err
    assert cli("invite", "--centre", "hue", "--phone", "0987654321", env=env)[0] == 0
    code, _, err = cli("invite", "--centre", "hue", "--phone", "0323456789", env=env)
    assert code == 1 and "has sent 2 ZNS messages today, the daily cap (SIPAS_ZALO_ZNS_DAILY_CAP = 2)" in err
    async with open_services(settings) as services:
        assert len(await outbox_rows(services)) == 2
        async with services.db.reading() as session:
            assert len((await session.scalars(select(Invitation))).all()) == 2
            assert (await session.scalars(select(ZnsDaily.sent))).all() == [2]


async def test_a_transient_error_then_success_is_delivered_and_billed_once(cli, zns_settings):
    add_centre(cli)
    assert cli("invite", "--centre", "hue", "--phone", "0912345678", env=zns_env())[0] == 0
    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake, \
            delivering(zns_settings, fake) as (services, deliver):
        fake.inject("http500")
        assert await deliver() == 0
        [row] = await outbox_rows(services)
        assert row.attempts == 1 and "HTTP 500" in row.last_error and not row.failed
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        assert await deliver(later) == 1
        assert fake.billed == 1 and await outbox_rows(services) == []


async def test_an_answer_lost_after_zalo_sent_it_is_retried_with_the_same_tracking_id_not_billed_twice(
        cli, zns_settings):
    add_centre(cli)
    assert cli("invite", "--centre", "hue", "--phone", "0912345678", env=zns_env())[0] == 0
    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake, \
            delivering(zns_settings, fake) as (services, deliver):
        fake.inject("lost")
        assert await deliver() == 0 and fake.billed == 1  # Zalo sent it; we never heard
        assert len(await outbox_rows(services)) == 1
        assert await deliver(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)) == 1
        assert [a["tracking_id"] for a in fake.attempts] == [fake.messages[0]["tracking_id"]] * 2
        assert fake.billed == 1
        async with services.db.reading() as session:
            assert (await session.scalars(select(Invitation.zns_msg_id))).all() == [fake.messages[0]["msg_id"]]


async def test_a_permanent_refusal_is_given_up_and_shown_by_outbox_list(cli, zns_settings):
    add_centre(cli)
    assert cli("invite", "--centre", "hue", "--phone", "0912345678", env=zns_env())[0] == 0
    assert "No message is waiting" not in cli("outbox", "list")[1]
    async with FakeZNS(access_token=ACCESS, templates={"other"}) as fake, \
            delivering(zns_settings, fake) as (services, deliver):
        assert await deliver() == 0
        [row] = await outbox_rows(services)
        assert row.failed and row.attempts == 1 and "-132" in row.last_error
        assert row.chat_id == "84912***678"  # a failed row keeps no dialable number
        assert await deliver(dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) == 0  # never sent again
        assert len(fake.attempts) == 1
        assert "912345678" not in await table_text(services)
    code, out, _ = cli("outbox", "list")
    assert code == 0
    [line] = [x for x in out.splitlines() if x.startswith("zns")]
    assert "84912***678" in line and "given up" in line and "Zalo error -132" in line


async def test_a_row_failing_ten_times_is_given_up(cli, zns_settings):
    add_centre(cli)
    assert cli("invite", "--centre", "hue", "--phone", "0912345678", env=zns_env())[0] == 0
    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake, \
            delivering(zns_settings, fake) as (services, deliver):
        fake.inject(*["http500"] * outbox.MAX_ATTEMPTS)
        moment = dt.datetime.now(dt.UTC)
        for _ in range(outbox.MAX_ATTEMPTS):
            assert await deliver(moment) == 0
            moment += dt.timedelta(hours=2)
        [row] = await outbox_rows(services)
        assert row.failed and row.attempts == outbox.MAX_ATTEMPTS
        assert await deliver(moment) == 0 and fake.billed == 0


async def test_outbox_list_shows_staff_chats_as_they_are(cli, settings):
    async with open_services(settings) as services, services.db.transaction() as session:
        outbox.enqueue(session, "telegram", "-100555", "⚠️ alert")
    code, out, _ = cli("outbox", "list")
    assert code == 0 and "1 message(s) waiting" in out and "-100555" in out and "not scheduled" in out
    assert "alert" not in out.split("\n", 1)[1].replace("alerts", "")


def test_outbox_list_when_empty(cli):
    assert cli("outbox", "list")[1].strip() == "No message is waiting or given up."


async def test_zns_payload_is_json_with_the_mapping_of_the_settings(cli, settings):
    add_centre(cli)
    env = zns_env(SIPAS_ZALO_ZNS_PARAMS="code=survey_code,expires=han,link=url")
    assert cli("invite", "--centre", "hue", "--phone", "0912345678", env=env)[0] == 0
    async with open_services(settings) as services:
        [row] = await outbox_rows(services)
    payload = json.loads(row.text)
    assert set(payload["template_data"]) == {"survey_code", "han", "url"}
    assert payload["template_data"]["url"].startswith(f"{URL}/s/")
    assert len(payload["template_data"]["han"]) == 10  # dd/mm/yyyy
    assert cli("invite", "--centre", "hue", "--phone", "0987654321",
               env=zns_env(SIPAS_ZALO_ZNS_PARAMS="ten=x"))[2].count("SIPAS_ZALO_ZNS_PARAMS") == 1
