"""The report's building blocks: fast and portable reads agree, integer scoring equals float scoring, request
parsing and period labels, and the benchmark script still runs."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import sqlite_only
from test_report import HAND, QUICK, invite, seed

from bot.errors import UserError
from bot.reports.dataset import load_arrays, load_ratings
from bot.reports.participation import load_participation
from bot.reports.render import vi_number
from bot.reports.request import ReportRequest, parse_request, period_index, period_key, period_label
from surveys.loader import load_builtin
from surveys.scoring import score

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC


async def test_load_ratings_keeps_its_columns_and_values(services):
    await seed(services)
    instrument = services.instrument(QUICK)
    async with services.db.reading() as session:
        frame = await load_ratings(session, instrument)
    assert list(frame.columns) == ["centre", "service", "channel", "submitted_on", *instrument.criteria()]
    frame = frame.sort_values(["submitted_on"]).reset_index(drop=True)
    assert frame["centre"].tolist() == ["HL", "HL", "HL", "DH", "DH"]
    assert frame["service"].iloc[2] == "KS" and pd.isna(frame["service"].iloc[3])
    assert frame["channel"].tolist() == ["telegram", "telegram", "zalo", "zalo", "zalo"]
    assert frame["submitted_on"].tolist()[0] == pd.Timestamp("2024-07-05")
    assert frame["feedback_1"].tolist()[:4] == [0.0, 0.0, 4.0, 1.0] and np.isnan(frame["feedback_1"].iloc[4])
    assert frame["access_1"].dtype == np.float32


@sqlite_only
@pytest.mark.parametrize("keys", [dict(), dict(service=False, channel=False), dict(channel=False)])
async def test_fast_and_portable_reads_agree(services, keys):
    rows = [*HAND, ("DH", True, "a-channel-name-longer-than-twenty", dt.date(2024, 9, 1), (1, 2, 3, 4, 5))]
    await seed(services, rows)
    instrument = services.instrument(QUICK)
    async with services.db.reading() as session:
        fast = await load_arrays(session, instrument, dt.date(2024, 7, 6), None, driver_sql=True, **keys)
        portable = await load_arrays(session, instrument, dt.date(2024, 7, 6), None, driver_sql=False, **keys)
        short = await load_arrays(session, instrument, None, dt.date(2024, 8, 31), driver_sql=True, **keys)

    def table(arrays):
        channels = np.asarray((*arrays.channels, ""), dtype=object)[arrays.channel]
        return sorted(zip(arrays.centre_id.tolist(), arrays.service_id.tolist(), channels.tolist(),
                          arrays.day.tolist(), map(bytes, arrays.codes), strict=True))

    assert len(fast) == 5 and table(fast) == table(portable)
    assert len(short) == 5 and short.codes.shape == (5, 5)  # no long channel: the fast layout held
    assert sorted(map(bytes, short.codes))[0] == bytes([2, 3, 4, 5, 1])


@sqlite_only
async def test_participation_fast_and_portable_agree(services):
    centres, service = await seed(services)
    for hour in range(0, 24, 5):
        await invite(services, centres["HL"], service if hour % 2 else None, dt.datetime(2024, 7, 31, hour, tzinfo=UTC),
                     "osc"[: hour % 4])
    request = ReportRequest(survey=QUICK, period="month", by=("centre", "service"), date_to=dt.date(2024, 7, 31))
    async with services.db.reading() as session:
        fast = await load_participation(session, QUICK, request, "Asia/Ho_Chi_Minh", driver_sql=True)
        portable = await load_participation(session, QUICK, request, "Asia/Ho_Chi_Minh", driver_sql=False)
    pd.testing.assert_frame_equal(fast, portable)
    assert fast["issued"].sum() == 4  # 17:00 UTC and later on 31 July is already August in Vietnam


def test_integer_scoring_equals_float_scoring():
    criteria = load_builtin()["sipas-2023"].criteria()
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 8, (3000, len(criteria))).astype(np.uint8)  # 6 and 7 are invalid answers
    missing = rng.random(codes.shape) < 0.1
    keys = {"centre": rng.integers(1, 9, 3000), "month": rng.integers(650, 656, 3000)}
    as_float = pd.DataFrame(np.where(missing, np.nan, codes), columns=list(criteria)).assign(**keys)
    nullable = pd.DataFrame({c: pd.arrays.IntegerArray(codes[:, i].copy(), missing[:, i])
                             for i, c in enumerate(criteria)}).assign(**keys)
    complete = pd.DataFrame(codes.astype(np.int64), columns=list(criteria)).assign(**keys)
    for by in (["centre", "month"], ["month"], []):
        for integers, floats in ((nullable, as_float), (complete, complete.astype({c: float for c in criteria}))):
            expected, result = score(floats, criteria, by=by, min_n=40), score(integers, criteria, by=by, min_n=40)
            for name in ("groups", "elements", "criteria"):
                pd.testing.assert_frame_equal(getattr(result, name), getattr(expected, name))
    # Integer keys are numbered with one bincount; text keys go through pandas: the same groups either way.
    dense = score(as_float, criteria, by=["centre", "month"], min_n=40).groups
    general = score(as_float.assign(centre=as_float["centre"].map("C{}".format)), criteria, by=["centre", "month"],
                    min_n=40).groups
    pd.testing.assert_frame_equal(dense.drop(columns="centre"), general.drop(columns="centre"))
    assert general["centre"].tolist() == [f"C{c}" for c in dense["centre"]]


def test_parse_request_and_periods():
    request = parse_request(survey=None, period=" Month ", by="centre, channel,centre", min_n=5,
                            date_from="2024-07-01", date_to="2024-09-30")
    assert request == ReportRequest(None, "month", ("centre", "channel"), 5, dt.date(2024, 7, 1),
                                    dt.date(2024, 9, 30))
    for bad in (dict(period="fortnight"), dict(by=""), dict(by="centre,region"), dict(min_n=0),
                dict(date_from="2024-7-1"), dict(date_from="2024-02-30"), dict(date_from="x", date_to=None)):
        with pytest.raises(UserError):
            parse_request(**bad)
    days = np.array(["2023-12-31", "2024-01-01", "2024-07-15", "2024-10-01"], dtype="datetime64[D]")
    assert [period_key(i, "month") for i in period_index(days, "month")] == ["2023-12", "2024-01", "2024-07",
                                                                             "2024-10"]
    assert [period_key(i, "quarter") for i in period_index(days, "quarter")] == ["2023-Q4", "2024-Q1", "2024-Q3",
                                                                                 "2024-Q4"]
    assert [period_key(i, "year") for i in period_index(days, "year")] == ["2023", "2024", "2024", "2024"]
    assert period_label("2024-07", ReportRequest(period="month")) == "tháng 7/2024"
    assert period_label("2024-Q3", ReportRequest(period="quarter")) == "quý III/2024"
    assert period_label("2024", ReportRequest(period="year")) == "năm 2024"
    assert period_label("all", ReportRequest()) == "toàn bộ"
    assert period_label("all", ReportRequest(date_from=dt.date(2024, 7, 1), date_to=dt.date(2024, 9, 30))) == \
        "01/07/2024–30/09/2024"
    assert (vi_number(83.9412), vi_number(1234.5, 0), vi_number(None)) == ("83,94", "1.234", "–")


def test_benchmark_script_runs_at_tiny_size(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), "--n", "2000", "--repeat", "1",
                             "--import-rows", "300"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "| report |" in result.stdout and "report / floor-ratings" in result.stdout
    assert "import: 300 rows" in result.stdout
