"""`--period week` (ISO weeks and week-years) and `--window DAYS` (rolling periods for trend lines), by hand."""

import datetime as dt

import numpy as np
import pytest
from test_report import QUICK, report, seed

from bot.reports.compare import key_index
from bot.reports.request import period_index, period_key


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def forms(days, values=(5, 4, 3, 2, 1)):
    return [("HL", False, "web", day(d), values) for d in days]


def test_every_day_of_eight_years_gets_its_iso_week():
    days = np.arange(np.datetime64("2019-01-01"), np.datetime64("2027-01-01"))
    weeks = period_index(days, "week")
    for when, index in zip(days.tolist(), weeks.tolist(), strict=True):
        year, week, _ = when.isocalendar()
        assert period_key(index, "week") == f"{year}-W{week:02d}"
        assert key_index(f"{year}-W{week:02d}", "week") == index
    assert np.all(np.diff(weeks) >= 0) and len(set(weeks.tolist())) == 418  # 8 * 52 + week 53 of 2020 and of 2026


async def test_week_boundaries_and_labels(services, cli):
    await seed(services, forms(["2020-12-31", "2021-01-03", "2021-01-04", "2024-02-12", "2024-02-18", "2024-12-29",
                                "2024-12-30", "2025-01-05"]))
    rows = (await report(services, period="week")).rows
    # Thursday 31 December 2020 and Sunday 3 January 2021 are in week 53 of 2020; Monday 30 December 2024 opens
    # week 1 of 2025.
    assert {r["period"]: r["n"] for r in rows} == {"2020-W53": 2, "2021-W01": 1, "2024-W07": 2, "2024-W52": 1,
                                                   "2025-W01": 2}
    code, out, err = cli("report", "--survey", QUICK, "--min-n", "1", "--period", "week")
    assert code == 0, err
    for label in ("tuần 53/2020", "tuần 1/2021", "tuần 7/2024", "tuần 52/2024", "tuần 1/2025"):
        assert label in out


async def test_weeks_compared(services):
    await seed(services, forms(["2020-01-01", "2020-12-31", "2021-01-04", "2024-12-29", "2024-12-30"]))
    previous = {r["period"]: r["change"] for r in (await report(services, period="week", compare="previous")).rows}
    assert previous["2025-W01"]["period"] == "2024-W52"
    assert previous["2021-W01"]["period"] == "2020-W53"
    last_year = {r["period"]: r["change"] for r in (await report(services, period="week",
                                                                 compare="same-last-year")).rows}
    assert last_year["2021-W01"]["period"] == "2020-W01"  # Wednesday 1 January 2020 is in 2020-W01
    assert last_year["2020-W53"] is None  # 2019 had 52 weeks


# HL: 2 May (all 1, outside every window), 3 May (all 5), 15 July (all 1), 20 and 21 August (all 5), and
# 1 September (all 5, after --to).
WINDOWED = [*forms(["2024-05-02"], (1, 1, 1, 1, 1)), *forms(["2024-05-03"], (5, 5, 5, 5, 5)),
            *forms(["2024-07-15"], (1, 1, 1, 1, 1)), *forms(["2024-08-20", "2024-08-21", "2024-09-01"],
                                                            (5, 5, 5, 5, 5))]


async def test_rolling_90_days_by_month(services):
    await seed(services, WINDOWED)
    rows = {r["period"]: r for r in (await report(services, period="month", window=90, date_from="2024-07-01",
                                                  date_to="2024-08-31")).rows}
    assert sorted(rows) == ["2024-07", "2024-08"]
    # July: 3 May to 31 July (90 days) holds 3 May and 15 July: SIPAS 50.
    assert (rows["2024-07"]["n"], rows["2024-07"]["sipas"]) == (2, pytest.approx(50.0))
    # August: 3 June to 31 August holds 15 July, 20 and 21 August: SIPAS 100 * 2/3.
    assert (rows["2024-08"]["n"], rows["2024-08"]["sipas"]) == (3, pytest.approx(200 / 3))
    calendar = {r["period"]: r["n"] for r in (await report(services, period="month", date_from="2024-07-01",
                                                           date_to="2024-08-31")).rows}
    assert calendar == {"2024-07": 1, "2024-08": 2}  # without --window: the month alone
    # Without --from and --to, from the first response's month to the last one's:
    # May (2 Feb-31 May): 2, 3 May; June (3 Mar-30 Jun): the same; July: 3 May, 15 July; August: as above;
    # September (3 Jul-30 Sep): 15 July, 20, 21 August, 1 September.
    everything = {r["period"]: r["n"] for r in (await report(services, period="month", window=90)).rows}
    assert everything == {"2024-05": 2, "2024-06": 2, "2024-07": 2, "2024-08": 3, "2024-09": 4}


async def test_rolling_14_days_by_week(services):
    await seed(services, forms(["2024-02-04", "2024-02-05", "2024-02-14", "2024-02-24"]))
    rows = {r["period"]: r["n"] for r in (await report(services, period="week", window=14, date_from="2024-02-12",
                                                       date_to="2024-02-25")).rows}
    # W07 ends Sunday 18 February: 5-18 February holds the 5th and 14th; W08: 12-25 February the 14th and 24th.
    assert rows == {"2024-W07": 2, "2024-W08": 2}


async def test_rolling_windows_compared(services):
    await seed(services, WINDOWED)
    [august] = (await report(services, period="month", window=90, compare="previous", date_from="2024-08-01",
                             date_to="2024-08-31")).rows
    # The base is July's window (3 May-31 July: SIPAS 50), read from before --from.
    assert august["change"]["period"] == "2024-07"
    assert august["change"]["sipas"]["base"] == pytest.approx(50.0)
    assert august["change"]["sipas"]["change"] == pytest.approx(200 / 3 - 50)


@pytest.mark.parametrize(("arguments", "message"), [
    (["--window", "30", "--period", "quarter"], "--window works with --period week, month only, not 'quarter'"),
    (["--window", "30"], "--window works with --period week, month only, not 'all'"),
    (["--window", "0", "--period", "month"], "--window must be 1 to 366 days, not 0"),
    (["--window", "thirty", "--period", "month"], "thirty"),
])
def test_bad_window(cli, arguments, message):
    code, _out, err = cli("report", *arguments)
    assert code != 0 and message in err and "Traceback" not in err
