"""Shared fixtures: settings on a temporary data dir, and the composed app on a real SQLite file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import open_app
from bot.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture
async def app(settings: Settings):
    async with open_app(settings) as composed:
        yield composed


@pytest.fixture
def cli(tmp_path: Path):
    """Run `sipas-bot ARGS` as a real process on the test's own data dir; returns (exit code, stdout, stderr)."""

    def run(*args: str, stdin: str = "", env: dict | None = None, cwd: Path | None = None):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], input=stdin.encode("utf-8"), capture_output=True, timeout=120,
            env={**os.environ, "SIPAS_DATA_DIR": str(tmp_path / "data"), **(env or {})}, cwd=cwd or tmp_path,
        )
        return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")

    return run
