"""The follow-up cases the dashboard's case and invitation tests look at: two centres, DH and KH, each with
cases opened by sipas-2023 responses completed through the service layer (`case_world.complete`) and published by
two sweeps; and a key of every role. DH has a low-rating case whose comment holds HTML and a script (it must show
as text), and a sensitive one (a harassment report: its head and the admin only), both opened now and not yet due;
KH has one low-rating case, opened on 20/11/2026 and so overdue (and escalated by the sweeps)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from case_world import ALL_FIVE, NOW, add_centre, complete, ratings, sweep
from sqlalchemy import select

from bot.storage.base import utcnow
from bot.storage.models import FollowUpCase
from bot.survey import directory
from bot.survey.api_keys import create_key

HOSTILE = '<script>alert("x")</script><b>đậm</b> gọi 0912345678'
MASKED = '<script>alert("x")</script><b>đậm</b> gọi [số điện thoại]'
ROLES = {"admin": ("admin", None), "head_dh": ("head", "DH"), "staff_dh": ("staff", "DH"),
         "staff_kh": ("staff", "KH"), "viewer_dh": ("viewer", "DH")}


@dataclass
class CaseWorld:
    keys: dict[str, str]  # the secrets, by the names of ROLES
    ids: dict[str, int]  # the key ids
    low: str  # DH's low-rating case (the hostile comment)
    sensitive: str  # DH's harassment report
    other: str  # KH's low-rating case


async def seed_cases(services) -> CaseWorld:
    await add_centre(services, "DH", "Trung tâm Một cửa phường Đông Hà")
    await add_centre(services, "KH", "Trung tâm Một cửa phường Khe Sanh", alert_chat=None)
    async with services.db.transaction() as session:
        await directory.add_service(session, "KS01", "Đăng ký khai sinh")
    now = utcnow()
    await complete(services, "DH", ratings(staff_1=1), comment=HOSTILE, chat=1, service_code="KS01", now=now)
    await complete(services, "DH", ALL_FIVE, harassment="2", comment="bỏ qua", chat=2, now=now)
    await complete(services, "KH", ratings(result_1=2), comment="Trả chậm", chat=3, now=NOW)
    await sweep(services, now + dt.timedelta(minutes=5))
    await sweep(services, now + dt.timedelta(minutes=10))
    made = {}
    async with services.db.transaction() as session:
        for name, (role, centre) in ROLES.items():
            row, secret = await create_key(session, role, centre, name)
            made[name] = (row.id, secret)
        cases = (await session.scalars(select(FollowUpCase))).all()
    low = next(c.id for c in cases if c.comment == MASKED)
    sensitive = next(c.id for c in cases if c.sensitive)
    other = next(c.id for c in cases if c.id not in (low, sensitive))
    return CaseWorld({n: s for n, (_, s) in made.items()}, {n: i for n, (i, _) in made.items()}, low, sensitive,
                     other)


async def case_row(services, case_id: str) -> FollowUpCase:
    async with services.db.reading() as session:
        return await session.get(FollowUpCase, case_id)
