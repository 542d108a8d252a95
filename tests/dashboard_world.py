"""The data the dashboard tests look at: four centres answering sipas-2023 from March to June 2024, drawn from a
seeded random generator so every run sees the same figures.

HP is the best centre, QN good, TB the weakest (its "staff_2" is rated low by almost everyone: its weakest
criterion by far; it rose a lot from March to April), and LC had too few responses to publish in May (10, under
the default min_n of 30: every margin of a report is published somewhere, so one more centre, TB, is withheld that
month so that LC cannot be told by subtraction) and none in the other months. Keys are made with
`bot.survey.api_keys.create_key`, as `sipas-bot apikey create` makes them.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass

from bot.storage.responses import build_response
from bot.survey import directory
from bot.survey.api_keys import create_key

SURVEY = "sipas-2023"
MONTHS = (dt.date(2024, 3, 1), dt.date(2024, 4, 1), dt.date(2024, 5, 1), dt.date(2024, 6, 1))
# code: (name, responses in each month, chance in each month of a 4 or 5 on each criterion)
CENTRES = {"HP": ("Trung tâm Phục vụ hành chính công Hải Phòng", (60, 60, 60, 60), (0.9, 0.9, 0.92, 0.92)),
           "QN": ("Trung tâm Phục vụ hành chính công Quảng Ninh", (50, 50, 50, 50), (0.8, 0.8, 0.8, 0.8)),
           "TB": ("Trung tâm Phục vụ hành chính công Thái Bình", (45, 45, 45, 45), (0.4, 0.7, 0.66, 0.66)),
           "LC": ("Trung tâm Phục vụ hành chính công Lào Cai", (0, 0, 10, 0), (0.75, 0.75, 0.75, 0.75))}
WEAKEST, WEAK_CRITERION = "TB", "staff_2"
JUNE = {"period": "month", "at": "2024-06"}
MAY = {"period": "month", "at": "2024-05"}
# The report the overview of June 2024 shows, as the API is asked for it.
JUNE_API = {"period": "month", "by": "centre", "compare": "previous", "from": "2024-06-01", "to": "2024-06-30",
            "total": "true"}


@dataclass
class World:
    keys: dict[str, str]  # secrets: admin, staff_tb, viewer_qn, staff_hp
    ids: dict[str, int]


async def seed(services) -> World:
    instrument = services.instrument(SURVEY)
    codes = list(instrument.criteria())
    chance = random.Random(20240601)
    async with services.db.transaction() as session:
        centres = {code: await directory.add_centre(session, code, name) for code, (name, _, _) in CENTRES.items()}
        rows = []
        for month, first in enumerate(MONTHS):
            for code, (_, counts, goods) in CENTRES.items():
                for i in range(counts[month]):
                    good = goods[month]
                    answers = {c: (chance.choice((4, 5)) if chance.random() < good else chance.choice((1, 2, 3)))
                               for c in codes}
                    if code == WEAKEST:
                        answers[WEAK_CRITERION] = 2 if chance.random() < 0.9 else 4
                    rows.append(build_response(instrument, answers, centre_id=centres[code].id, service_id=None,
                                               channel="web", submitted_on=first + dt.timedelta(days=i % 28)))
        session.add_all(rows)
        made = {}
        for name, role, centre in (("admin", "admin", None), ("staff_tb", "staff", "TB"),
                                   ("viewer_qn", "viewer", "QN"), ("staff_hp", "staff", "HP")):
            row, secret = await create_key(session, role, centre, name)
            made[name] = (row.id, secret)
    return World({name: secret for name, (_, secret) in made.items()}, {name: i for name, (i, _) in made.items()})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def log_in(client, key: str):
    """Log in with the key form, as a person does: the form's CSRF token, then the key."""
    form = await client.get("/dashboard/login")
    return await client.post("/dashboard/login", data={"csrf": csrf_of(await form.text()), "key": key},
                              allow_redirects=False)
