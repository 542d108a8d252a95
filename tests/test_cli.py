"""The `sipas-bot` command line with answers piped in, as a user would: in this process through the same entry
point as the script (`bot.cli.run`), and as a real process where the process is the point (a real pipe, serve)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import CLI_LANGUAGE, run_in_process, sqlite_only

from surveys import events as ev
from surveys.engine import start, step
from surveys.loader import load_builtin

INSTRUMENTS = load_builtin()
FIXTURES = Path(__file__).parent / "fixtures"


def sipas(*args: str, stdin: str = "", env: dict | None = None, process: bool = False
          ) -> subprocess.CompletedProcess:
    """`sipas-bot ARGS` in this process, or with ``process`` as a real one (its stdin a real pipe)."""
    env = {"SIPAS_DATA_DIR": "unused", **CLI_LANGUAGE, **(env or {})}
    if not process:
        code, out, err = run_in_process(args, stdin, env, Path.cwd())
        return subprocess.CompletedProcess(args, code, out.encode("utf-8"), err.encode("utf-8"))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin.encode("utf-8"), capture_output=True, timeout=60,
        env={**os.environ, **env},
    )


def scripted_answers(instrument, language):
    """One line per question: ratings cycle 5,4,3,2,1; choices take their first option; text gets a comment."""
    progress, reply = start(instrument, language)
    lines, ratings = [], {}
    while progress.status == "active":
        question = instrument.question(progress.current)
        if question.type == "rating":
            value = [5, 4, 3, 2, 1][len(ratings) % 5]
            ratings[question.code] = value
            line = str(value)
        elif question.type == "choice":
            line = reply.question.options[0].key
        else:
            line = "Nhân viên tận tình" if language == "vi" else "Helpful staff"
        lines.append(line)
        progress, reply = step(instrument, progress, ev.Text(line))
    return lines, ratings


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("survey_id", sorted(INSTRUMENTS))
def test_try_through_a_pipe_completes_every_instrument(survey_id, language):
    instrument = INSTRUMENTS[survey_id]
    lines, ratings = scripted_answers(instrument, language)
    result = sipas("try", "--survey", survey_id, "--lang", language, stdin="\n".join(lines) + "\n")
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, result.stderr.decode()
    total = len(lines)
    first = "Câu 1/" if language == "vi" else "Question 1/"
    assert first in out and (f"Câu {total}/{total}." in out or f"Question {total}/{total}." in out)
    assert instrument.title.get(language) in out
    # Hand computation: each criterion is 100% satisfied (rated 4-5) or 0%, SIPAS is their mean.
    expected = 100 * sum(v >= 4 for v in ratings.values()) / len(ratings)
    shown = f"{expected:.2f}".replace(".", ",") if language == "vi" else f"{expected:.2f}"
    label = "Chỉ số hài lòng (SIPAS)" if language == "vi" else "Satisfaction index (SIPAS)"
    assert f"{label}: {shown}%" in out
    for code, value in ratings.items():
        assert f"  {code}: {value} (" in out
    if language == "en":
        assert "Rất hài lòng" not in out  # no Vietnamese option labels leak into the English survey


def test_try_understands_commands_in_vietnamese():
    script = ["trợ giúp", "4", "quay lại", "5", "bỏ qua", "3", "rat hai long", "không áp dụng", "không"]
    result = sipas("try", "--survey", "sipas-quick", stdin="\n".join(script) + "\n", process=True)
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, result.stderr.decode()
    assert "Gõ “quay lại” để sửa câu trước" in out  # the help text
    assert "Câu trả lời trước đó: Hài lòng" in out  # back shows the earlier answer
    for line in ["access_1: 5 (Rất hài lòng)", "procedure_1: (bỏ qua)", "staff_1: 3 (Bình thường)",
                 "result_1: 5 (Rất hài lòng)", "feedback_1: (không áp dụng)", "comment: (bỏ qua)"]:
        assert line in out
    # access, result satisfied; staff not; procedure skipped, feedback not applicable: 2 of 3 criteria.
    assert "Chỉ số hài lòng (SIPAS): 66,67%" in out
    assert "Thủ tục hành chính: không có" in out


def test_try_understands_commands_in_english_and_unclear_input():
    script = ["help", "great", "4", "back", "2", "skip", "3", "4", "na", "none"]
    result = sipas("try", "--survey", "sipas-quick", "--lang", "en", stdin="\n".join(script) + "\n")
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, result.stderr.decode()
    assert "Sorry, we did not understand that answer" in out
    assert "access_1: 2 (Dissatisfied)" in out and "feedback_1: (not applicable)" in out
    assert "comment: none" in out


def test_try_cancel_exits_1_and_records_nothing():
    result = sipas("try", "--survey", "sipas-quick", stdin="4\nhủy\ncó\n", process=True)
    assert result.returncode == 1
    assert "Ông/Bà có chắc muốn dừng khảo sát?" in result.stdout.decode()
    assert "Khảo sát đã dừng, không có câu trả lời nào được ghi nhận." in result.stderr.decode()


@pytest.mark.parametrize("language, message", [
    ("vi", "Dữ liệu vào đã hết trước khi khảo sát hoàn thành (đang ở Câu 3/6)."),
    ("en", "The input ended before the survey was complete (at Question 3/6)."),
])
def test_try_input_ending_early_exits_1_with_a_message(language, message):
    result = sipas("try", "--survey", "sipas-quick", "--lang", language, stdin="4\n5\n", process=True)
    assert result.returncode == 1
    assert result.stderr.decode("utf-8").strip() == message


def test_try_unknown_survey_or_section():
    result = sipas("try", "--survey", "nope")
    assert result.returncode == 1
    assert "Error: unknown survey 'nope'; known: sipas-2017, sipas-2023, sipas-quick" in result.stderr.decode()
    result = sipas("try", "--survey", "sipas-quick", "--with-section", "expectations")
    assert result.returncode == 1 and "has no optional section expectations" in result.stderr.decode()


def test_try_with_the_optional_expectations_section():
    instrument = INSTRUMENTS["sipas-2023"]
    plain = len(instrument.questions())
    with_section = len(instrument.questions(frozenset({"expectations"})))
    lines = ["1"] * (with_section - 1) + ["Tốt"]
    result = sipas("try", "--with-section", "expectations", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr.decode()
    assert f"Câu {with_section}/{with_section}." in result.stdout.decode() and with_section > plain


def test_survey_list():
    result = sipas("survey", "list")
    assert result.returncode == 0
    rows = {line.split()[0]: line.split() for line in result.stdout.decode().splitlines()[1:]}
    assert rows["sipas-2023"][1:3] == ["1", "16"] and rows["sipas-2017"][1:3] == ["1", "22"]
    assert rows["sipas-quick"][1:3] == ["1", "5"]
    assert "(default)" in " ".join(rows["sipas-2023"])


def test_survey_validate_good_and_broken(tmp_path):
    result = sipas("survey", "validate", str(FIXTURES / "mini.yaml"), process=True)
    assert result.returncode == 0
    assert "OK: mini-test version 2, 6 questions, 2 scored criteria" in result.stdout.decode()
    broken = tmp_path / "broken.yaml"
    broken.write_text((FIXTURES / "mini.yaml").read_text(encoding="utf-8").replace("element: feedback",
                                                                                  "element: feedbak"))
    result = sipas("survey", "validate", str(broken), process=True)
    assert result.returncode == 1
    assert result.stderr.decode().strip() == (
        "Error: broken.yaml: question feedback_1: element 'feedbak' is not one of the elements (access, feedback)")
    assert "Traceback" not in result.stderr.decode()


def test_extra_instruments_folder_and_its_errors(tmp_path):
    (tmp_path / "mini.yaml").write_text((FIXTURES / "mini.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = sipas("survey", "list", env={"SIPAS_INSTRUMENTS_DIR": str(tmp_path)})
    assert result.returncode == 0 and "mini-test" in result.stdout.decode()
    result = sipas("survey", "list", env={"SIPAS_INSTRUMENTS_DIR": str(tmp_path / "absent")})
    assert result.returncode == 1 and "is not a folder (SIPAS_INSTRUMENTS_DIR)" in result.stderr.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_starts_and_answers_health_and_instruments(tmp_path):
    port = free_port()
    env = {**os.environ, "SIPAS_PORT": str(port), "SIPAS_DATA_DIR": str(tmp_path / "data"), **CLI_LANGUAGE}
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    health = json.load(response)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("serve did not answer")
        assert (health["status"], health["instruments"], health["redemptions"]["failed_total"]) == ("ok", 4, 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/instruments/sipas-quick") as response:
            quick = json.load(response)
        assert quick["criteria"] == {"access_1": "access", "procedure_1": "procedure", "staff_1": "staff",
                                     "result_1": "result", "feedback_1": "feedback"}
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/instruments/nope")
        with missing.value as error:
            assert error.code == 404
            assert json.load(error) == {"error": "unknown instrument", "status": 404}
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert f"serving on http://127.0.0.1:{port}" in out.decode()
    assert (tmp_path / "data" / "sipas.db").exists()  # the database was created and migrated on start


@sqlite_only
def test_try_save_stores_the_response_through_the_service_layer(cli, tmp_path):
    import sqlite3

    assert cli("centre", "add", "hcc", "Trung tâm Phục vụ hành chính công")[0] == 0
    code, out, err = cli("try", "--survey", "sipas-quick", "--save", "--centre", "HCC",
                         stdin="4\n5\n3\n2\nna\nCảm ơn\n")
    assert code == 0, err
    assert "saved: 1 response to sipas-quick for centre HCC (channel terminal)" in out
    code, _, err = cli("try", "--survey", "sipas-quick", "--save", "--centre", "HCC", stdin="4\n")
    assert code == 1 and "Câu 2/6" in err
    with sqlite3.connect(tmp_path / "data" / "sipas.db") as db:
        rows = db.execute("select channel, ratings, comment from responses").fetchall()
        sessions = db.execute("select count(*) from survey_sessions").fetchone()[0]
    assert rows == [("terminal", bytes([4, 5, 3, 2, 0]), "Cảm ơn")]
    assert sessions == 0  # the unfinished second run left nothing behind
    code, _, err = cli("try", "--save", "--centre", "NOPE", stdin="4\n")
    assert code == 1 and "Error: no centre with code 'NOPE'" in err
    code, _, err = cli("try", "--centre", "HCC")
    assert code == 1 and "--save needs --centre" in err


def test_help_and_the_command_modules_import_no_heavy_library():
    # `sipas-bot --help` must start fast: the command modules import only click (bench/cli_startup.py).
    probe = ("import sys\nfrom bot.cli import run\ncode = run(['--help'])\n"
             "heavy = ['pandas', 'numpy', 'matplotlib', 'sqlalchemy', 'alembic', 'telegram', 'pydantic', 'aiohttp',"
             " 'openpyxl', 'PIL', 'qrcode', 'yaml']\n"
             "print(code, sorted(name for name in heavy if name in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60,
                            env={**os.environ, "SIPAS_DATA_DIR": "unused"})
    assert result.stdout.decode().splitlines()[-1] == "0 []", result.stderr.decode()
