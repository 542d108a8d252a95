"""`surveys/` is the pure domain: importing all of it pulls in no I/O, asyncio, database, HTTP or chat library."""

import subprocess
import sys

FORBIDDEN = ["asyncio", "aiohttp", "sqlalchemy", "aiosqlite", "telegram", "httpx", "requests", "socket",
             "click", "bot", "adapters"]


def test_surveys_imports_no_io_or_chat_library():
    code = (
        "import sys, pkgutil, importlib, surveys\n"
        "for m in pkgutil.walk_packages(surveys.__path__, 'surveys.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [name for name in {FORBIDDEN!r} if name in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"surveys imported: {result.stdout.strip()}"
