"""Issue 11's paths across the Zalo pieces, on the real `serve` app (tests/zalo_oa_served.py) with every fake at
the transport: a ZNS invitation to a phone whose star rating arrives by the OA webhook and again through
`sipas-bot zalo pull-ratings` (stored once), and the OA's access token expiring in the middle of a survey
(refreshed through the OAuth fake, and the survey goes on)."""

import asyncio
import json
import time

from fake_zalo_oauth import FakeZaloOAuth
from fake_zns import FakeZNS
from sqlalchemy import select
from zalo_oa_served import TOKEN, serving
from zalo_signing import APP_ID, event, now_ms, post

from bot.services import open_services
from bot.storage.models import Response, ZaloToken

TEMPLATE = "7001"
URL = "https://khaosat.hue.gov.vn"


async def responses(settings, instrument: str) -> list[Response]:
    async with open_services(settings) as services, services.db.reading() as session:
        return list((await session.scalars(select(Response).where(Response.instrument == instrument))).all())


async def eventually(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_phone_invitation_rated_by_webhook_and_again_by_pull_ratings_is_stored_once(settings, cli):
    async with FakeZNS(access_token=TOKEN, templates={TEMPLATE}) as zns:
        zalo = settings.model_copy(update={"zalo_zns_template_id": TEMPLATE, "public_url": URL,
                                           "zalo_zns_api_url": zns.base_url})
        async with serving(zalo) as served:
            env = {"SIPAS_ZALO_ZNS_TEMPLATE_ID": TEMPLATE, "SIPAS_PUBLIC_URL": URL,
                   "SIPAS_ZALO_ZNS_API_URL": zns.base_url, "SIPAS_ZALO_APP_ID": APP_ID}
            code, out, err = cli("invite", "--phone", "0912 345 678", "--centre", "hcc", "--survey", "zns-rating",
                                 env=env)
            assert code == 0, err
            # The running service's outbox sends it (ZNS rows wait for no random hold).
            await eventually(lambda: zns.billed == 1, "the ZNS message")
            [sent] = zns.messages
            assert sent["phone"] == "84912345678" and sent["template_id"] == TEMPLATE
            status, _ = await post(served.url, event("user_feedback", msg_id=sent["msg_id"],
                                                     tracking_id=sent["tracking_id"]))
            assert status == 200
            await served.drain()
            [rating] = await responses(served.settings, "zns-rating")
            assert (rating.channel, rating.ratings) == ("zns", bytes([4]))
            assert rating.comment == "Cán bộ hướng dẫn tận tình"
            zns.add_rating(msg_id=sent["msg_id"], tracking_id=sent["tracking_id"], rate=4, submit_ms=now_ms())
            # In a thread: the fake answers on this test's event loop.
            code, out, err = await asyncio.to_thread(cli, "zalo", "pull-ratings", env=env)
            assert code == 0, err
            assert len(await responses(served.settings, "zns-rating")) == 1, out
            code, out, err = cli("report", "--survey", "zns-rating", "--by", "channel", "--min-n", "1",
                                 "--format", "json")
            assert code == 0, err
            assert json.loads(out)["rows"][0]["channel"] == "zns"


class LiveTokens:
    """The fake OA accepts exactly the access tokens the OAuth fake considers live."""

    def __init__(self, oauth: FakeZaloOAuth) -> None:
        self.oauth = oauth

    def __contains__(self, token: str) -> bool:
        return self.oauth.valid(token)


async def test_the_access_token_expiring_mid_survey_is_refreshed_and_the_survey_goes_on(settings):
    async with FakeZaloOAuth(app_id=APP_ID) as oauth, \
            serving(settings.model_copy(update={"zalo_oauth_url": oauth.url})) as served:
        pair = oauth.issue()
        served.oa.tokens = LiveTokens(oauth)
        async with open_services(served.settings) as services, services.db.transaction() as session:
            row = await session.get(ZaloToken, "oa")
            row.access_token, row.refresh_token = pair["access_token"], pair["refresh_token"]
        citizen = served.citizen("6142494823777")
        _, first = await citizen.says(served.issued["sipas-quick"][0].display_code)
        assert first.text.startswith("Câu 1/") and first.token == pair["access_token"]
        oauth.expire(pair["access_token"])  # Zalo now answers -216 to it
        [second] = await citizen.says("5")
        assert second.text.startswith("Ông/Bà chọn") or "Câu 2/" in second.text
        assert oauth.refreshes == 1 and second.token != pair["access_token"] and oauth.valid(second.token)
        while "Cảm ơn Ông/Bà đã hoàn thành" not in citizen.received[-1].text:
            await citizen.says("5" if "Câu 6/" not in citizen.received[-1].text else "Rất tốt")
        assert oauth.refreshes == 1
        [response] = await responses(served.settings, "sipas-quick")
        assert response.channel == "zalo-oa"
        async with open_services(served.settings) as services, services.db.reading() as session:
            stored = await session.get(ZaloToken, "oa")
        assert stored.access_token == second.token and stored.refresh_token != pair["refresh_token"]
