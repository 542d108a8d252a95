"""What counter staff and admins can do from a chat app: issue an invitation at the counter, see their centre's
figures. Only accounts registered with `sipas-bot staff add` get anything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot import invitations
from bot.app import App
from bot.db.models import Centre, Service
from bot.directory import find_service, find_staff
from bot.errors import UserError
from bot.invitations import IssuedInvitation


class NotStaff(UserError):
    status = 403


@dataclass(frozen=True)
class StaffMember:
    centre_id: int
    centre_code: str
    centre_name: str
    role: str


@dataclass(frozen=True)
class CounterInvitation:
    invitation: IssuedInvitation
    centre_name: str
    service_name: str | None
    valid_until: dt.date  # the last local day on which it is valid


class StaffService:
    def __init__(self, app: App) -> None:
        self.app = app

    async def identify(self, platform: str, user_id: str | int) -> StaffMember:
        """The registered staff member behind a chat account; NotStaff for anyone else."""
        async with self.app.db.reading() as session:
            staff = await find_staff(session, platform, str(user_id))
            if staff is None:
                raise NotStaff("not registered as staff")
            centre = await session.get(Centre, staff.centre_id)
            return StaffMember(centre.id, centre.code, centre.name, staff.role)

    async def invite(self, platform: str, user_id: str | int, service_code: str | None) -> CounterInvitation:
        """One invitation for the staff member's centre (and a service), valid SIPAS_INVITATION_DAYS."""
        member = await self.identify(platform, user_id)
        async with self.app.db.transaction() as session:
            centre = await session.get(Centre, member.centre_id)
            service: Service | None = await find_service(session, service_code) if service_code else None
            [issued] = await invitations.issue(
                session, self.app.secret_key, centre=centre, service=service, survey=self.app.settings.default_survey,
                expires_days=self.app.settings.invitation_days, channel_hint=platform,
                timezone=self.app.settings.timezone)
        last_day = self.app.local_date(issued.expires_at - dt.timedelta(microseconds=1))
        return CounterInvitation(issued, centre.name, service.name if service else None, last_day)
