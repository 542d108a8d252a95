"""The dashboard's pages on a real server and SQLite file: the league table (order, rank intervals, "chưa đủ mẫu"
with n, the province row and its change), what a centre's key may see, a centre's page, the exports (the API's
bytes), and Vietnamese or English words and numbers."""

import datetime as dt
import io
import re
from html import unescape

import pytest
from dashboard_world import JUNE, JUNE_API, MAY, WEAK_CRITERION, WEAKEST, log_in, seed
from openpyxl import load_workbook
from sqlalchemy import select
from test_report import invite

from bot.http.dashboard.periods import KINDS
from bot.http.dashboard.render import number
from bot.reports.render import vi_number
from bot.reports.request import PARTICIPATION
from bot.storage.models import Centre
from bot.survey import directory
from bot.survey.api_keys import ROLES, create_key


@pytest.fixture
async def world(services):
    return await seed(services)


async def api_json(client, key: str, **query) -> dict:
    answer = await client.get("/api/v1/reports/sipas", params=query, headers={"Authorization": f"Bearer {key}"})
    assert answer.status == 200
    return await answer.json()


async def html_of(client, path: str, params=None) -> str:
    answer = await client.get(path, params=params or {})
    assert answer.status == 200, await answer.text()
    return await answer.text()


def league_codes(html: str) -> list[str]:
    return re.findall(r'<tr data-centre="([A-Z]+)"', html)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_the_league_table_is_the_reports_order_with_its_figures(world, client):
    await log_in(client, world.keys["admin"])
    html = await html_of(client, "/dashboard", JUNE)
    report = await api_json(client, world.keys["admin"], **JUNE_API)
    centres = [row for row in report["rows"] if not row.get("total")]
    assert league_codes(html) == [row["centre"] for row in centres] == ["HP", "QN", "TB"]
    assert centres[-1]["centre"] == WEAKEST and not centres[-1]["suppressed"]  # the lowest lower bound, last
    text = text_of(html)
    for row in centres:
        low, high = row["sipas_ci"]
        assert f"{vi_number(row['sipas'])} ({vi_number(low)}–{vi_number(high)})" in text
        assert f"{row['rank']['rank']} ({row['rank']['low']}–{row['rank']['high']})" in text
    total = next(row for row in report["rows"] if row.get("total"))
    change = total["change"]["sipas"]["change"]
    assert "Toàn tỉnh" in text and vi_number(total["sipas"]) in text
    assert f"{'+' if change > 0 else '−'}{vi_number(abs(change))} so với tháng 5/2024" in text


async def test_a_centre_with_too_few_responses_shows_only_its_n(world, client):
    await log_in(client, world.keys["admin"])
    text = text_of(await html_of(client, "/dashboard", MAY))
    report = await api_json(client, world.keys["admin"], **{**JUNE_API, "from": "2024-05-01", "to": "2024-05-31"})
    lc = next(row for row in report["rows"] if row["centre"] == "LC")
    assert lc["suppressed"] and f"LC Trung tâm Phục vụ hành chính công Lào Cai chưa đủ mẫu (n = {lc['n']})" in text
    hidden = [row for row in report["rows"] if row["suppressed_reason"] == "complementary"]
    assert hidden and all(f"ẩn để bảo vệ (n = {row['n']})" in text for row in hidden)


async def test_the_period_can_be_chosen(world, client):
    await log_in(client, world.keys["admin"])
    html = await html_of(client, "/dashboard", {"period": "quarter", "at": "2024-Q2"})
    assert "Xếp hạng trung tâm – quý II/2024" in html
    assert '<option value="2024-Q2" selected>quý II/2024</option>' in html
    latest = await html_of(client, "/dashboard")  # no choice: the latest month with responses
    assert "tháng 6/2024" in latest and '<option value="2024-05">tháng 5/2024</option>' in latest


@pytest.mark.parametrize(("who", "centre"), [("staff_tb", "TB"), ("viewer_qn", "QN")])
async def test_a_centre_key_sees_only_its_centre(world, client, who, centre):
    await log_in(client, world.keys[who])
    html = await html_of(client, "/dashboard", JUNE)
    assert league_codes(html) == [centre]
    assert "Toàn tỉnh" not in html  # the province's figure would tell the other centres' apart
    assert (await client.get(f"/dashboard/centre/{centre}", params=JUNE)).status == 200
    other = await client.get("/dashboard/centre/HP", params=JUNE)
    assert other.status == 403 and "chỉ xem được trung tâm của mình" in await other.text()
    csv = await (await client.get("/dashboard/export.csv", params=JUNE)).text()
    assert "HP" not in csv and centre in csv


async def test_a_centre_page_shows_its_elements_criteria_priority_and_trend(world, client):
    await log_in(client, world.keys["admin"])
    html = await html_of(client, f"/dashboard/centre/{WEAKEST}", JUNE)
    report = await api_json(client, world.keys["admin"], **JUNE_API)
    row = next(r for r in report["rows"] if r["centre"] == WEAKEST)
    first = re.search(r'<ol class="priority">\s*<li data-criterion="(\w+)"', html)
    assert first and first.group(1) == row["priority"][0]["code"] == WEAK_CRITERION
    text = text_of(html)
    assert "Ưu tiên cải thiện" in text and "Năm yếu tố" in text
    for code, value in row["elements"].items():
        low, high = row["elements_ci"][code]
        assert f"{vi_number(value)} ({vi_number(low)}–{vi_number(high)})" in text, code
    assert len(re.findall(r'<li data-criterion="', html)) == len(row["priority"]) + len(row["criteria"])
    # March and April, then May withheld (to protect LC's few responses), then June: the line breaks once.
    assert '<svg class="trend"' in html and html.count("<polyline") == 2
    assert html.count(">▲</text>") == 1  # April's rise from March is significant
    assert all(f"tháng {m}/2024" in text for m in (3, 4, 5, 6))  # the chart's figures, as a table too


async def test_an_unknown_centre_is_not_found(world, client):
    await log_in(client, world.keys["admin"])
    answer = await client.get("/dashboard/centre/XX")
    assert answer.status == 404 and "Không có trung tâm nào với mã này." in await answer.text()


@pytest.mark.parametrize("who", ["admin", "staff_tb"])
async def test_the_exports_are_the_apis_bytes(world, client, who):
    await log_in(client, world.keys[who])
    api = {"Authorization": f"Bearer {world.keys[who]}"}
    query = {k: v for k, v in JUNE_API.items() if who == "admin" or k != "total"}
    ours = await client.get("/dashboard/export.csv", params=JUNE)
    theirs = await client.get("/api/v1/reports/sipas.csv", params=query, headers=api)
    assert ours.status == theirs.status == 200
    assert await ours.read() == await theirs.read()
    assert ours.headers["Content-Disposition"] == theirs.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(await (await client.get("/dashboard/export.xlsx", params=JUNE)).read()))
    reference = load_workbook(io.BytesIO(await (await client.get("/api/v1/reports/sipas.xlsx", params=query,
                                                                 headers=api)).read()))
    assert book.sheetnames == reference.sheetnames
    for name in book.sheetnames:  # the same cells (the files differ only in their creation time)
        assert [[c.value for c in r] for r in book[name].iter_rows()] == [
            [c.value for c in r] for r in reference[name].iter_rows()]


async def test_the_trend_export_is_month_by_month(world, client):
    await log_in(client, world.keys["admin"])
    csv = await (await client.get("/dashboard/export.csv", params={**JUNE, "report": "trend"})).text()
    assert "2024-05" in csv and "2024-06" in csv


async def test_english_words_and_numbers_on_the_switch(world, client):
    await log_in(client, world.keys["admin"])
    html = await html_of(client, "/dashboard", {**JUNE, "lang": "en"})
    report = await api_json(client, world.keys["admin"], **JUNE_API)
    hp = next(r for r in report["rows"] if r["centre"] == "HP")
    assert 'lang="en"' in html and "Centres ranked – June 2024" in html and "Whole province" in html
    assert f"{hp['sipas']:.2f}" in html and vi_number(hp["sipas"]) not in html
    may = await html_of(client, "/dashboard", {**MAY, "lang": "en"})
    assert "too few responses" in may and "withheld to protect others" in may and "chưa đủ mẫu" not in may
    again = await html_of(client, "/dashboard", JUNE)  # the choice is kept in a cookie
    assert 'lang="en"' in again
    back = await html_of(client, "/dashboard", {**JUNE, "lang": "vi"})
    assert 'lang="vi"' in back and vi_number(hp["sipas"]) in back


def test_numbers_are_written_the_way_of_each_language():
    assert number(83.9412, "vi") == "83,94" and number(83.9412, "en") == "83.94"
    assert number(1234, "vi", 0) == "1.234" and number(1234, "en", 0) == "1,234"
    assert number(None, "vi") == "–"


def test_every_text_the_templates_use_is_in_both_languages():
    from importlib import resources

    from bot.texts import catalogue

    folder = resources.files("bot.http.dashboard").joinpath("templates")
    used = set()
    for entry in folder.iterdir():
        used |= set(re.findall(r"""\bt\(\s*["'](\w+)["']\s*[,)]""", entry.read_text(encoding="utf-8")))
    assert len(used) > 40, "the t(...) calls were not found"
    # The names made from a prefix and a value ("kind_" ~ kind, ...), and those the code names.
    used |= {f"kind_{k}" for k in KINDS} | {f"role_{r}" for r in ROLES} | {f"stage_{s}" for s in PARTICIPATION}
    used |= {"bad_key", "bad_link", "csrf_failed", "other_centre", "no_centre", "no_export", "too_few",
             "withheld_complementary", "forbidden", "not_found", "error"}
    missing = sorted(key for key in used if not {"vi", "en"} <= set(catalogue().get(f"dashboard.{key}", {})))
    assert not missing


async def test_the_gap_to_a_centres_target(world, client, cli):
    assert cli("target", "set", "--centre", "TB", "--year", "2024", "--sipas", "85", "--element", "staff=90")[0] == 0
    assert cli("target", "set", "--centre", "HP", "--year", "2024", "--sipas", "60")[0] == 0
    await log_in(client, world.keys["admin"])
    html = await html_of(client, "/dashboard", JUNE)
    report = await api_json(client, world.keys["admin"], **JUNE_API)
    tb = next(r for r in report["rows"] if r["centre"] == "TB")
    gap = tb["target"]["sipas"]["gap"]
    text = text_of(html)
    assert gap > 0 and f"thiếu {vi_number(gap)} (mục tiêu 85,00)" in text
    assert "đạt mục tiêu 60,00" in text  # HP is above its target
    assert text.count("chưa đặt") == 1  # QN has none
    row = re.search(r'<tr data-centre="TB".*?</tr>', html, re.S).group(0)
    assert 'fill="#b45309"' in row  # the target's tick on TB's bar
    centre = await html_of(client, "/dashboard/centre/TB", JUNE)
    staff = re.search(r"<li><span class=\"label\">Công chức</span>.*?</li>", centre, re.S).group(0)
    assert 'fill="#b45309"' in staff  # the element's target on its bar


async def test_a_centres_participation_funnel(world, services, client):
    async with services.db.reading() as session:
        tb = (await session.execute(select(Centre).where(Centre.code == "TB"))).scalar_one()
    for stages in ("osc", "osc", "os", "o", ""):
        await invite(services, tb, None, dt.datetime(2024, 6, 10, 3, 0, tzinfo=dt.UTC), stages, survey="sipas-2023")
    await log_in(client, world.keys["admin"])
    html = await html_of(client, "/dashboard/centre/TB", JUNE)
    funnel = text_of(re.search(r'<ol class="funnel">.*?</ol>', html, re.S).group(0))
    assert funnel == ("Phiếu mời đã phát 5 (100,0%) Đã mở 4 (80,0%) Đã bắt đầu 3 (60,0%) "
                      "Đã hoàn thành 2 (40,0%)")
    assert "funnel" not in await html_of(client, "/dashboard/centre/HP", JUNE)  # HP issued none


async def test_a_new_install_without_responses(services, client):
    async with services.db.transaction() as session:
        await directory.add_centre(session, "DEMO", "Trung tâm thử nghiệm", open_surveys=True)
        _, secret = await create_key(session, "admin")
    await log_in(client, secret)
    assert "Chưa có phiếu nào trong kỳ này." in await html_of(client, "/dashboard")
    centre = await html_of(client, "/dashboard/centre/DEMO")
    assert "Kỳ này trung tâm chưa có phiếu nào." in centre and "Chưa có tháng nào đủ mẫu." in centre
    assert (await client.get("/dashboard/export.csv")).status == 200


async def test_the_province_box_shows_the_provinces_target(world, client, cli):
    await log_in(client, world.keys["admin"])
    box = re.search(r'<section class="province".*?</section>', await html_of(client, "/dashboard", JUNE), re.S)
    assert "mục tiêu" not in text_of(box.group(0))  # none set yet
    assert cli("target", "set", "--province", "--year", "2024", "--sipas", "99")[0] == 0
    report = await api_json(client, world.keys["admin"], **JUNE_API)
    total = next(row for row in report["rows"] if row.get("total"))
    gap = total["target"]["sipas"]["gap"]
    box = re.search(r'<section class="province".*?</section>', await html_of(client, "/dashboard", JUNE), re.S)
    assert gap > 0 and f"thiếu {vi_number(gap)} (mục tiêu 99,00)" in text_of(box.group(0))
    assert 'fill="#b45309"' in box.group(0)  # the target's tick on the province's bar
