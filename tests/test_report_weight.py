"""`report --weight volume`: responses weighted to the invitations issued per centre and service.

Centre HL issues 30 invitations for service KS (birth registration) and 30 for DD (land). KS citizens answer three
times as often: 15 responses, 12 of them satisfied with everything; DD 5 responses, 1 satisfied. The transactions
are half KS, half DD, so the true SIPAS is (80 + 20) / 2 = 50, where counting each response once gives 13 / 20 = 65.
"""

import datetime as dt
import json

import numpy as np
import pytest
from test_report import QUICK

from bot.reports.build import build_report
from bot.reports.request import parse_request
from bot.reports.weighting import weights_for
from bot.storage.responses import build_response
from bot.survey import directory, invitations

JULY = dt.date(2024, 7, 10)


@pytest.fixture
async def mix(services):
    instrument = services.instrument(QUICK)
    codes = list(instrument.criteria())
    async with services.db.transaction() as session:
        hl = await directory.add_centre(session, "HL", "Trung tâm Phục vụ hành chính công Hải Lăng")
        ks = await directory.add_service(session, "KS", "Đăng ký khai sinh")
        dd = await directory.add_service(session, "DD", "Đăng ký đất đai")
        for service in (ks, dd):
            await invitations.issue(session, services.secret_key, centre=hl, service=service, survey=QUICK,
                                    count=30, now=dt.datetime(2024, 7, 1, 8, tzinfo=dt.UTC))
        answers = [(ks, 5)] * 12 + [(ks, 2)] * 3 + [(dd, 5)] * 1 + [(dd, 2)] * 4
        session.add_all([build_response(instrument, dict.fromkeys(codes, value), centre_id=hl.id,
                                        service_id=service.id, channel="web", submitted_on=JULY)
                         for service, value in answers])


async def test_weighting_recovers_the_transaction_mix(services, mix):
    plain = (await build_report(services, parse_request(survey=QUICK, min_n=1))).rows[0]
    weighted = (await build_report(services, parse_request(survey=QUICK, min_n=1, weight="volume"))).rows[0]
    assert plain["sipas"] == pytest.approx(65.0)  # 13 of 20 responses satisfied
    # Weights N/n: KS 30/15 = 2, DD 30/5 = 6, scaled to average 1 (by 3): 2/3 and 2.
    # (12 * 2/3 + 1 * 2) / (15 * 2/3 + 5 * 2) = 10 / 20.
    assert weighted["sipas"] == pytest.approx(50.0)
    assert weighted["n"] == plain["n"] == 20  # n stays the responses received
    # Kish's n: (sum w)^2 / sum w^2 = 20^2 / (15 * 4/9 + 5 * 4) = 400 / 26.67 = 15: a wider interval.
    assert weighted["sipas_ci"][0] < 50 < weighted["sipas_ci"][1]
    assert weighted["sipas_ci"][1] - weighted["sipas_ci"][0] > plain["sipas_ci"][1] - plain["sipas_ci"][0]
    # By service, each service's own figures do not move (one cell each: every weight in it is the same).
    by_service = (await build_report(services, parse_request(survey=QUICK, min_n=1, by="service",
                                                             weight="volume"))).rows
    assert {r["service"]: r["sipas"] for r in by_service} == pytest.approx({"KS": 80.0, "DD": 20.0})


async def test_weighted_report_in_json_and_table(services, mix, cli):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--weight", "volume", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["weight"] == "volume" and data["rows"][0]["sipas"] == pytest.approx(50.0)
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--weight", "volume")
    assert code == 0, err
    assert "50,00" in out and "Có trọng số theo số lời mời đã phát" in out
    code, out, _ = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "json")
    assert json.loads(out)["weight"] is None


def test_bad_weight_is_one_line_and_exit_1(cli):
    code, out, err = cli("report", "--weight", "people")
    assert code == 1 and out == ""
    assert err == "Error: --weight takes volume only (weights from the invitations issued per centre and service), " \
                  "not 'people'\n"


def test_a_cell_without_invitations_gets_the_average_rate():
    import pandas as pd

    issued = pd.DataFrame({"centre_id": [1, 1], "service_id": [1, 2], "period": [0, 0], "issued": [30, 30]})
    centre = np.array([1] * 20 + [1] * 2)
    service = np.array([1] * 15 + [2] * 5 + [3] * 2)  # service 3: two open-survey responses, no invitation
    weights = weights_for(centre, service, np.zeros(22, dtype=np.int64), issued)
    # N/n: 2 and 6; service 3 the overall 60 / 20 = 3. Mean (15*2 + 5*6 + 2*3) / 22 = 3; scaled: 2/3, 2, 1.
    assert weights.tolist() == pytest.approx([2 / 3] * 15 + [2.0] * 5 + [1.0] * 2)
    assert weights_for(centre, service, np.zeros(22, dtype=np.int64), None).tolist() == [1.0] * 22
