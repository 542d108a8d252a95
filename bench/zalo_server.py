"""One server of bench/zalo_inbox.py, in its own process: `ours` (the service with the Zalo OA channel on a fresh
SQLite data dir, a centre and sipas-quick invitations, the OA API pointed at the benchmark's fake) or `floor` (a
bare aiohttp app that reads the body, checks the signature and answers 200). Prints one JSON line: the port and,
for ours, the invitation codes; then serves until terminated.

    python bench/zalo_server.py ours|floor DATA_DIR FAKE_OA_URL CODES
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from bench.zalo_fake import APP_ID, OA_SECRET, sign


async def floor_app() -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        given = request.headers.get("X-ZEvent-Signature", "").removeprefix("mac=")
        if not hmac.compare_digest(sign(raw), given):
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhooks/zalo-oa", webhook)
    return app


async def prepare(settings, codes: int) -> list[str]:
    from bot.services import open_services
    from bot.storage.models import ZaloToken
    from bot.survey import directory
    from bot.survey.batches import issue_batch

    async with open_services(settings) as services:
        async with services.db.transaction() as session:
            await directory.add_centre(session, "BENCH", "Trung tâm Phục vụ hành chính công (bench)")
            session.add(ZaloToken(name="oa", access_token="bench-access", refresh_token="bench-refresh",
                                  expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)))
        batch = await issue_batch(services, centre_code="BENCH", survey="sipas-quick", count=codes)
        return [issued.display_code for issued in batch.issued]


async def main() -> None:
    kind, data_dir, fake_url, codes = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    logging.basicConfig(level=logging.WARNING)
    found: list[str] = []
    if kind == "floor":
        app = await floor_app()
    else:
        from bot.config import Settings
        from bot.http.app import create_app

        settings = Settings(_env_file=None, data_dir=data_dir, zalo_app_id=APP_ID, zalo_app_secret="bench-secret",
                            zalo_oa_secret=OA_SECRET, zalo_oa_api_url=fake_url, web_survey=False)
        found = await prepare(settings, codes)
        app = create_app(settings, log=False)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(json.dumps({"port": site._server.sockets[0].getsockname()[1], "codes": found}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    if os.environ.get("SIPAS_BENCH_PROFILE") and sys.argv[1] == "ours":  # where the server's time goes
        import cProfile

        cProfile.run("asyncio.run(main())", os.environ["SIPAS_BENCH_PROFILE"])
    else:
        asyncio.run(main())
