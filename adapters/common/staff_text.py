"""Staff commands as plain text, for chat platforms without Telegram's photos and documents (the Zalo Bot, the
Zalo OA): /moi (/invite) issues an invitation for the staff member's centre, /thongke (/stats) shows its last 30
days, /baocao (/report) gives admins the XLSX report where the platform can send files, else says where to get
it. The figures text (`stats_text`) is shared with Telegram's /thongke.

A channel calls `staff_reply` with every text a sender typed; None means "not a staff command" (a citizen's).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import NotFound, grouped
from bot.reports.formatting import format_pct
from bot.survey.staff import CentreStats, NotStaff, StaffService
from bot.texts import say
from surveys.textmatch import fold

COMMANDS = {"moi": "invite", "invite": "invite", "thongke": "stats", "stats": "stats", "baocao": "report",
            "report": "report"}
PERIODS = {"quy": "quarter", "thang": "month", "quarter": "quarter", "month": "month"}


@dataclass(frozen=True)
class StaffReply:
    """What to send back: a text, and (an admin's report, where the platform takes files) a file."""

    text: str
    file: tuple[bytes, str] | None = None  # (data, filename)


def staff_command(text: str) -> tuple[str, list[str]] | None:
    """"/moi DD-01" → ("invite", ["DD-01"]); None for anything that is not a staff command."""
    words = text.strip().split()
    if not words or not words[0].startswith("/"):
        return None
    name = fold(words[0][1:].split("@")[0]).replace(" ", "")  # "/báocáo", "/BaoCao@bot" too
    command = COMMANDS.get(name)
    return (command, words[1:]) if command else None


async def staff_reply(staff: StaffService, user_id: str, text: str, *, platform: str = "zalo",
                      can_send_files: bool = False) -> StaffReply | None:
    """The answer to a staff command typed by the account ``user_id`` of ``platform`` (as registered with
    `sipas-bot staff add --zalo-id`), or None when ``text`` is no staff command."""
    parsed = staff_command(text)
    if parsed is None:
        return None
    command, args = parsed
    try:
        if command == "invite":
            return await _invite(staff, platform, user_id, args[0] if args else None)
        if command == "stats":
            return StaffReply(stats_text(await staff.centre_stats(platform, user_id)))
        return await _report(staff, platform, user_id, args, can_send_files)
    except NotStaff:
        return StaffReply(refusal(user_id, platform))


def refusal(user_id: str, platform: str = "zalo") -> str:
    """The polite no, with the sender's id ready for `sipas-bot staff add --zalo-id`."""
    return say("staff.refusal", user_id=user_id, platform=platform)


async def _invite(staff: StaffService, platform: str, user_id: str, service_code: str | None) -> StaffReply:
    try:
        counter = await staff.invite(platform, user_id, service_code)
    except NotFound:
        return StaffReply(say("staff.unknown_service", code=service_code))
    issued = counter.invitation
    valid = counter.valid_until.strftime("%d/%m/%Y")
    web = counter.links.of(issued.token).get("web")  # needs SIPAS_PUBLIC_URL
    lines = [say("staff.invite_title", centre=counter.centre_name)]
    if counter.service_name:
        lines.append(say("staff.invite_service", service=counter.service_name))
    lines.append(say("staff.invite_code", code=issued.display_code))
    lines.append(say("staff.invite_link", link=web) if web else say("staff.invite_no_web_link"))
    lines += ["", say("staff.invite_how_chat", code=issued.display_code, valid=valid)]
    if web:
        lines.append(say("staff.invite_how_web"))
    return StaffReply("\n".join(lines))


async def _report(staff: StaffService, platform: str, user_id: str, args: list[str],
                  can_send_files: bool) -> StaffReply:
    period = PERIODS.get(fold(args[0]) if args else "quy")
    if period is None:
        return StaffReply(say("staff.report_syntax"))
    member = await staff.identify(platform, user_id)  # a stranger gets the refusal with their id
    if member.role != "admin":
        return StaffReply(say("staff.report_refusal"))
    if not can_send_files:
        return StaffReply(say("staff.report_where", period=say(f"staff.period_{period}"), option=period))
    data, filename = await staff.report_xlsx(platform, user_id, period)
    return StaffReply(say("staff.report_caption", period=say(f"staff.period_{period}")), (data, filename))


def _pct(value: float | None) -> str:
    return format_pct(value, "vi")


def stats_text(stats: CentreStats) -> str:
    """The centre's last days as a short Vietnamese message, with the interval, or "chưa đủ mẫu"."""
    lines = [say("staff.stats_title", centre=stats.centre_name),
             say("staff.stats_window", first=f"{stats.date_from:%d/%m/%Y}", last=f"{stats.date_to:%d/%m/%Y}")]
    row = stats.row
    if row is None:
        return "\n".join([*lines, say("staff.stats_none")])
    lines.append(say("staff.stats_count", count=grouped(row["n"], "vi")))
    if row["suppressed"] and row.get("suppressed_reason") == "complementary":
        lines.append(say("staff.stats_protected"))
    elif row["suppressed"]:
        lines.append(say("staff.stats_suppressed", min_n=stats.min_n))
    elif row["sipas"] is None and (row.get("withheld") or {}).get("sipas"):
        lines.append(say("staff.stats_withheld"))
    else:
        low, high = row["sipas_ci"] or (None, None)
        lines.append(say("staff.stats_sipas", sipas=_pct(row["sipas"]), low=_pct(low), high=_pct(high)))
        lines += [say("staff.stats_element", name=stats.element_names.get(code, code), value=_pct(value))
                  for code, value in (row.get("elements") or {}).items()]
    participation = row.get("participation")
    if participation and participation.get("issued"):
        lines.append(say("staff.stats_response_rate", rate=_pct(participation["response_rate"]),
                         completed=participation["completed"], issued=participation["issued"]))
    return "\n".join(lines)
