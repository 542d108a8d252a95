"""Benchmark: how long the everyday `sipas-bot` commands take to start, beside Python itself.

    .venv/bin/python bench/cli_startup.py              # 15 runs of each, with and without .pyc files
    .venv/bin/python bench/cli_startup.py -n 5 --mode pyc

Each command runs as a real process, N times, the commands taking turns (so a burst of load on this shared
machine falls on all of them alike); the table gives the median wall time, its ratio to `python -c pass` of the
same mode, and the peak RSS (the largest of the runs, from wait4):

  python -c pass          the interpreter alone
  python -c "import click"  the floor of any click program
  sipas-bot --help        the top-level help (imports the command modules)
  sipas-bot centre list   opens the embedded database (already at the head revision) and lists its centres

Modes: `pyc` is how a user runs an installed package: bytecode is written once (to a temporary
PYTHONPYCACHEPREFIX, so the work tree stays clean) and read after; `no-pyc` is this environment's and CI's
PYTHONDONTWRITEBYTECODE=1 for our own sources (the editable install compiles nothing of bot/ and surveys/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def commands() -> dict[str, list[str]]:
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import click"': [sys.executable, "-c", "import click"],
        "sipas-bot --help": [str(BIN / "sipas-bot"), "--help"],
        "sipas-bot centre list": [str(BIN / "sipas-bot"), "centre", "list"],
    }


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one run; a failing command stops the benchmark."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    return wall, usage.ru_maxrss


def measure(mode: str, runs: int, data_dir: Path, cache: Path) -> dict[str, tuple[float, int]]:
    env = {**os.environ, "SIPAS_DATA_DIR": str(data_dir), "SIPAS_ADMIN_LANGUAGE": "en"}
    if mode == "pyc":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    table = commands()
    for argv in table.values():  # warm-up: the page cache, and the .pyc files in pyc mode
        run_once(argv, env)
    walls: dict[str, list[float]] = {name: [] for name in table}
    peaks: dict[str, int] = dict.fromkeys(table, 0)
    for _ in range(runs):
        for name, argv in table.items():
            wall, rss = run_once(argv, env)
            walls[name].append(wall)
            peaks[name] = max(peaks[name], rss)
    return {name: (statistics.median(walls[name]), peaks[name]) for name in table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=15)
    parser.add_argument("--mode", choices=["pyc", "no-pyc", "both"], default="both")
    args = parser.parse_args()
    modes = ["pyc", "no-pyc"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, cache = Path(tmp) / "data", Path(tmp) / "pycache"
        env = {**os.environ, "SIPAS_DATA_DIR": str(data_dir)}
        # A database at the head revision with one centre: the common case the fast path is for.
        subprocess.run([str(BIN / "sipas-bot"), "centre", "add", "HCC", "Trung tâm"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        load = os.getloadavg()
        print(f"# {dt.datetime.now().isoformat(timespec='minutes')}, {platform.node()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, load average {load[0]:.1f} at start; {args.runs} runs each")
        print(f"{'mode':<7} {'command':<26} {'median s':>9} {'× pass':>7} {'peak RSS MB':>12}")
        for mode in modes:
            results = measure(mode, args.runs, data_dir, cache)
            floor = results["python -c pass"][0]
            for name, (wall, rss) in results.items():
                print(f"{mode:<7} {name:<26} {wall:>9.3f} {wall / floor:>7.1f} {rss / 1024:>12.1f}")


if __name__ == "__main__":
    main()
