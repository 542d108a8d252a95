"""Each mistake an admin makes at the command line gets one line saying what to do, exit code 1, no traceback, and
nothing changes: an output folder that does not exist, a port in use, a bad SIPAS_ setting, a database that
cannot be reached (its password never shown), a path the OS refuses, and a bug (its traceback in errors.log)."""

import socket

import pytest
from conftest import sqlite_only

PASSWORD = "hunter2-Secret"
KEY = {"SIPAS_SECRET_KEY": "k" * 40}


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def closed_port() -> int:
    """A port where nothing listens (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("args, line", [
    (("--format", "csv", "-o", "{missing}/r.csv"),
     "Error: the folder {missing} does not exist: create it first or choose another -o/--output"),
    (("--format", "xlsx", "-o", "{missing}/r.xlsx"),
     "Error: the folder {missing} does not exist: create it first or choose another -o/--output"),
    (("--chart", "{missing}/c.png"),
     "Error: the folder {missing} does not exist: create it first or choose another --chart"),
    (("--format", "csv", "--chart", "{missing}/c.png"),
     "Error: the folder {missing} does not exist: create it first or choose another --chart"),
])
def test_report_into_a_missing_folder_says_so_before_printing_anything(cli, tmp_path, args, line):
    missing = tmp_path / "no" / "such"
    code, out, err = cli("report", *(a.format(missing=missing) for a in args))
    # Before the fix the table (or the CSV) was printed first, then a traceback.
    assert (code, out, one_line(err)) == (1, "", line.format(missing=missing))
    assert not (tmp_path / "no").exists()


def test_report_output_that_is_a_folder(cli, tmp_path):
    code, out, err = cli("report", "--format", "xlsx", "-o", str(tmp_path))
    assert (code, out, one_line(err)) == (1, "", f"Error: Invalid value for '-o' / '--output': File '{tmp_path}' is a "
                                          "directory. (see `sipas-bot report --help`)")


@pytest.mark.empty_database
def test_serve_on_a_port_in_use_says_so_and_starts_nothing(cli, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = cli("serve", env={"SIPAS_PORT": str(port)})
    assert (code, out, one_line(err)) == (1, "", f"Error: port {port} on 127.0.0.1 is already in use (is another "
                                          "sipas-bot serve running?): stop that process or set SIPAS_PORT to a "
                                          "free port")
    assert not (tmp_path / "data" / "sipas.db").exists()  # checked before the database was opened


def test_serve_on_a_host_of_another_machine(cli):
    code, _, err = cli("serve", env={"SIPAS_HOST": "nohost.invalid"})
    assert code == 1 and one_line(err).startswith("Error: cannot listen on SIPAS_HOST=nohost.invalid (")


@pytest.mark.parametrize("env, line", [
    ({"SIPAS_PORT": "abc"}, "the setting SIPAS_PORT=abc is not valid: expected a whole number from 1 to 65535"),
    ({"SIPAS_PORT": "0"}, "the setting SIPAS_PORT=0 is not valid: expected a whole number from 1 to 65535"),
    ({"SIPAS_AUTO_MIGRATE": "maybe"}, "the setting SIPAS_AUTO_MIGRATE=maybe is not valid: expected true or false"),
    ({"SIPAS_OUTBOX_INTERVAL_SECONDS": "-1"},
     "the setting SIPAS_OUTBOX_INTERVAL_SECONDS=-1 is not valid: expected a number greater than 0"),
    ({"SIPAS_TELEGRAM_FLOOD_PER_MINUTE": "1"},
     "the setting SIPAS_TELEGRAM_FLOOD_PER_MINUTE=1 is not valid: expected a whole number of at least 5"),
    ({"SIPAS_TIMEZONE": "Mars/Base"},
     "the setting SIPAS_TIMEZONE=Mars/Base is not valid: expected a time zone name, for example Asia/Ho_Chi_Minh"),
    ({"SIPAS_DATABASE_URL": f"nonsense://admin:{PASSWORD}@db/x"},
     "the setting SIPAS_DATABASE_URL=nonsense://admin:***@db/x is not valid: expected a database URL, for example "
     "postgresql+asyncpg://user:password@host/db or sqlite+aiosqlite:///data/sipas.db"),
    ({"SIPAS_DATABASE_URL": "not a url"},
     "the setting SIPAS_DATABASE_URL=*** is not valid: expected a database URL, for example "
     "postgresql+asyncpg://user:password@host/db or sqlite+aiosqlite:///data/sipas.db"),
])
@pytest.mark.parametrize("command", [("serve",), ("centre", "list"), ("survey", "list")])
def test_a_bad_setting_is_named_with_the_form_expected(cli, env, line, command):
    code, out, err = cli(*command, env=env)
    assert (code, out, one_line(err)) == (1, "", f"Error: {line} (set in the environment or in the .env file)")
    assert PASSWORD not in err


def test_bad_settings_in_vietnamese_one_line_for_all(cli):
    code, _, err = cli("serve", env={"SIPAS_PORT": "abc", "SIPAS_TELEGRAM_TOKEN": "x", "SIPAS_ADMIN_LANGUAGE": "vi",
                                     "SIPAS_INVITATION_DAYS": "400"})
    assert (code, one_line(err)) == (1, "Lỗi: cài đặt SIPAS_PORT=abc không hợp lệ: cần một số nguyên từ 1 đến 65535; "
                                        "cài đặt SIPAS_INVITATION_DAYS=400 không hợp lệ: cần một số nguyên từ 1 đến "
                                        "366 (đặt trong biến môi trường hoặc tệp .env)")


@pytest.mark.parametrize("command", [("centre", "list"), ("db", "upgrade"), ("report",),
                                     ("invite", "--centre", "HN")])
def test_an_unreachable_database_is_one_line_without_its_password(cli, command):
    port = closed_port()
    url = f"postgresql+asyncpg://admin:{PASSWORD}@127.0.0.1:{port}/sipas"
    code, out, err = cli(*command, env={"SIPAS_DATABASE_URL": url, **KEY})
    line = one_line(err)
    assert code == 1 and PASSWORD not in out + err
    assert line.startswith(f"Error: cannot reach the database postgresql+asyncpg://admin:***@127.0.0.1:{port}/sipas (")
    assert line.endswith("): check SIPAS_DATABASE_URL and that the database server is running")


def test_serve_shows_the_database_without_its_password(cli_process):
    url = f"postgresql+asyncpg://admin:{PASSWORD}@127.0.0.1:{closed_port()}/sipas"
    code, out, err = cli_process("serve", env={"SIPAS_DATABASE_URL": url, **KEY, "SIPAS_PORT": str(closed_port())})
    assert code == 1 and PASSWORD not in out + err and "Traceback" not in err, err
    assert "sipas-bot: database postgresql+asyncpg://admin:***@127.0.0.1:" in out
    assert err.strip().splitlines()[-1].startswith("Error: cannot reach the database postgresql+asyncpg://admin:***@")


@sqlite_only  # the data folder holds the embedded database; PostgreSQL runs need none
def test_a_data_folder_that_is_a_file_is_named(cli, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    code, out, err = cli("centre", "list", env={"SIPAS_DATA_DIR": str(a_file)})
    assert (code, out, one_line(err)) == (1, "", f"Error: {a_file} already exists and is not a folder: choose "
                                                 "another path")
    code, out, err = cli("centre", "list", env={"SIPAS_DATA_DIR": str(a_file / "data")})
    assert (code, out, one_line(err)) == (1, "", f"Error: {a_file / 'data'}: a part of this path is not a folder; "
                                                 "check the path")
    assert a_file.read_text() == "x"


@sqlite_only
@pytest.mark.empty_database
def test_a_database_file_that_is_not_one_is_named_and_left_alone(cli, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "sipas.db").write_bytes(b"not a database at all, " * 100)
    code, _, err = cli("centre", "list")
    assert (code, one_line(err)) == (1, f"Error: sqlite+aiosqlite:///{data}/sipas.db is not a database this program "
                                        "can read (file is not a database): check SIPAS_DATA_DIR and "
                                        "SIPAS_DATABASE_URL, or restore the file from a backup")
    assert (data / "sipas.db").read_bytes() == b"not a database at all, " * 100


@pytest.fixture
def broken_command():
    """A command with a bug (registered for the test only): what the boundary does with the unexpected."""
    from bot.cli import cli as group

    @group.command("broken-for-test")
    def broken() -> None:
        raise RuntimeError(f"token 123456:{'A' * 35} leaked into a message")

    yield
    group.commands.pop("broken-for-test")


@pytest.mark.empty_database
def test_a_bug_is_one_line_naming_the_log_with_the_traceback(cli, tmp_path, broken_command):
    data = tmp_path / "data"  # not made yet (on PostgreSQL nothing else makes it): the log goes there all the same
    code, out, err = cli("broken-for-test")
    log = (data / "errors.log").resolve()
    assert (code, out, one_line(err)) == (1, "", "Error: unexpected error (RuntimeError), a bug in sipas-bot: "
                                                 f"please report it with the details written to {log}")
    details = log.read_text(encoding="utf-8")
    assert "Traceback" in details and "RuntimeError" in details and "A" * 35 not in details  # redacted


def test_help_never_shows_the_database_password(cli):
    url = f"postgresql+asyncpg://admin:{PASSWORD}@127.0.0.1:{closed_port()}/sipas"
    code, out, err = cli("--help", env={"SIPAS_DATABASE_URL": url, **KEY})
    assert code == 0 and PASSWORD not in out + err


def test_unreachable_database_with_the_vietnamese_text(cli):
    url = f"postgresql+asyncpg://admin:{PASSWORD}@127.0.0.1:{closed_port()}/sipas"
    code, _, err = cli("centre", "list", env={"SIPAS_DATABASE_URL": url, **KEY, "SIPAS_ADMIN_LANGUAGE": "vi"})
    assert code == 1 and one_line(err).startswith("Lỗi: không kết nối được cơ sở dữ liệu postgresql+asyncpg://admin:***@")


def test_settings_printed_never_show_the_database_password():
    from bot.config import Settings

    settings = Settings(database_url=f"postgresql+asyncpg://admin:{PASSWORD}@db/sipas", _env_file=None)
    assert PASSWORD not in repr(settings) + str(settings)
    assert settings.database_url_shown == "postgresql+asyncpg://admin:***@db/sipas"
