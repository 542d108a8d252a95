"""`sipas-bot centre list | head -1`: the reader of our output leaves early; the command ends quietly, never with
"cannot reach the database" (a closed pipe is a BrokenPipeError, which is also a ConnectionError)."""

import os
import subprocess
import sys


def _env(tmp_path) -> dict:
    return {**os.environ, "SIPAS_DATA_DIR": str(tmp_path / "data"), "SIPAS_ADMIN_LANGUAGE": "en"}


def test_a_reader_that_left_before_the_output_gets_silence(tmp_path):
    # The pipe's read end is closed before the command writes its first line: its write meets a closed pipe.
    process = subprocess.Popen([sys.executable, "-m", "bot", "centre", "list"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=_env(tmp_path), cwd=tmp_path)
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read().decode("utf-8")
    assert process.wait(timeout=120) == 1  # as click does on a closed pipe: 1, and not a word
    assert err == ""


def test_the_shell_pipeline_says_nothing_on_stderr(tmp_path):
    # `true` leaves without reading, long before Python has started: the same closed pipe, from a real shell.
    result = subprocess.run(["bash", "-c", f"{sys.executable} -m bot centre list | true; echo ${{PIPESTATUS[0]}}"],
                            capture_output=True, env=_env(tmp_path), cwd=tmp_path, timeout=120)
    assert result.stderr.decode("utf-8") == ""
    assert result.stdout.decode("utf-8").strip() == "1"


def test_an_open_pipe_still_gets_the_whole_output(tmp_path):
    result = subprocess.run(["bash", "-c", f"{sys.executable} -m bot centre list | head -1"], capture_output=True,
                            env=_env(tmp_path), cwd=tmp_path, timeout=120)
    assert (result.returncode, result.stderr.decode("utf-8")) == (0, "")
    assert result.stdout.decode("utf-8").startswith("no centres yet")
