"""Centres, services and staff from the command line, with every bad input answered clearly."""

import pytest


def test_centres(cli):
    assert cli("centre", "add", "hcc", "Trung tâm  Phục vụ hành chính công tỉnh Quảng Trị")[1] == (
        "added centre HCC: Trung tâm Phục vụ hành chính công tỉnh Quảng Trị\n")
    code, out, _ = cli("centre", "add", "Xa-01", "UBND phường Đông Hà", "--parent", "hcc", "--open-surveys")
    assert code == 0 and out == "added centre XA-01: UBND phường Đông Hà\n"
    code, out, _ = cli("centre", "list")
    assert out.splitlines() == [
        "HCC              Trung tâm Phục vụ hành chính công tỉnh Quảng Trị",
        "XA-01            UBND phường Đông Hà  (parent HCC, open surveys)",
    ]
    code, out, _ = cli("centre", "set", "xa-01", "--invitation-only", "--alert-chat", "-100123",
                       "--name", "UBND phường Đông Hà (mới)")
    assert out.strip() == ("centre XA-01: UBND phường Đông Hà (mới); open surveys: no; alert chat: -100123")
    for args, message in [
        (("centre", "add", "HCC", "Trùng"), "Error: centre 'HCC' exists already"),
        (("centre", "add", "a b", "Tên"), "Error: centre code 'a b' must be 1 to 40 letters"),
        (("centre", "add", "NEW", "   "), "Error: centre name must not be empty"),
        (("centre", "add", "NEW", "Tên", "--parent", "nope"), "Error: no centre with code 'NOPE'"),
        (("centre", "set", "nope", "--name", "x"), "Error: no centre with code 'NOPE'"),
    ]:
        code, _, err = cli(*args)
        assert code == 1 and err.startswith(message), (args, err)
    assert len(cli("centre", "list")[1].splitlines()) == 2  # nothing half-added


def test_services_and_csv_import(cli, tmp_path):
    assert cli("service", "add", "dd-01", "Đăng ký đất đai lần đầu", "--field", "Đất đai")[0] == 0
    good = tmp_path / "services.csv"
    good.write_bytes("\ufeffcode,name,field\nht-01,Đăng ký khai sinh,Hộ tịch\nDD-01,Đăng ký đất đai,Đất đai\n"
                     .encode())
    code, out, err = cli("service", "import", str(good))
    assert code == 0 and out.strip() == "services: 1 added, 1 updated", err
    assert cli("service", "list")[1].splitlines() == [
        "DD-01                Đăng ký đất đai  [Đất đai]",
        "HT-01                Đăng ký khai sinh  [Hộ tịch]",
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,field\nok-1,Tên,\nbad code,Tên,\nok-2,,\nok-1,Lặp,\n", encoding="utf-8")
    code, _, err = cli("service", "import", str(bad))
    assert code == 1
    assert err.splitlines() == [
        "Error: nothing was imported; fix these rows:",
        "  row 3: service code 'bad code' must be 1 to 40 letters (A-Z), digits, '.', '-' or '_' without spaces",
        "  row 4: service name must not be empty",
        "  row 5: service code 'OK-1' appears twice in the file",
    ]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("x,Đăng ký\n".encode("utf-16"))
    code, _, err = cli("service", "import", str(latin))
    assert code == 1 and "latin.csv is neither a CSV file (UTF-8 text) nor an XLSX workbook" in err
    assert len(cli("service", "list")[1].splitlines()) == 2


def test_staff(cli):
    cli("centre", "add", "hcc", "Trung tâm")
    code, out, _ = cli("staff", "add", "--centre", "HCC", "--telegram-id", "12345", "--role", "admin",
                       "--name", "Nguyễn Thị Lan")
    assert code == 0 and out.strip() == "registered telegram user 12345 as admin of HCC"
    assert cli("staff", "add", "--centre", "hcc", "--zalo-id", "z9")[0] == 0
    assert cli("staff", "list")[1].splitlines() == [
        "HCC              telegram  12345            admin  Nguyễn Thị Lan",
        "HCC              zalo      z9               staff  ",
    ]
    for args, message in [
        (("staff", "add", "--centre", "hcc", "--telegram-id", "12345"), "Error: telegram user 12345 is already"),
        (("staff", "add", "--centre", "hcc", "--telegram-id", "abc"), "Error: 'abc' is not a telegram user id"),
        (("staff", "add", "--centre", "nope", "--telegram-id", "1"), "Error: no centre with code 'NOPE'"),
        (("staff", "add", "--centre", "hcc"), "Error: give exactly one of --telegram-id or --zalo-id"),
        (("staff", "remove", "--telegram-id", "999"), "Error: no staff member with telegram id 999"),
    ]:
        code, _, err = cli(*args)
        assert code == 1 and message in err, (args, err)
    assert cli("staff", "remove", "--telegram-id", "12345")[1].strip() == "removed telegram user 12345"
    assert len(cli("staff", "list")[1].splitlines()) == 1


def test_real_processes_speak_vietnamese_by_default(cli_process):
    vi = {"SIPAS_ADMIN_LANGUAGE": "vi"}
    # One success and one mistake per group, as the script runs them: exit 1, one line, no traceback.
    assert cli_process("centre", "add", "hcc", "Trung tâm Phục vụ hành chính công", env=vi) == (
        0, "đã thêm trung tâm HCC: Trung tâm Phục vụ hành chính công\n", "")
    assert cli_process("centre", "add", "HCC", "Trùng", env=vi) == (
        1, "", "Lỗi: trung tâm 'HCC' đã có; sửa bằng `sipas-bot centre set HCC ...`\n")
    assert cli_process("service", "add", "dd-01", "Đăng ký đất đai", env=vi) == (
        0, "đã thêm dịch vụ DD-01: Đăng ký đất đai\n", "")
    assert cli_process("service", "add", "a b", "Tên", env=vi) == (
        1, "", "Lỗi: mã dịch vụ 'a b' phải gồm 1 đến 40 chữ cái (A-Z), chữ số, '.', '-' hoặc '_', không có dấu cách\n")
    assert cli_process("staff", "add", "--centre", "hcc", "--telegram-id", "12345", env=vi) == (
        0, "đã đăng ký tài khoản telegram 12345 với vai trò staff của HCC\n", "")
    assert cli_process("staff", "remove", "--telegram-id", "999", env=vi) == (
        1, "", "Lỗi: không có cán bộ nào với mã telegram 999\n")


def test_bad_settings_and_usage_mistakes_exit_1_without_a_traceback(cli):
    code, out, err = cli("centre", "list", env={"SIPAS_PORT": "abc", "SIPAS_ADMIN_LANGUAGE": "vi"})
    assert (code, out) == (1, "") and err.startswith("Lỗi: cài đặt SIPAS_PORT=abc không hợp lệ: ")
    code, _, err = cli("centre", "list", env={"SIPAS_ADMIN_LANGUAGE": "fr"})
    # An unknown language is itself the mistake, said in Vietnamese (the default).
    assert code == 1 and err.startswith("Lỗi: cài đặt SIPAS_ADMIN_LANGUAGE=fr không hợp lệ: ")
    code, _, err = cli("centre", "nope")
    assert code == 1 and "No such command 'nope'" in err and "Traceback" not in err
    assert cli("--help")[0] == 0


def test_choices_written_out_in_the_cli_match_the_services():
    from bot.cli.admin import ROLES
    from bot.cli.data import EXPORT_FORMATS
    from bot.paper.exporter import FORMATS
    from bot.survey.directory import ROLES as SERVICE_ROLES

    assert (SERVICE_ROLES, tuple(FORMATS)) == (ROLES, EXPORT_FORMATS)


@pytest.mark.empty_database
async def test_a_database_at_an_old_revision_is_upgraded_by_a_command(settings, cli):
    from alembic import command
    from alembic.script import ScriptDirectory

    from bot.storage.database import Database, alembic_config
    from bot.storage.revisions import head_revision, stored_revision

    config = alembic_config()
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    db = Database(settings.resolved_database_url)
    try:
        def to_first(connection):
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")

        async with db.write_engine.begin() as connection:
            await connection.run_sync(to_first)
        assert await stored_revision(db.write_engine) == "0001" != head_revision()
        # With automatic migration off the command says how to, and changes nothing.
        code, _, err = cli("centre", "list", env={"SIPAS_AUTO_MIGRATE": "false"})
        assert code == 1 and "Run `sipas-bot db upgrade`" in err and await stored_revision(db.write_engine) == "0001"
        code, _out, err = cli("centre", "list")
        assert code == 0, err
        assert await stored_revision(db.write_engine) == head_revision()
        assert cli("centre", "add", "hcc", "Trung tâm")[0] == 0  # the new tables are there and work
    finally:
        await db.dispose()


def test_alert_zalo_sets_a_zalo_user_as_the_centres_alert_chat(cli):
    assert cli("centre", "add", "hcc", "Trung tâm Phục vụ hành chính công tỉnh")[0] == 0
    code, out, _ = cli("centre", "set", "hcc", "--alert-zalo", " 6142494823001 ")
    assert code == 0 and out.strip().endswith("alert chat: zalo:6142494823001")
    for args, message in [(("--alert-zalo", "bad id!"), "Error: alert chat 'zalo:bad id!'"),
                          (("--alert-zalo", "1", "--alert-chat", "telegram:2"),
                           "Error: --alert-chat and --alert-zalo")]:
        code, _, err = cli("centre", "set", "hcc", *args)
        assert code == 1 and err.startswith(message), (args, err)
    assert cli("centre", "set", "hcc", "--alert-zalo", "")[1].strip().endswith("alert chat: none")
