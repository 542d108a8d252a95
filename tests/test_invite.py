"""`sipas-bot invite`, run as a real process on a real SQLite file: output formats, links, QR files, the printable
sheet, what is (not) stored, and bad input that must issue nothing."""

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import sqlite_only
from PIL import Image
from sqlalchemy import func, select

from bot.storage.models import AppState, Invitation
from bot.survey import directory
from bot.survey.invitations import CODE_ALPHABET, find
from bot.survey.qr import Card, instruction, qr_png, sheet_html

CENTRE = "Trung tâm Phục vụ hành chính công phường Sài Gòn"
SERVICE = "Đăng ký khai sinh"
# Blank out anything the developer's own environment might set, so each run sees only what the test gives it.
NO_LINKS = {"SIPAS_PUBLIC_URL": "", "SIPAS_TELEGRAM_BOT_USERNAME": "", "SIPAS_INVITATION_DAYS": "30"}
BOTH_LINKS = {**NO_LINKS, "SIPAS_PUBLIC_URL": "https://khaosat.example.vn/",
              "SIPAS_TELEGRAM_BOT_USERNAME": "@sipas_test_bot"}
FIELDS = {"token", "code", "centre", "service", "survey", "expires_at", "links"}
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
DISPLAY_CODE = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$")


async def seed(services, service: bool = True) -> None:
    async with services.db.transaction() as session:
        await directory.add_centre(session, "HCM-Q1", CENTRE)
        if service:
            await directory.add_service(session, "KHAISINH", SERVICE)


async def stored_invitations(services) -> list[Invitation]:
    async with services.db.reading() as session:
        return list((await session.scalars(select(Invitation).order_by(Invitation.id))).all())


def ok(result):
    code, out, err = result
    assert code == 0, err
    return out, err


def expected_expiry(issued_at: dt.datetime, days: int) -> dt.datetime:
    """Valid to the end of the local day `days` after the day of issue: expiry is the next local midnight."""
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    last_day = issued_at.astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)


def last_valid_day(expires_at: str) -> str:
    """What the text output and the sheet must print: the last local day that is valid from start to end."""
    moment = dt.datetime.fromisoformat(expires_at).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    return (moment.date() - dt.timedelta(days=1)).strftime("%d/%m/%Y")


@sqlite_only
async def test_json_has_links_and_only_hashes_are_stored(services, cli_process, settings):
    await seed(services)
    before = dt.datetime.now(dt.UTC)
    out, _ = ok(cli_process("invite", "--centre", "hcm-q1", "--service", "khaisinh", "--survey", "sipas-quick",
                    "--count", "5", "--expires-days", "10", "--format", "json", env=BOTH_LINKS))
    records = json.loads(out)
    assert len(records) == 5
    for r in records:
        assert set(r) == FIELDS
        assert (r["centre"], r["service"], r["survey"]) == ("HCM-Q1", "KHAISINH", "sipas-quick")
        assert TOKEN.match(r["token"]) and len(r["token"]) <= 64  # fits Telegram's start parameter
        assert DISPLAY_CODE.match(r["code"])
        assert all(ch in CODE_ALPHABET for ch in r["code"].replace("-", "")) and not set(r["code"]) & set("O0I1L")
        assert r["links"] == {"web": f"https://khaosat.example.vn/s/{r['token']}",
                              "telegram": f"https://t.me/sipas_test_bot?start={r['token']}"}
        expires = dt.datetime.fromisoformat(r["expires_at"])
        assert expires.utcoffset() == dt.timedelta(0)
        assert expires == expected_expiry(before, 10)
    assert len({r["token"] for r in records}) == len({r["code"] for r in records}) == 5

    rows = await stored_invitations(services)
    assert [(row.instrument, row.status, row.service_id is not None) for row in rows] == [("sipas-quick", "issued",
                                                                                           True)] * 5
    # The token and the code find their invitation again, the code typed the lazy way ("abcd efgh").
    async with services.db.reading() as session:
        for r in records:
            by_token = await find(session, services.secret_key, r["token"])
            by_code = await find(session, services.secret_key, r["code"].lower().replace("-", " "))
            assert by_token is not None and by_code is not None and by_token.id == by_code.id

    # Only keyed hashes reach the disk: no token or code, in any form, in the database or its write-ahead log.
    data = b"".join(path.read_bytes() for path in Path(settings.data_dir).glob("sipas.db*"))
    assert len(data) > 0
    for r in records:
        for secret in (r["token"], r["code"], r["code"].replace("-", "")):
            assert secret.encode() not in data, secret


async def test_links_follow_the_settings_and_the_stored_bot_username(services, cli, tmp_path):
    await seed(services, service=False)
    # No link can be built: the text names both settings and shows the token instead.
    out, _ = ok(cli("invite", "--centre", "HCM-Q1", "--count", "2", env=NO_LINKS))
    assert "https://" not in out and out.count("  token:    ") == 2
    assert re.search(r"Missing links: .*SIPAS_PUBLIC_URL.*SIPAS_TELEGRAM_BOT_USERNAME", out)
    expiring = re.search(r"expiring at (\S+)Z\.", out).group(1) + "+00:00"
    assert out.count(f"valid to: {last_valid_day(expiring)}") == 2
    assert CENTRE in out

    # Web link only (trailing slash dropped); the QR carries it and the card does not mention a bot.
    qr_dir = tmp_path / "web-only"
    env = {**NO_LINKS, "SIPAS_PUBLIC_URL": "https://khaosat.example.vn/sipas/", "SIPAS_INVITATION_DAYS": "7"}
    out, err = ok(cli("invite", "--centre", "HCM-Q1", "--format", "json", "--qr-dir", str(qr_dir), env=env))
    [record] = json.loads(out)
    assert record["links"] == {"web": f"https://khaosat.example.vn/sipas/s/{record['token']}"}
    assert record["service"] is None
    assert dt.datetime.fromisoformat(record["expires_at"]) == expected_expiry(dt.datetime.now(dt.UTC), 7)
    assert "SIPAS_TELEGRAM_BOT_USERNAME" in err and "SIPAS_PUBLIC_URL" not in err
    assert (qr_dir / f"{record['code']}.png").read_bytes() == qr_png(record["links"]["web"])
    sheet = (qr_dir / "invitations.html").read_text(encoding="utf-8")
    assert instruction(record["code"], last_valid_day(record["expires_at"]),
                       web_base="https://khaosat.example.vn/sipas") in sheet
    assert "hoặc vào khaosat.example.vn/sipas/s và nhập mã" in sheet
    assert "Telegram" not in sheet

    # The username the running bot stored is used when the setting is absent; the setting wins when present.
    async with services.db.transaction() as session:
        session.add(AppState(key="telegram_bot_username", value="stored_bot"))
    out, _ = ok(cli("invite", "--centre", "HCM-Q1", "--format", "json", env=NO_LINKS))
    [record] = json.loads(out)
    assert record["links"] == {"telegram": f"https://t.me/stored_bot?start={record['token']}"}
    out, _ = ok(cli("invite", "--centre", "HCM-Q1", "--format", "json",
                    env={**NO_LINKS, "SIPAS_TELEGRAM_BOT_USERNAME": "settings_bot"}))
    [record] = json.loads(out)
    assert record["links"] == {"telegram": f"https://t.me/settings_bot?start={record['token']}"}
    assert len(await stored_invitations(services)) == 5


async def test_csv_qr_files_and_printable_sheet(services, cli, cli_process, tmp_path):
    await seed(services)
    qr_dir = tmp_path / "print" / "batch-1"  # created, parents too
    out, err = ok(cli("invite", "--centre", "HCM-Q1", "--service", "KHAISINH", "--count", "13", "--format", "csv",
                      "--qr-dir", str(qr_dir), env=BOTH_LINKS))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["token", "code", "centre", "service", "survey", "expires_at", "web_link",
                             "telegram_link"]
    assert len(rows) == 13 and {r["centre"] + "/" + r["service"] for r in rows} == {"HCM-Q1/KHAISINH"}
    assert all(r["telegram_link"] == f"https://t.me/sipas_test_bot?start={r['token']}" for r in rows)
    assert all(r["web_link"] == f"https://khaosat.example.vn/s/{r['token']}" for r in rows)
    assert "invitations.html" in err and "Missing links" not in err

    pngs = sorted(qr_dir.glob("*.png"))
    assert [p.stem for p in pngs] == sorted(r["code"] for r in rows)
    by_code = {r["code"]: r for r in rows}
    for png in pngs:
        with Image.open(png) as image:
            assert image.format == "PNG" and image.size[0] == image.size[1] >= 250
        # Rendering is deterministic, so equal bytes prove the QR carries the web link (preferred: Telegram is
        # blocked in Vietnam).
        assert png.read_bytes() == qr_png(by_code[png.stem]["web_link"])

    sheet = (qr_dir / "invitations.html").read_text(encoding="utf-8")
    assert sheet.count("data:image/png;base64,") == 13 and sheet.count('<section class="page">') == 2
    assert "@page" in sheet and "A4" in sheet
    assert unicodedata.normalize("NFC", CENTRE) in sheet and SERVICE in sheet
    day = last_valid_day(rows[0]["expires_at"])
    for r in rows:
        text = instruction(r["code"], day, web_base="https://khaosat.example.vn", bot="sipas_test_bot")
        assert text in sheet and "Ông/Bà" in text and f"Hạn: {day}." in text and "khaosat.example.vn/s " in text
        assert f'<div class="code">{r["code"]}</div>' in sheet

    # A second batch into the same folder would overwrite the only printable copy of the first: refused.
    code, _, err = cli_process("invite", "--centre", "HCM-Q1", "--qr-dir", str(qr_dir), env=BOTH_LINKS)
    assert code == 1 and "exists already" in err
    assert len(await stored_invitations(services)) == 13


async def test_bad_input_is_refused_and_issues_nothing(services, cli, tmp_path):
    await seed(services)
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    no_link_dir = tmp_path / "never-created"
    cases = [
        (["--centre", "NOPE"], BOTH_LINKS, "no centre with code 'NOPE'"),
        (["--centre", "HCM-Q1", "--service", "nope"], BOTH_LINKS, "no service with code 'NOPE'"),
        (["--centre", "HCM-Q1", "--survey", "nope"], BOTH_LINKS, "unknown survey 'nope'"),
        (["--centre", "HCM-Q1", "--count", "10001"], BOTH_LINKS, "--count must be between 1 and 10000"),
        (["--centre", "HCM-Q1", "--expires-days", "0"], BOTH_LINKS, "--expires-days must be between 1 and 366"),
        (["--centre", "HCM-Q1", "--qr-dir", str(a_file)], BOTH_LINKS, "is a file"),
        (["--centre", "HCM-Q1"], {**BOTH_LINKS, "SIPAS_TELEGRAM_BOT_USERNAME": "not a bot"}, "not a Telegram username"),
        (["--centre", "HCM-Q1"], {**BOTH_LINKS, "SIPAS_PUBLIC_URL": "khaosat.example.vn"}, "http:// or https://"),
        (["--centre", "HCM-Q1", "--qr-dir", str(no_link_dir)], NO_LINKS, "SIPAS_TELEGRAM_BOT_USERNAME"),
    ]
    # In-process runs take turns (the fixture serialises them); the pool keeps the shape of the process version.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: cli("invite", *case[0], env=case[1]), cases))
    for (args, _, expected), (code, out, err) in zip(cases, results, strict=True):
        assert code == 1, (args, out, err)
        assert err.startswith("Error: ") and expected in err and "Traceback" not in err, (args, err)
    assert "SIPAS_PUBLIC_URL" in results[-1][2]
    assert not no_link_dir.exists() and a_file.read_text() == "x"
    async with services.db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_sheet_escapes_names_and_paginates():
    png = qr_png("https://t.me/sipas_test_bot?start=abc")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    cards = [Card(f"ABCD-EF{i:02d}", png, "Trung tâm <b>&</b>", None, "Quét mã QR") for i in range(25)]
    sheet = sheet_html(cards, title="Phiếu mời")
    assert "<b>&</b>" not in sheet and "Trung tâm &lt;b&gt;&amp;&lt;/b&gt;" in sheet
    assert sheet.count('<section class="page">') == 3 and sheet.count('class="card"') == 25
    assert 'class="service"' not in sheet
