"""Survey invitations sent to a citizen's phone as ZNS template messages (paid, no prior interaction needed).

`invite_by_phone` is the one service call for every caller (`sipas-bot invite --phone`, the HTTP API later). In
ONE transaction it checks that the phone got no ZNS invitation today and that the centre's daily cap is not
reached, issues the invitation (channel hint "zns"), counts it in `zns_daily`, and enqueues an outbox row
(platform "zns", chat id the number, text the template payload with ``tracking_id`` = the invitation id). The
outbox delivers it (adapters/zalo_oa/zns.py) and deletes the row; from then on the number exists only as a keyed
hash of number and day in `zns_recipients`, forgotten after the next day. `record_sent` keeps Zalo's message id,
which ratings name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from sqlalchemy import delete, update

from bot.config import Settings
from bot.errors import UserError
from bot.services import Services
from bot.storage.models import Invitation, ZnsDaily, ZnsRecipient, utcnow
from bot.storage.secret import keyed_hash
from bot.survey import directory, invitations, outbox
from bot.survey.batches import web_base
from bot.survey.invitations import IssuedInvitation
from bot.zalo.phones import mask_phone, normalise_phone

PLATFORM = "zns"
FIELDS = ("centre", "service", "code", "link", "expires")  # what SIPAS_ZALO_ZNS_PARAMS may map
_PARAM = re.compile(r"^[A-Za-z0-9_]{1,64}$")  # template parameter names: no diacritics, no spaces
HASH_PURPOSE = "zns-recipient"


@dataclass(frozen=True)
class PhoneInvitation:
    """What the caller may show: the invitation (its code), the masked number, the names and the last day."""

    issued: IssuedInvitation
    phone_masked: str
    centre_name: str
    service_name: str | None
    valid_until: dt.date


def template_params(settings: Settings) -> dict[str, str]:
    """SIPAS_ZALO_ZNS_PARAMS as {our field: the template's parameter name}; raises `UserError` when malformed."""
    mapping: dict[str, str] = {}
    for item in (settings.zalo_zns_params or "").split(","):
        if not item.strip():
            continue
        ours, _, theirs = (part.strip() for part in item.partition("="))
        if ours not in FIELDS:
            raise UserError.say("admin.zns_params_bad", problem=f"{ours!r} ∉ {', '.join(FIELDS)}")
        if not _PARAM.match(theirs):
            raise UserError.say("admin.zns_params_bad", problem=f"{ours}={theirs!r}")
        mapping[ours] = theirs
    if not mapping:
        raise UserError.say("admin.zns_params_bad", problem="∅")
    return mapping


def check_ready(settings: Settings) -> tuple[str, str, dict[str, str]]:
    """Template id, web base URL and parameter mapping, or the `UserError` saying which setting is missing."""
    template_id = (settings.zalo_zns_template_id or "").strip()
    if not template_id:
        raise UserError.say("admin.zns_no_template")
    base = web_base(settings)
    if base is None:
        raise UserError.say("admin.zns_needs_url")
    return template_id, base, template_params(settings)


def recipient_hash(key: bytes, phone: str, day: dt.date) -> str:
    # The day is inside the hash: the rows of two days cannot be linked to one person.
    return keyed_hash(key, HASH_PURPOSE, f"{phone}\0{day.isoformat()}")


async def invite_by_phone(services: Services, phone: str, centre_code: str, service_code: str | None = None,
                          survey: str | None = None, *, now: dt.datetime | None = None,
                          expires_days: int | None = None, dossier: str | None = None) -> PhoneInvitation:
    """Issue one invitation for a centre (and service) and queue it to ``phone`` by ZNS; raises `UserError`
    (nothing stored) for a bad number, missing settings, a phone already invited today or the daily cap, and for a
    ``dossier`` (`invitations.dossier_hash`) that has its invitation already."""
    settings = services.settings
    number = normalise_phone(phone)
    template_id, base, params = check_ready(settings)
    instrument = services.instrument(survey).id
    now = now or utcnow()
    today = services.local_date(now)
    digest = recipient_hash(services.secret_key, number, today)
    cap = settings.zalo_zns_daily_cap
    async with services.db.transaction() as session:
        centre = await directory.find_centre(session, centre_code)
        service = await directory.find_service(session, service_code) if service_code else None
        # Forget the numbers of days before yesterday: a day's rows are needed until that day ended everywhere.
        await session.execute(delete(ZnsRecipient).where(ZnsRecipient.day < today - dt.timedelta(days=1)))
        if await session.get(ZnsRecipient, digest) is not None:
            raise UserError.say("admin.zns_already_today")
        daily = await session.get(ZnsDaily, (centre.id, today))
        if daily is None:
            if cap <= 0:
                raise UserError.say("admin.zns_cap_reached", code=centre.code, sent=0, cap=cap)
            session.add(ZnsDaily(centre_id=centre.id, day=today, sent=1))
        else:
            # Conditional: two callers at once cannot both take the last message of the day.
            counted = await session.execute(
                update(ZnsDaily).where(ZnsDaily.centre_id == centre.id, ZnsDaily.day == today, ZnsDaily.sent < cap)
                .values(sent=ZnsDaily.sent + 1).execution_options(synchronize_session=False))
            if counted.rowcount != 1:
                raise UserError.say("admin.zns_cap_reached", code=centre.code, sent=daily.sent, cap=cap)
        session.add(ZnsRecipient(recipient_hash=digest, day=today))
        [issued] = await invitations.issue(session, services.secret_key, centre=centre, service=service,
                                           survey=instrument, channel_hint=PLATFORM, now=now,
                                           expires_days=expires_days or settings.invitation_days,
                                           timezone=settings.timezone, dossier=dossier)
        valid_until = services.local_date(issued.expires_at - dt.timedelta(microseconds=1))
        values = {"centre": centre.name, "service": service.name if service else "", "code": issued.display_code,
                  "link": f"{base}/s/{issued.token}", "expires": valid_until.strftime("%d/%m/%Y")}
        payload = {"template_id": template_id,
                   "template_data": {theirs: values[ours] for ours, theirs in params.items()},
                   "tracking_id": str(issued.id)}
        outbox.enqueue(session, PLATFORM, number, json.dumps(payload, ensure_ascii=False))
    return PhoneInvitation(issued, mask_phone(number), centre.name, service.name if service else None, valid_until)


async def record_sent(services: Services, tracking_id: str, msg_id: str) -> None:
    """Keep Zalo's id of the message sent for invitation ``tracking_id`` (ratings may name only that)."""
    if not str(tracking_id).isdigit() or not msg_id:
        return
    async with services.db.transaction() as session:
        await session.execute(update(Invitation).where(Invitation.id == int(tracking_id))
                              .values(zns_msg_id=str(msg_id)[:64]).execution_options(synchronize_session=False))


async def sent_today(services: Services, now: dt.datetime | None = None) -> dict[str, int]:
    """ZNS messages counted today per centre code (for /metrics)."""
    from sqlalchemy import select

    from bot.storage.models import Centre

    today = services.local_date(now or utcnow())
    async with services.db.reading() as session:
        rows = (await session.execute(select(Centre.code, ZnsDaily.sent).join(Centre, Centre.id == ZnsDaily.centre_id)
                                      .where(ZnsDaily.day == today))).all()
    return {code: int(sent) for code, sent in rows}
