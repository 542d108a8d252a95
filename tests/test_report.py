"""`sipas-bot report`: numbers checked by hand on small data sets in a real SQLite database.

The hand data uses sipas-quick (one criterion per element, so each element index is one criterion's share):

    HL  KS  telegram  2024-07-05  5 5 5 5 NA
    HL  KS  telegram  2024-07-20  4 4 3 2 NA
    HL  KS  zalo      2024-07-25  5 4 4 4 4
    DH  -   zalo      2024-08-10  2 3 4 5 1
    DH  -   zalo      2024-08-11  5 5 5 5 (skipped)
"""

import datetime as dt
import json
import math
from statistics import NormalDist

import pytest
from sqlalchemy import update

from bot.reports.build import build_report
from bot.reports.request import parse_request
from bot.storage.models import Invitation
from bot.storage.responses import build_response
from bot.survey import directory, invitations

QUICK = "sipas-quick"
HAND = [
    ("HL", True, "telegram", dt.date(2024, 7, 5), (5, 5, 5, 5, "NA")),
    ("HL", True, "telegram", dt.date(2024, 7, 20), (4, 4, 3, 2, "NA")),
    ("HL", True, "zalo", dt.date(2024, 7, 25), (5, 4, 4, 4, 4)),
    ("DH", False, "zalo", dt.date(2024, 8, 10), (2, 3, 4, 5, 1)),
    ("DH", False, "zalo", dt.date(2024, 8, 11), (5, 5, 5, 5, None)),
]
Z = NormalDist().inv_cdf(0.975)
UTC = dt.UTC


async def seed(services, rows=HAND, survey=QUICK):
    """Centres HL and DH, service KS, and one response per row (None answers are left out: skipped)."""
    instrument = services.instrument(survey)
    codes = list(instrument.criteria())
    async with services.db.transaction() as session:
        centres = {"HL": await directory.add_centre(session, "HL", "Trung tâm Phục vụ hành chính công Hải Lăng"),
                   "DH": await directory.add_centre(session, "DH", "Trung tâm Phục vụ hành chính công Đông Hà")}
        service = await directory.add_service(session, "KS", "Đăng ký khai sinh")
        session.add_all([
            build_response(instrument, {c: v for c, v in zip(codes, values, strict=False) if v is not None},
                           centre_id=centres[centre].id, service_id=service.id if with_service else None,
                           channel=channel, submitted_on=day)
            for centre, with_service, channel, day, values in rows])
    return centres, service


async def invite(services, centre, service, created: dt.datetime, stages: str = "", survey=QUICK) -> None:
    """One invitation created at ``created`` (UTC) that reached the stages named (o opened, s started, c done)."""
    async with services.db.transaction() as session:
        [issued] = await invitations.issue(session, services.secret_key, centre=centre, service=service, survey=survey,
                                           now=created)
        later = created + dt.timedelta(minutes=5)
        await session.execute(update(Invitation).where(Invitation.id == issued.id).values(
            opened="o" in stages, started="s" in stages,
            completed_on=later.date() if "c" in stages else None, status="completed" if "c" in stages else "issued"))


async def report(services, **options):
    return await build_report(services, parse_request(**{"survey": QUICK, "min_n": 1, **options}))


def wilson(successes: int, n: int) -> list[float]:
    p, denominator = successes / n, 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    half = Z / denominator * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return [100 * (centre - half) if successes else 0.0, 100 * (centre + half) if successes < n else 100.0]


# Student t quantiles t(0.975, df) from the tables, for the SIPAS and element intervals of n respondents (df n - 1).
T = {1: 12.706205, 2: 4.302653, 3: 3.182446, 29: 2.045230}


def score_interval(p: float, var: float, n: int) -> list[float]:
    """Wilson's interval for p (0-1) from n_eff = p (1 - p) / Var trials (n when Var = 0), with t(0.975, n - 1)."""
    n_eff, q = (p * (1 - p) / var if var and 0 < p < 1 else n), T[n - 1]
    denominator = 1 + q * q / n_eff
    centre = (p + q * q / (2 * n_eff)) / denominator
    half = q / denominator * math.sqrt(p * (1 - p) / n_eff + q * q / (4 * n_eff * n_eff))
    return [100 * (centre - half), 100 * (centre + half) if p < 1 else 100.0]


@pytest.fixture
async def hand(services):
    return await seed(services)


async def test_json_by_hand_through_the_cli(services, hand, cli):
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {k: data[k] for k in ("survey", "period", "by", "min_n", "from", "to")} == {
        "survey": QUICK, "period": "all", "by": ["centre"], "min_n": 1, "from": None, "to": None}
    hl, dh = data["rows"]  # HL's lower bound (10.5) is above DH's (0.4)
    assert (hl["centre"], hl["period"], hl["n"], hl["suppressed"]) == ("HL", "all", 3, False)
    assert "service" not in hl and "channel" not in hl
    # Shares: access 3/3, procedure 3/3, staff 2/3, result 2/3, feedback 1/1 (two not applicable).
    assert hl["sipas"] == pytest.approx(100 * (1 + 1 + 2 / 3 + 2 / 3 + 1) / 5, abs=1e-9)
    # Linearised variance: z_r = (1/5) sum_i (x_ri - p_i v_ri) / V_i = 2/45, -4/45, 2/45; Var = 3/2 * 24/2025
    # = 0.017778 would give n_eff = p (1 - p) / Var = 6.5, but only one form (the second) has a rating of 1-3, and
    # one unhappy form cannot show how the unhappy ones differ: design effect 1, n_eff = 3. q = t(0.975, 2) =
    # 4.3027, q^2 / n_eff = 6.1711: centre (0.86667 + 3.08553) / 7.1711 = 0.55113,
    # half 4.3027 / 7.1711 * sqrt(0.038519 + 18.5132 / 36) = 0.60000 * 0.74349 = 0.44610 -> 10.50 .. 99.72.
    assert hl["sipas_ci"] == pytest.approx(score_interval(13 / 15, 0.0, 3), abs=1e-5)  # n_eff = n, as for Var = 0
    assert hl["sipas_ci"] == pytest.approx([10.50, 99.72], abs=0.01)
    assert hl["no_dissatisfied_pct"] == pytest.approx(200 / 3, abs=1e-9)  # the second response has a 2
    assert hl["no_dissatisfied_ci"] == pytest.approx(wilson(2, 3), abs=1e-9)
    # Elements of one criterion: Var = p (1 - p) / (n - 1), so n_eff = n - 1; access 3/3: design effect 1, n 3.
    # Its upper end is one-sided above 13.94%, the highest lower end 3 answers can give (surveys.ceiling): the
    # mid-p bound 98.76 worked out in tests/test_scoring.py, where the equal-tailed end was 98.87.
    staff_low, staff_high = score_interval(2 / 3, (2 / 9) / 2, 3)
    assert hl["elements_ci"]["staff"] == pytest.approx([staff_low, 98.76], abs=0.01)
    assert hl["elements_ci"]["staff"][0] == pytest.approx(staff_low, abs=1e-5) and staff_high > 98.86
    assert hl["elements_ci"]["access"] == pytest.approx([100 * 3 / (3 + T[2] ** 2), 100.0], abs=1e-5)  # 13.95
    assert hl["elements"] == pytest.approx({"access": 100.0, "procedure": 100.0, "staff": 200 / 3,
                                            "result": 200 / 3, "feedback": 100.0}, abs=1e-9)
    staff = hl["criteria"]["staff_1"]
    assert staff["n"] == 3 and staff["mean"] == pytest.approx(4.0)
    assert [staff["satisfied_pct"], staff["neutral_pct"], staff["dissatisfied_pct"]] == pytest.approx(
        [200 / 3, 100 / 3, 0.0], abs=1e-9)
    assert staff["ci"] == pytest.approx(wilson(2, 3), abs=1e-9)
    assert hl["criteria"]["feedback_1"]["n"] == 1  # "not applicable" counts in no denominator
    assert hl["criteria"]["result_1"]["dissatisfied_pct"] == pytest.approx(100 / 3, abs=1e-9)
    assert hl["participation"] is None  # no invitations

    assert (dh["centre"], dh["n"]) == ("DH", 2)
    assert dh["sipas"] == pytest.approx(60.0, abs=1e-9)  # (50 + 50 + 100 + 100 + 0) / 5
    # z_r = -0.1, 0.1: Var = 2 * 0.02 = 0.04 would give n_eff = 0.24 / 0.04 = 6, but all the ratings of 1-3 are on
    # one form: design effect 1, n_eff = 2; q = t(0.975, 1) = 12.706 (two forms say little)
    assert dh["sipas_ci"] == pytest.approx(score_interval(0.6, 0.0, 2), abs=1e-5)
    assert dh["sipas_ci"] == pytest.approx([0.44, 99.80], abs=0.01)
    assert dh["no_dissatisfied_pct"] == pytest.approx(50.0)
    assert dh["no_dissatisfied_ci"] == pytest.approx(wilson(1, 2), abs=1e-9)
    feedback = dh["criteria"]["feedback_1"]  # one 1, one skipped
    assert feedback["ci"] == pytest.approx(wilson(0, 1), abs=1e-9)
    assert {k: v for k, v in feedback.items() if k != "ci"} == {
        "n": 1, "satisfied_pct": 0.0, "neutral_pct": 0.0, "dissatisfied_pct": 100.0, "mean": 1.0, "suppressed": False}


async def test_by_centre_service_channel_keys_and_an_unanswered_criterion(services, hand):
    rows = (await report(services, by="centre,service,channel")).rows
    # Lower bounds: HL telegram 0.69 (below), DH 0.44 (above): HL telegram first; HL/KS/zalo (n = 1) has no interval.
    assert [(r["centre"], r["service"], r["channel"], r["n"], r["suppressed"]) for r in rows] == [
        ("HL", "KS", "telegram", 2, False), ("DH", None, "zalo", 2, False), ("HL", "KS", "zalo", 1, False)]
    assert rows[1]["sipas_ci"] == pytest.approx([0.44, 99.80], abs=0.01)
    telegram = rows[0]
    # Feedback was "not applicable" for both: no share, and it is left out of SIPAS (k = 4 criteria).
    assert telegram["elements"]["feedback"] is None
    assert telegram["criteria"]["feedback_1"] == {"n": 0, "suppressed": True}  # fewer than min_n = 1 answers
    assert telegram["sipas"] == pytest.approx(75.0)
    # z_r = +-1/8, Var = 2 * 2/64 = 0.0625 would give n_eff = 0.1875 / 0.0625 = 3, but one of the two forms holds
    # every rating of 1-3: design effect 1, n_eff = 2, q = 12.706, q^2 / n_eff = 80.724:
    # centre (0.75 + 40.362) / 81.724 = 0.50306, half 0.15548 * sqrt(0.09375 + 161.448 / 16) = 0.49617
    assert telegram["sipas_ci"] == pytest.approx([0.69, 99.92], abs=0.01)
    assert telegram["elements_ci"]["feedback"] == [None, None]  # no answer: no index, no interval
    # With min_n = 2, HL/KS/zalo (n = 1) is suppressed, and so is every other group (bot.reports.suppression):
    # HL/KS (n = 3, in --by centre,service) minus telegram, or zalo (n = 3, in --by channel) minus DH, gives it away.
    rows = (await report(services, by="centre,service,channel", min_n=2)).rows
    assert [(r["centre"], r["channel"], r["n"], r["suppressed_reason"]) for r in rows] == [
        ("DH", "zalo", 2, "complementary"), ("HL", "telegram", 2, "complementary"), ("HL", "zalo", 1, "min_n")]
    assert list(rows[2])[:3] == ["centre", "service", "channel"]
    assert all(rows[2][k] is None for k in ("sipas", "sipas_ci", "no_dissatisfied_pct", "elements", "criteria",
                                            "no_dissatisfied_ci", "elements_ci"))


async def test_suppressed_rows_keep_keys_and_n_and_come_last(services, hand):
    rows = (await report(services, min_n=3, period="month")).rows  # each month one centre: no total to subtract from
    assert [(r["centre"], r["n"], r["suppressed"]) for r in rows] == [("HL", 3, False), ("DH", 2, True)]
    assert all(rows[1][k] is None for k in ("sipas", "sipas_ci", "no_dissatisfied_pct", "elements", "criteria"))
    everything = (await report(services, min_n=10)).rows
    assert [(r["centre"], r["n"]) for r in everything] == [("DH", 2), ("HL", 3)]  # all suppressed: by key


async def test_ranked_by_lower_bound_not_by_point_value(services):
    # SIPAS 80 from 30 identical forms: Var = 0, so design effect 1 (n_eff = 30), q = t(0.975, 29) = 2.0452:
    # centre (0.8 + 0.069716) / 1.139432 = 0.76329, half 1.79493 * sqrt(0.16/30 + 4.18296/3600) = 0.14466
    steady = [("HL", False, "web", dt.date(2024, 5, 1), (5, 5, 5, 5, 2))] * 30  # 61.86 .. 90.80
    lucky = [("DH", False, "web", dt.date(2024, 5, 1), (5, 5, 5, 5, 5))] * 3
    # SIPAS 90, se 10, but one unhappy form: design effect 1, n_eff = 4 (not 0.09 / 0.01 = 9), q = t(0.975, 3) =
    # 3.1824: centre 2.16599 / 3.53200 = 0.61325, half 0.90102 * sqrt(0.0225 + 10.128 / 64) = 0.38307 -> 23.02 .. 99.63
    lucky += [("DH", False, "web", dt.date(2024, 5, 1), (5, 5, 2, 2, 5))]
    await seed(services, steady + lucky)
    hl, dh = (await report(services)).rows
    assert (hl["centre"], dh["centre"]) == ("HL", "DH")
    assert dh["sipas"] == pytest.approx(90.0) and hl["sipas"] == pytest.approx(80.0)
    assert dh["sipas_ci"] == pytest.approx(score_interval(0.9, 0.0, 4), abs=1e-5)  # n_eff = n, as for Var = 0
    assert dh["sipas_ci"] == pytest.approx([23.02, 99.63], abs=0.01)
    assert hl["sipas_ci"] == pytest.approx(score_interval(0.8, 0.0, 30), abs=1e-5)
    assert hl["sipas_ci"] == pytest.approx([61.86, 90.80], abs=0.01)  # never [80, 80]: a finite n is not certainty


@pytest.mark.parametrize(("period", "keys"), [
    ("month", ["2023-12", "2024-07", "2024-08", "2025-01"]),
    ("quarter", ["2023-Q4", "2024-Q3", "2025-Q1"]),
    ("year", ["2023", "2024", "2025"]),
    ("all", ["all"]),
])
async def test_period_keys(services, period, keys):
    days = [dt.date(2023, 12, 31), dt.date(2024, 7, 1), dt.date(2024, 8, 31), dt.date(2025, 1, 1)]
    await seed(services, [("HL", False, "web", day, (5, 4, 3, 2, 1)) for day in days])
    rows = (await report(services, period=period)).rows
    assert sorted(r["period"] for r in rows) == keys
    assert sum(r["n"] for r in rows) == 4


async def test_from_and_to_are_inclusive(services, hand):
    rows = (await report(services, date_from="2024-07-20", date_to="2024-08-10", by="centre")).rows
    assert {r["centre"]: r["n"] for r in rows} == {"HL": 2, "DH": 1}
    assert (await report(services, date_from="2024-08-12")).rows == []
    assert (await report(services, date_to="2024-07-05")).rows[0]["n"] == 1


async def test_participation_counts_and_rate(services, hand):
    centres, service = hand
    hl = centres["HL"]
    for stages in ("osc", "os", "o", ""):  # four for HL/KS in July: 3 opened, 2 started, 1 completed
        await invite(services, hl, service, dt.datetime(2024, 7, 3, 3, 0, tzinfo=UTC), stages)
    # 20:00 UTC on 30 June is 03:00 on 1 July in Vietnam; 18:00 UTC on 31 July is 01:00 on 1 August.
    await invite(services, hl, None, dt.datetime(2024, 6, 30, 20, 0, tzinfo=UTC), "osc")
    await invite(services, hl, service, dt.datetime(2024, 7, 31, 18, 0, tzinfo=UTC), "")
    await invite(services, hl, service, dt.datetime(2024, 7, 3, 3, 0, tzinfo=UTC), "osc", survey="sipas-2023")

    monthly = {(r["centre"], r["period"]): r["participation"] for r in (await report(services, period="month")).rows}
    assert monthly[("HL", "2024-07")] == {"issued": 5, "opened": 4, "started": 3, "completed": 2,
                                          "response_rate": 40.0}
    assert monthly[("DH", "2024-08")] is None  # HL's August invitation has no HL row in August
    overall = (await report(services)).rows[0]
    assert overall["centre"] == "HL" and overall["participation"]["issued"] == 6
    assert overall["participation"]["response_rate"] == pytest.approx(100 * 2 / 6)
    july = (await report(services, date_from="2024-07-01", date_to="2024-07-31")).rows[0]
    assert july["participation"] == {"issued": 5, "opened": 4, "started": 3, "completed": 2, "response_rate": 40.0}
    by_service = {(r["centre"], r["service"]): r["participation"]
                  for r in (await report(services, by="centre,service", period="month")).rows}
    assert by_service[("HL", "KS")] == {"issued": 4, "opened": 3, "started": 2, "completed": 1,
                                        "response_rate": 25.0}
    assert all(r["participation"] is None for r in (await report(services, by="centre,channel")).rows)
