"""What counter staff and admins can do from a chat services: issue an invitation at the counter, see their centre's
figures. Only accounts registered with `sipas-bot staff add` get anything."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserError
from bot.reports.build import build_report
from bot.reports.request import ReportRequest
from bot.reports.xlsx import write_xlsx
from bot.services import Services
from bot.storage.models import Centre
from bot.survey.batches import Links, issue_batch
from bot.survey.directory import find_staff
from bot.survey.invitations import IssuedInvitation


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
    links: Links


@dataclass(frozen=True)
class CentreStats:
    centre_name: str
    date_from: dt.date
    date_to: dt.date
    min_n: int
    row: dict | None  # the report row of the centre (None: no response in the window)
    element_names: dict[str, str]


class StaffService:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def identify(self, platform: str, user_id: str | int) -> StaffMember:
        """The registered staff member behind a chat account; NotStaff for anyone else."""
        async with self.services.db.reading() as session:
            staff = await find_staff(session, platform, str(user_id))
            if staff is None:
                raise NotStaff("not registered as staff")
            centre = await session.get(Centre, staff.centre_id)
            return StaffMember(centre.id, centre.code, centre.name, staff.role)

    async def invite(self, platform: str, user_id: str | int, service_code: str | None) -> CounterInvitation:
        """One invitation for the staff member's centre (and a service), valid SIPAS_INVITATION_DAYS."""
        member = await self.identify(platform, user_id)
        batch = await issue_batch(self.services, centre_code=member.centre_code, service_code=service_code,
                                  channel_hint=platform)
        return CounterInvitation(batch.issued[0], batch.centre_name, batch.service_name, batch.valid_until,
                                 batch.links)

    async def centre_stats(self, platform: str, user_id: str | int, days: int = 30) -> CentreStats:
        """The staff member's centre over the last ``days`` days: n, SIPAS with its interval, the elements and
        the response rate (or only n when below the minimum sample)."""
        member = await self.identify(platform, user_id)
        today = self.services.local_date(dt.datetime.now(dt.UTC))
        first = today - dt.timedelta(days=days - 1)
        request = ReportRequest(by=("centre",), period="all", date_from=first, date_to=today)
        report = await build_report(self.services, request)
        row = next((r for r in report.rows if r.get("centre") == member.centre_code), None)
        names = {code: text.get("vi") for code, text in report.instrument.elements.items()}
        return CentreStats(member.centre_name, first, today, request.min_n, row, names)

    async def report_xlsx(self, platform: str, user_id: str | int, period: str) -> tuple[bytes, str]:
        """For admins: the province report by centre and ``period`` (month or quarter) as an XLSX workbook."""
        member = await self.identify(platform, user_id)
        if member.role != "admin":
            raise NotStaff("admins only")
        report = await build_report(self.services, ReportRequest(by=("centre",), period=period))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bao-cao.xlsx"
            await asyncio.to_thread(write_xlsx, report, path)
            data = path.read_bytes()
        today = self.services.local_date(dt.datetime.now(dt.UTC))
        return data, f"bao-cao-sipas-{period}-{today.isoformat()}.xlsx"
