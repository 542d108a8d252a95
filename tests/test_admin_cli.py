"""Centres, services and staff from the command line, with every bad input answered clearly."""


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
    assert code == 1 and "the file is not UTF-8 text" in err
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
