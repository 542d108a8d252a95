"""ZNS star ratings: stored once as instrument zns-rating whether they come by webhook or `zalo pull-ratings`,
reported with their mean and satisfied share and no SIPAS index; `/metrics` counts the ZNS messages sent."""

import asyncio
import datetime as dt
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fake_zns import FakeZNS
from sqlalchemy import select
from test_zns import ACCESS, TEMPLATE, URL, add_centre, delivering, zns_env

from bot.http.app import create_app
from bot.storage.models import Invitation, Response
from bot.survey import outbox
from bot.zalo.ratings import record_rating

SUBMITTED = dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC)  # 00:30 on 2 December in Việt Nam


@pytest.fixture
def zns_settings(settings):
    return settings.model_copy(update={"zalo_zns_template_id": TEMPLATE, "public_url": URL})


async def invited_and_sent(cli, survey="zns-rating", phone="0912345678"):
    add_centre(cli)
    code, _, err = cli("invite", "--centre", "hue", "--service", "gks", "--survey", survey, "--phone", phone,
                       env=zns_env())
    assert code == 0, err


async def responses(services):
    async with services.db.reading() as session:
        return (await session.scalars(select(Response))).all()


async def test_a_webhook_rating_then_the_same_by_pull_ratings_is_stored_once(cli, zns_settings):
    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake:
        await invited_and_sent(cli)
        async with delivering(zns_settings, fake) as (services, deliver):
            assert await deliver() == 1
            [sent] = fake.messages
            # The webhook names Zalo's msg_id only (its tracking_id may be missing): found by the msg_id kept.
            assert await record_rating(services, msg_id=sent["msg_id"], tracking_id=None, rate=2,
                                       note="Chờ lâu quá, gọi tôi 0987 654 321", feedbacks=["Chờ lâu", "Thiếu ghế"],
                                       submitted_at=SUBMITTED) == "stored"
            assert await record_rating(services, msg_id=sent["msg_id"], tracking_id=sent["tracking_id"], rate=2,
                                       note="again", feedbacks=[], submitted_at=SUBMITTED) == "duplicate"
            fake.add_rating(msg_id=sent["msg_id"], tracking_id=sent["tracking_id"], rate=2, note="x",
                            submit_ms=int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 60_000)
            fake.add_rating(msg_id="nobody", tracking_id="999999", rate=5, submit_ms=fake_ms())
            fake.add_rating(msg_id="bad", tracking_id=sent["tracking_id"], rate=9, submit_ms=fake_ms())
            env = zns_env(fake.base_url, SIPAS_ZALO_ZNS_RATING_TEMPLATE_ID=TEMPLATE)
            code, out, err = await asyncio.to_thread(cli, "zalo", "pull-ratings", env=env)
            assert code == 0, err
            assert "Fetched 3 ZNS ratings" in out and "0 stored, 1 stored before, 1 matching no invitation, " \
                "1 not valid" in out
            [response] = await responses(services)
            async with services.db.reading() as session:
                [invitation] = (await session.scalars(select(Invitation))).all()
    assert response.instrument == "zns-rating" and response.channel == "zns"
    assert response.centre_id == invitation.centre_id and response.service_id == invitation.service_id
    assert response.submitted_on == dt.date(2026, 12, 2)  # the local day of submission
    assert response.comment == "Chờ lâu quá, gọi tôi [số điện thoại]"  # masked as every comment
    assert response.answers == {"tags": "Chờ lâu; Thiếu ghế"}
    assert invitation.rated and invitation.status == "completed"
    [call] = fake.rating_calls
    assert call["template_id"] == TEMPLATE and call["offset"] == "0"


def fake_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 30_000


async def test_pull_ratings_pages_and_a_tracking_id_alone_finds_the_invitation(cli, zns_settings):
    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake:
        await invited_and_sent(cli, survey="sipas-quick")
        async with delivering(zns_settings, fake) as (services, _):
            async with services.db.reading() as session:
                [invitation] = (await session.scalars(select(Invitation))).all()
            # Not delivered yet: no msg_id known, the rating still names our tracking id.
            for i in range(120):
                fake.add_rating(msg_id=f"m{i}", tracking_id=str(10_000 + i), rate=4, submit_ms=fake_ms())
            fake.add_rating(msg_id="m-ours", tracking_id=str(invitation.id), rate=5, submit_ms=fake_ms())
            fake.add_rating(msg_id="old", tracking_id=str(invitation.id), rate=1, submit_ms=1_600_000_000_000)
            env = zns_env(fake.base_url, SIPAS_ZALO_ZNS_RATING_TEMPLATE_ID=TEMPLATE)
            code, out, err = await asyncio.to_thread(cli, "zalo", "pull-ratings", "--since", "2026-01-01", env=env)
            assert code == 0, err
            assert "Fetched 121 ZNS ratings since 01/01/2026: 1 stored, 0 stored before, 120 matching" in out
            assert [c["offset"] for c in fake.rating_calls] == ["0", "100"]
            [response] = await responses(services)
            async with services.db.reading() as session:
                invitation = await session.get(Invitation, invitation.id)
            assert response.instrument == "zns-rating" and invitation.rated
            assert invitation.status == "issued"  # its own survey (sipas-quick) is still to be answered


async def test_pull_ratings_mistakes_are_one_line(cli):
    assert "SIPAS_ZALO_ZNS_RATING_TEMPLATE_ID" in cli("zalo", "pull-ratings")[2]
    env = {"SIPAS_ZALO_ZNS_RATING_TEMPLATE_ID": TEMPLATE}
    code, _, err = cli("zalo", "pull-ratings", "--since", "1/12/2026", env=env)
    assert code == 1 and "is not a date as YEAR-MONTH-DAY" in err
    code, _, err = cli("zalo", "pull-ratings", env=env)  # never authorized: no token pair
    assert code == 1 and "zalo authorize" in err and len(err.strip().splitlines()) == 1


async def test_a_refused_token_is_one_line(cli, zns_settings):
    async with FakeZNS(access_token="another", templates={TEMPLATE}) as fake:
        async with delivering(zns_settings, fake):
            pass
        env = zns_env(fake.base_url, SIPAS_ZALO_ZNS_RATING_TEMPLATE_ID=TEMPLATE,
                      SIPAS_ZALO_OAUTH_URL="http://127.0.0.1:9")  # a refresh attempt must not leave the machine
        code, _, err = await asyncio.to_thread(cli, "zalo", "pull-ratings", env=env)
    # -124 makes OAApi refresh the token, which the tokens helper implements; either way: one line, exit 1.
    assert code == 1 and len(err.strip().splitlines()) == 1


async def test_rate_outside_1_to_5_and_unknown_invitations(services):
    assert await record_rating(services, msg_id="x", tracking_id="1", rate=0, note=None, feedbacks=None,
                               submitted_at=None) == "invalid"
    assert await record_rating(services, msg_id="x", tracking_id="1", rate="năm", note=None, feedbacks=None,
                               submitted_at=None) == "invalid"
    assert await record_rating(services, msg_id="x", tracking_id="abc", rate=5, note=None, feedbacks=None,
                               submitted_at=None) == "unknown"
    assert await responses(services) == []


async def test_the_report_shows_mean_and_satisfied_share_no_sipas_index_and_metrics_count(cli, zns_settings):
    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake:
        await invited_and_sent(cli)
        assert cli("invite", "--centre", "hue", "--survey", "zns-rating", "--phone", "0987654321",
                   env=zns_env())[0] == 0
        assert cli("invite", "--centre", "hue", "--survey", "zns-rating", "--phone", "0323456789",
                   env=zns_env())[0] == 0
        async with delivering(zns_settings, fake) as (services, deliver):
            assert await deliver() == 3
            for message, rate in zip(fake.messages, (5, 4, 2), strict=True):
                assert await record_rating(services, msg_id=message["msg_id"], tracking_id=None, rate=rate,
                                           note=None, feedbacks=None, submitted_at=None) == "stored"
            async with services.db.transaction() as session:
                outbox.enqueue(session, "telegram", "-100555", "alert")
            app_settings = zns_settings.model_copy(update={"zalo_zns_api_url": fake.base_url})
            async with TestClient(TestServer(create_app(app_settings))) as client:
                answer = await client.get("/metrics")
                body = await answer.text()
    assert answer.status == 200 and answer.content_type == "text/plain"
    assert 'sipas_zns_sent_today{centre="HUE"} 3' in body.splitlines()
    assert 'sipas_outbox_messages{platform="telegram",state="waiting"} 1' in body.splitlines()
    assert "# TYPE sipas_inbox_pending gauge" in body
    code, out, err = cli("report", "--survey", "zns-rating", "--min-n", "1", "--by", "centre", "--format", "json")
    assert code == 0, err
    [row] = json.loads(out)["rows"]
    assert row["sipas"] is None and row["sipas_ci"] is None and row["elements"] is None
    overall = row["criteria"]["overall_1"]
    assert overall["n"] == 3 and abs(overall["mean"] - 11 / 3) < 1e-9 and abs(overall["satisfied_pct"] - 200 / 3) < 1e-6
    assert row["participation"]["issued"] == 3 and row["participation"]["zns"] == 3
    assert row["participation"]["completed"] == 3
    code, out, _ = cli("report", "--survey", "zns-rating", "--min-n", "1", "--by", "channel")
    assert code == 0 and "zns" in out and "SIPAS (KTC" not in out and "hài lòng %" in out and "3,67" in out
    assert "Không phải chỉ số SIPAS" in out
    code, out, _ = cli("report", "--survey", "zns-rating", "--min-n", "1", "--format", "csv")
    assert code == 0 and out.splitlines()[1].split(",")[4:6] == ["false", ""]  # suppressed, then no sipas


async def test_the_user_feedback_webhook_event_in_both_shapes(cli, zns_settings):
    from bot.zalo.ratings import record_feedback_event

    async with FakeZNS(access_token=ACCESS, templates={TEMPLATE}) as fake:
        await invited_and_sent(cli)
        async with delivering(zns_settings, fake) as (services, deliver):
            assert await deliver() == 1
            [sent] = fake.messages
            nested = {"event_name": "user_feedback", "app_id": "1", "oa_id": "2", "timestamp": "1764696600000",
                      "message": {"msg_id": sent["msg_id"], "tracking_id": sent["tracking_id"], "rate": 4,
                                  "note": "Nhanh gọn", "feedbacks": ["Nhân viên nhiệt tình"],
                                  "submit_time": "1764696600000"}}
            assert await record_feedback_event(services, nested) == "stored"
            flat = {"event_name": "user_feedback", **nested["message"]}
            assert await record_feedback_event(services, flat) == "duplicate"
            [response] = await responses(services)
    assert response.comment == "Nhanh gọn" and response.submitted_on == dt.date(2025, 12, 3)


async def test_zns_goes_at_once_while_alerts_keep_their_random_hold(services):
    async with services.db.transaction() as session:
        outbox.enqueue(session, "zns", "84912345678", "{}")
        outbox.enqueue(session, "telegram", "-100555", "alert")
    sent = []

    async def record(chat_id, text):
        sent.append(chat_id)

    assert await outbox.deliver_round(services.db, {"zns": record, "telegram": record},
                                      hold=(120.0, 360.0)) == 1
    assert sent == ["84912345678"]
