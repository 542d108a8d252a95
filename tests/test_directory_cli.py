"""Centre and service commands (issue 9): limits and forms named in one line with nothing changed, `service
import` reading Excel's files and refusing a wrong header, `centre remove` and `service remove`, and `export
responses -o` into a folder that does not exist yet."""

import datetime as dt

from sqlalchemy import select

from bot.storage.models import Centre, Service
from bot.storage.responses import build_response
from bot.survey import directory


async def reference(services) -> list[tuple]:
    async with services.db.reading() as session:
        centres = (await session.execute(select(Centre.code, Centre.name, Centre.alert_chat))).all()
        rows = (await session.execute(select(Service.code, Service.name, Service.field))).all()
    return sorted(tuple(row) for row in [*centres, *rows])


async def test_a_name_over_the_limit_and_a_bad_alert_chat_are_refused_in_one_line(services, cli):
    assert cli("centre", "add", "HCC", "Trung tâm")[0] == 0
    before = await reference(services)
    assert cli("centre", "add", "HUE", "a" * 2000) == (
        1, "", "Error: the centre name has 2,000 characters; at most 300 are allowed\n")
    assert cli("centre", "set", "HCC", "--name", "b" * 301) == (
        1, "", "Error: the centre name has 301 characters; at most 300 are allowed\n")
    assert cli("service", "add", "DD", "c" * 501) == (
        1, "", "Error: the service name has 501 characters; at most 500 are allowed\n")
    assert cli("centre", "set", "HCC", "--alert-chat", "abc") == (
        1, "", "Error: alert chat 'abc': 'abc' is not a telegram chat id; a Telegram chat id is a number (for "
               "example -100123456), a Zalo id 1 to 64 letters, digits, '-' or '_'\n")
    code, out, err = cli("centre", "set", "HCC", "--alert-chat", "viber:1", env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert (code, out) == (1, "") and len(err.splitlines()) == 1
    assert err.startswith("Lỗi: kênh cảnh báo 'viber:1': nền tảng phải là telegram, zalo; hãy ghi NỀN_TẢNG:MÃ_CHAT")
    assert await reference(services) == before


async def test_service_import_reads_excel_files_and_refuses_another_header(services, cli, tmp_path):
    (tmp_path / "excel-vi.csv").write_bytes("\ufeffcode;name;field\nHT-01;Đăng ký khai sinh;Hộ tịch\n"
                                            "DD-01;Đăng ký đất đai;\n".encode())
    code, out, err = cli("service", "import", "excel-vi.csv")
    assert (code, out) == (0, "services: 2 added, 0 updated\n"), err
    before = await reference(services)
    assert ("HT-01", "Đăng ký khai sinh", "Hộ tịch") in before

    (tmp_path / "ma-ten.csv").write_text("ma,ten\nDD02,Đất đai\n", encoding="utf-8")
    assert cli("service", "import", "ma-ten.csv") == (
        1, "", 'Error: nothing was imported: the first row of ma-ten.csv must be the header code,name or '
               'code,name,field (found "ma,ten")\n')
    (tmp_path / "no-header.csv").write_text("DD02,Đất đai\n", encoding="utf-8")
    assert cli("service", "import", "no-header.csv")[0] == 1
    (tmp_path / "wide.csv").write_text("code,name\nDD02,Đất đai,thừa\n", encoding="utf-8")
    code, _, err = cli("service", "import", "wide.csv")
    assert code == 1 and err.startswith("Error: row 2 of wide.csv has 3 cells but the header row has 2")
    code, _, err = cli("service", "import", "ma-ten.csv", env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert code == 1 and err.startswith("Lỗi: chưa nhập gì: dòng đầu của ma-ten.csv phải là tiêu đề")
    assert cli("service", "import", "missing.csv") == (1, "", "Error: missing.csv does not exist\n")
    assert await reference(services) == before


async def test_remove_a_centre_or_service_only_while_nothing_uses_it(services, cli):
    async with services.db.transaction() as session:
        used = await directory.add_centre(session, "HUE", "Huế")
        await directory.add_centre(session, "TYPO", "Gõ nhầm")
        service = await directory.add_service(session, "HT-01", "Đăng ký khai sinh")
        await directory.add_service(session, "XX", "Gõ nhầm")
        session.add(build_response(services.instrument("sipas-quick"), {"access_1": 5}, centre_id=used.id,
                                   service_id=service.id, channel="paper", submitted_on=dt.date(2024, 5, 1)))
    assert cli("centre", "remove", "typo") == (0, "removed centre TYPO: Gõ nhầm\n", "")
    assert cli("service", "remove", "xx") == (0, "removed service XX: Gõ nhầm\n", "")
    before = await reference(services)
    assert cli("centre", "remove", "HUE") == (
        1, "", "Error: centre HUE cannot be removed: 1 responses, 0 invitations, 0 surveys in progress, 0 staff and "
               "0 child centres use it; a centre with data is kept (remove staff with `sipas-bot staff remove`)\n")
    assert cli("service", "remove", "HT-01") == (
        1, "", "Error: service HT-01 cannot be removed: 1 responses, 0 invitations and 0 surveys in progress use "
               "it; a service with data is kept\n")
    assert cli("centre", "remove", "NOPE") == (
        1, "", "Error: no centre with code 'NOPE'; see `sipas-bot centre list`\n")
    assert await reference(services) == before


async def test_remove_is_refused_while_invitations_use_it(services, cli):
    assert cli("centre", "add", "HCC", "Trung tâm")[0] == 0
    assert cli("service", "add", "DD", "Đất đai")[0] == 0
    assert cli("invite", "--centre", "HCC", "--service", "DD", "--format", "json")[0] == 0
    code, _, err = cli("centre", "remove", "HCC")
    assert code == 1 and "0 responses, 1 invitations" in err
    code, _, err = cli("service", "remove", "DD")
    assert code == 1 and "0 responses, 1 invitations" in err
    assert len(await reference(services)) == 2


def test_export_into_a_missing_folder_creates_it(cli, tmp_path):
    code, out, err = cli("export", "responses", "-o", "new/folder/x.csv")
    assert (code, err) == (0, "")
    assert out == "exported 0 sipas-2023 responses to new/folder/x.csv (codebook in new/folder/x.codebook.csv)\n"
    assert (tmp_path / "new/folder/x.csv").is_file() and (tmp_path / "new/folder/x.codebook.csv").is_file()
    (tmp_path / "a-file").write_text("")
    code, out, err = cli("export", "responses", "-o", "a-file/x.xlsx")
    assert (code, out) == (1, "") and err.startswith("Error: cannot write a-file/x.xlsx") and len(err.splitlines()) == 1
