"""bench/dashboard.py stays runnable: on the dashboard tests' data it fetches every page once and prints a time for
each (the times themselves are not asserted: the suite runs on a loaded machine), and leaves no usable key."""

import sys
from pathlib import Path

import pytest
from dashboard_world import seed

from bot.survey.api_keys import list_keys

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import dashboard as bench  # noqa: E402


async def test_every_page_is_timed(settings, services):
    if settings.database_url:
        pytest.skip("bench/dashboard.py reads the SQLite database of a data dir")
    await seed(services)
    results = await bench.run(settings.data_dir, 1)  # the event loop is the test's: run() rather than main()
    assert [name for name, *_ in results] == [
        "overview, month", "overview, quarter", "overview, year", "centre HP, month", "centre HP, year",
        "export CSV", "export XLSX"]
    assert all(first >= best > 0 and median >= best for _, first, best, median in results)
    async with services.db.reading() as session:
        benches = [key for key in await list_keys(session) if key.name == "bench"]
    assert len(benches) == 1 and all(key.revoked_at is not None for key in benches)
