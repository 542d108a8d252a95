"""Anonymity against timing: six surveys completed in a known order, then every table's every column, its hidden
row ids (SQLite rowid, PostgreSQL xmin and ctid) and its unordered row order are searched for anything that matches
a response to its invitation."""

import datetime as dt

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.storage.models import Base
from bot.survey import directory, invitations, outbox
from bot.survey.conversation import SurveyService
from surveys import events as ev

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 9:00 in Hà Nội: all six on one local day
ORDER = [3, 0, 5, 1, 4, 2]  # invitation k (in issue order) is completed ORDER.index(k)-th
WITHOUT_ROWID = {"responses", "outbox", "processed_events", "finished_chats", "open_limits", "zns_recipients",
                 "cases", "response_days", "invitation_days", "case_days"}


async def complete_six(services):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        centre.alert_chat = "-100555"
        issued = await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                         survey="sipas-quick", count=6, now=NOW - dt.timedelta(hours=1))
    service = SurveyService(services)
    for rank, k in enumerate(ORDER):
        at = NOW + dt.timedelta(minutes=7 * rank)
        chat = 9000 + k
        await service.redeem("telegram", chat, issued[k].token, now=at, event_key=f"{k}-0")
        for step, typed in enumerate(["2", "5", "4", "3", "5", f"ý kiến của khảo sát {k}"], start=1):
            await service.handle("telegram", chat, ev.Text(typed), now=at + dt.timedelta(seconds=step),
                                 event_key=f"{k}-{step}")
    return issued


async def dump(services):
    """{table: rows as dicts}, each in the order `SELECT *` gives without ORDER BY, with the hidden row ids."""
    tables = {}
    async with services.db.reading() as session:
        postgres = session.bind.dialect.name == "postgresql"
        for table in Base.metadata.sorted_tables:
            name = table.name
            if postgres:
                query = f"SELECT xmin::text AS xmin_, ctid::text AS ctid_, * FROM {name}"
            elif name in WITHOUT_ROWID:
                try:  # no hidden rowid to give the insertion order away
                    await session.execute(text(f"SELECT rowid FROM {name}"))
                except (OperationalError, DBAPIError):
                    query = f"SELECT * FROM {name}"
                else:
                    raise AssertionError(f"{name} has a rowid")
            else:
                query = f"SELECT rowid AS rowid_, * FROM {name}"
            result = await session.execute(text(query))
            tables[name] = [dict(row._mapping) for row in result]
    return tables


def survey_of_response(row) -> int:
    return int(row["comment"].rsplit(" ", 1)[1])


def check_unlinkable(tables, issued, *, postgres: bool) -> None:
    by_invitation_id = {inv.id: k for k, inv in enumerate(issued)}
    responses = {survey_of_response(r): r for r in tables["responses"]}
    invitation_rows = {by_invitation_id[r["id"]]: r for r in tables["invitations"]}
    assert sorted(responses) == sorted(invitation_rows) == list(range(6))
    # 1. Whatever was written at completion is the same for all six (only keys, hashes and answers differ).
    varying = {"responses": {"id", "ratings", "answers", "comment", "ctid_"},
               "invitations": {"id", "rowid_", "token_hash", "code_hash", "ctid_"},
               "outbox": {"id", "text"}, "processed_events": {"event_key", "processed_at", "ctid_", "xmin_"},
               # A chat whose last answer was the comment can add to it for ten minutes (bot/survey/afterwards.py):
               # its keyed hash names the response until then, and never the invitation.
               "finished_chats": {"chat_hash", "response_id", "ctid_", "xmin_"},
               # Each rating of 2 opened a follow-up case (bot/survey/cases.py): a random key, the comment, and its
               # response's id until the comment window closes; never a time.
               "cases": {"id", "comment", "response_id", "ctid_", "xmin_"}}
    for name, rows in tables.items():
        for column in rows[0] if rows else ():
            values = {repr(row[column]) for row in rows}
            assert len(values) == 1 or column in varying.get(name, set()), (name, column, sorted(values))
    assert all(r["status"] == "completed" and str(r["completed_on"]) == "2026-11-20"
               for r in invitation_rows.values())
    # 2. No column of a response equals a column of its own invitation, and only its own.
    for rc in responses[0]:
        for ic in invitation_rows[0]:
            partner = [repr(responses[k][rc]) == repr(invitation_rows[k][ic]) for k in range(6)]
            distinct = len({repr(responses[k][rc]) for k in range(6)}) == 6
            assert not (all(partner) and distinct), f"responses.{rc} matches invitations.{ic}"
    # 3. Storage order follows the keys, never completion: responses by random id; invitations by issue order.
    if not postgres:
        ids = [r["id"] for r in tables["responses"]]
        assert ids == sorted(ids)
        assert [r["id"] for r in tables["invitations"]] == sorted(r["id"] for r in tables["invitations"])
        assert [r["rowid_"] for r in tables["invitations"]] == [r["id"] for r in tables["invitations"]]
    # 4. Nothing in a response or an invitation says which was completed first.
    completion = [ORDER.index(k) for k in range(6)]
    for name, rows in (("responses", responses), ("invitations", invitation_rows)):
        for column in rows[0]:
            values = [rows[k][column] for k in range(6)]
            if len(set(map(repr, values))) < 6 or column in ("id", "token_hash", "code_hash", "ratings",
                                                             "answers", "comment", "ctid_"):
                continue  # constant (checked above), the keys and answers themselves, or PostgreSQL's heap
                # position, shuffled by the sweep (random: a test of it would fail now and then)
            ranks = sorted(range(6), key=lambda k: values[k])
            assert [completion[k] for k in ranks] not in (sorted(completion), sorted(completion, reverse=True)), \
                (name, column)


async def test_six_surveys_in_a_known_order_cannot_be_matched_to_their_invitations(services):
    issued = await complete_six(services)
    postgres = services.db.write_engine.dialect.name == "postgresql"
    if not postgres:  # SQLite needs no sweep: nothing of the order was ever written
        tables = await dump(services)
        assert len(tables["outbox"]) == 6 and tables["survey_sessions"] == []
        check_unlinkable(tables, issued, postgres=False)
    sent = []

    async def send(chat, message):
        sent.append(message)

    assert await outbox.deliver_due(services.db, "telegram", send) == 6
    assert len(sent) == 1 and sent[0].count("⚠️") == 6  # one message to the chat, in random order
    for minutes in (5, 10):  # two sweeps: the second closes the comment window the first one saw open
        await SurveyService(services).expire_abandoned(now=NOW + dt.timedelta(minutes=minutes))
    tables = await dump(services)
    assert tables["outbox"] == [] and tables["survey_sessions"] == []  # sent alerts are not kept
    assert [r["response_id"] for r in tables["finished_chats"]] == [None] * 6  # the comment window is over
    assert [r["response_id"] for r in tables["cases"]] == [None] * 6  # published: no way back to the response
    assert len(tables["processed_events"]) == 42
    check_unlinkable(tables, issued, postgres=postgres)
    if postgres:  # the sweep rewrote the day's rows in one transaction: one xmin for all
        assert len({r["xmin_"] for r in tables["responses"]} | {r["xmin_"] for r in tables["invitations"]}) == 1
    await SurveyService(services).expire_abandoned(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1, hours=1))
    assert (await dump(services))["processed_events"] == []  # forgotten after a day
