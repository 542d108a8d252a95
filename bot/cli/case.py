"""`sipas-bot case`: the follow-up cases of low ratings, harassment and payment reports (bot/survey/cases.py).

The command line acts as the province admin (whoever runs it has the database anyway): it sees every case."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli import admin_language, cli, say, with_services

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services
    from bot.survey.case_access import CaseView


@cli.group()
def case() -> None:
    """Follow-up cases: a low rating or a report opens one; assign, start and resolve it."""


@case.command("list")
@click.option("--centre", "centre_code", help="Only this centre's cases.")
@click.option("--status", help="Only cases in this status: new, in_progress, resolved.")
@click.option("--overdue", is_flag=True, help="Only open cases past their due date.")
@click.pass_obj
def case_list(settings: Settings, centre_code: str | None, status: str | None, overdue: bool) -> None:
    """List cases: id, centre, status, opened, due, who handles it (overdue ones first)."""
    from bot.survey import case_access

    if status is not None:
        case_access.parse_status(status)  # before the database: a bad status changes nothing

    async def work(services: Services) -> list[CaseView]:
        async with services.db.reading() as session:
            return await case_access.list_cases(session, case_access.ADMIN, today=_today(services),
                                                centre=centre_code, status=status, overdue=overdue)

    views = with_services(settings, work, instruments=False)
    if not views:
        click.echo(say("admin.case_none"))
        return
    language = admin_language(settings)
    click.echo(say("admin.case_list_header"))
    for view in views:
        marks = [say("admin.case_overdue_mark")] if view.overdue else []
        marks += [say("admin.case_sensitive_mark")] if view.sensitive else []
        click.echo("  ".join([view.id, f"{view.centre:<12}", f"{view.status_label(language):<11}",
                              _day(view.opened_on), _day(view.due_on), view.assignee or "-",
                              *(f"[{mark}]" for mark in marks)]))


@case.command("show")
@click.argument("case_id", metavar="ID")
@click.pass_obj
def case_show(settings: Settings, case_id: str) -> None:
    """Show one case: its low items, the masked comment, who handles it, the note."""
    from bot.survey import case_access

    async def work(services: Services) -> CaseView:
        async with services.db.reading() as session:
            return await case_access.case_detail(session, case_access.ADMIN, case_id, today=_today(services))

    click.echo(describe(with_services(settings, work, instruments=False), admin_language(settings)))


@case.command("assign")
@click.argument("case_id", metavar="ID")
@click.argument("name", metavar="NAME")
@click.pass_obj
def case_assign(settings: Settings, case_id: str, name: str) -> None:
    """Give a case to someone: a staff member's registered name (reminders reach their chat) or any name."""
    _move(settings, case_id, "assign", assignee=name)


@case.command("start")
@click.argument("case_id", metavar="ID")
@click.pass_obj
def case_start(settings: Settings, case_id: str) -> None:
    """Mark a new case as in progress (đang xử lý)."""
    _move(settings, case_id, "start")


@case.command("resolve")
@click.argument("case_id", metavar="ID")
@click.option("--note", required=True, help="What was done (required).")
@click.pass_obj
def case_resolve(settings: Settings, case_id: str, note: str) -> None:
    """Close a case in progress (đã xử lý), with a note of what was done."""
    _move(settings, case_id, "resolve", note=note)


def _move(settings: Settings, case_id: str, action: str, **values: str) -> None:
    from bot.storage.base import utcnow
    from bot.survey import case_access

    async def work(services: Services) -> CaseView:
        now = utcnow()
        async with services.db.transaction() as session:
            return await case_access.move_case(session, case_access.ADMIN, case_id, action, now=now,
                                               today=services.local_date(now), **values)

    view = with_services(settings, work, instruments=False)
    assignee = say("admin.case_moved_assignee", name=view.assignee) if view.assignee else ""
    click.echo(say("admin.case_moved", id=view.id, status=view.status_label(admin_language(settings)),
                   assignee=assignee))


def describe(view: CaseView, language: str) -> str:
    """The text of `case show`."""
    lines = [say("admin.case_show", id=view.id, centre=view.centre_name, service=view.service or say(
        "admin.case_no_service"), status=view.status_label(language), opened=_day(view.opened_on),
        due=_day(view.due_on), overdue=f" ({say('admin.case_overdue_mark')})" if view.overdue else "",
        assignee=view.assignee or "-")]
    low = [item for item in view.items if item["kind"] == "rating"]
    reports = [item for item in view.items if item["kind"] == "report"]
    if low:
        lines += [say("admin.case_show_low"), *(f"• {i['text']}: {i['value']}/5 ({i['label']})" for i in low)]
    if reports:
        lines += [say("admin.case_show_reports"), *(f"• {i['text']}: {i['label']}" for i in reports)]
    if view.comment:
        lines.append(say("admin.case_show_comment", comment=view.comment))
    if view.escalation:
        lines.append(say("admin.case_show_escalation",
                         steps=", ".join(say(f"admin.case_step_{s}") for s in range(1, view.escalation + 1))))
    if view.note:
        lines.append(say("admin.case_show_note", closed=_day(view.closed_on), note=view.note))
    return "\n".join(lines)


def _today(services: Services):
    from bot.storage.base import utcnow

    return services.local_date(utcnow())


def _day(day) -> str:
    return day.strftime("%d/%m/%Y") if day else "-"
