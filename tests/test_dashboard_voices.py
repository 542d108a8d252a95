"""A centre's page shows what citizens said besides their ratings: the shares of the unscored questions
(harassment, informal payments, how the dossier was submitted) once enough people answered, and the latest
comments, masked and shown as text (never as HTML), with their month only."""

import datetime as dt
import re
from html import unescape

import pytest
from dashboard_world import log_in

from bot.storage.responses import build_response
from bot.survey import directory
from bot.survey.api_keys import create_key

SURVEY = "sipas-2023"
JUNE = {"period": "month", "at": "2024-06"}


@pytest.fixture
async def keys(services):
    """HG: 40 answers in June 2024 (harassment: 30 none, 8 some, 2 many); KT: 10 answers (too few to publish)."""
    instrument = services.instrument(SURVEY)
    ratings = dict.fromkeys(instrument.criteria(), 4)
    harassment = [1] * 30 + [2] * 8 + [3] * 2
    async with services.db.transaction() as session:
        hg = await directory.add_centre(session, "HG", "Trung tâm Phục vụ hành chính công Hà Giang")
        kt = await directory.add_centre(session, "KT", "Trung tâm Phục vụ hành chính công Kon Tum")
        rows = []
        for i, answer in enumerate(harassment):
            extra = {"harassment": answer, "informal_payment": 1, "submission_mode": 1 + i % 3}
            if i == 0:
                extra["comment"] = "Gọi lại cho tôi: 0912 345 678 <script>alert('x')</script> & cảm ơn"
            if i == 1:
                extra["comment"] = "Cán bộ tận tình"
            rows.append(build_response(instrument, {**ratings, **extra}, centre_id=hg.id, service_id=None,
                                       channel="web", submitted_on=dt.date(2024, 6, 1 + i % 28)))
        rows += [build_response(instrument, {**ratings, "harassment": 2}, centre_id=kt.id, service_id=None,
                                channel="web", submitted_on=dt.date(2024, 6, 3)) for _ in range(10)]
        # A comment of May: not June's.
        rows.append(build_response(instrument, {**ratings, "comment": "Tháng trước"}, centre_id=hg.id,
                                   service_id=None, channel="web", submitted_on=dt.date(2024, 5, 20)))
        session.add_all(rows)
        _, admin = await create_key(session, "admin", None, "admin")
    return {"admin": admin}


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def centre_page(client, code: str, **params) -> str:
    answer = await client.get(f"/dashboard/centre/{code}", params={**JUNE, **params})
    assert answer.status == 200, await answer.text()
    return await answer.text()


async def test_the_unscored_answers_are_shares_with_intervals(keys, client):
    await log_in(client, keys["admin"])
    text = text_of(await centre_page(client, "HG"))
    # 8 of 40 said "some civil servants harass": 20.0%; Wilson 95%: centre (0.2 + 1.96²/80)/(1 + 1.96²/40) =
    # 0.2263, half 1.96/(1.096)·√(0.2·0.8/40 + 1.96²/6400) = 0.1213, so 10.5–34.8.
    assert "Có một số công chức gây phiền hà, sách nhiễu cho người dân 20,0% (10,5–34,8) · 8/40" in text
    assert "Không có công chức nào gây phiền hà, sách nhiễu cho người dân 75,0%" in text
    assert "Có nhiều công chức gây phiền hà, sách nhiễu cho người dân 5,0%" in text
    assert "Trực tiếp tại cơ quan nhà nước" in text  # the submission mode is there too


async def test_too_few_answers_show_only_their_n(keys, client):
    await log_in(client, keys["admin"])
    text = text_of(await centre_page(client, "KT"))
    assert "Chưa đủ mẫu để công bố (n = 10)." in text
    assert "Có một số công chức gây phiền hà" not in text


async def test_comments_are_masked_text_of_the_period_with_their_month(keys, client):
    await log_in(client, keys["admin"])
    html = await centre_page(client, "HG")
    assert "<script>alert" not in html  # shown as text, never run
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    text = text_of(html)
    assert "06/2024 Gọi lại cho tôi: [số điện thoại] <script>alert('x')</script> & cảm ơn" in text
    assert "0912 345 678" not in text
    assert "Cán bộ tận tình" in text and "Tháng trước" not in text


async def test_english_labels_and_numbers(keys, client):
    await log_in(client, keys["admin"])
    text = text_of(await centre_page(client, "HG", lang="en"))
    assert "Some civil servants cause trouble for or harass people 20.0% (10.5–34.8) · 8/40" in text
    assert "Latest comments from citizens" in text
