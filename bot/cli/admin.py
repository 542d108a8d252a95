"""`sipas-bot db`, `centre`, `service` and `staff`: the reference data, from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import cli, say, with_services

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import Services
    from bot.storage.models import Centre, Service, Staff
    from bot.survey.directory import ServiceImport

# The same as bot.survey.directory.ROLES (a test checks it), written out so that --help imports no database code.
ROLES = ("staff", "admin", "head")


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Bring the database schema up to date (needed when SIPAS_AUTO_MIGRATE=false)."""
    import asyncio

    from bot.storage.database import Database

    async def work() -> tuple[str | None, str]:
        database = Database(settings.resolved_database_url)
        try:
            before, head = await database.revisions()
            await database.upgrade()
            return before, head
        finally:
            await database.dispose()

    before, head = asyncio.run(work())
    click.echo(say("admin.db_upgraded", before=before or say("admin.db_empty"), head=head) if before != head
               else say("admin.db_at_head", head=head))


@cli.group()
def centre() -> None:
    """Service centres (Trung tâm Phục vụ hành chính công, commune one-stop counters)."""


@centre.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="Code of the centre this one reports to (for roll-ups).")
@click.option("--open-surveys/--invitation-only", default=False, show_default=True,
              help="Accept surveys without an invitation.")
@click.pass_obj
def centre_add(settings: Settings, code: str, name: str, parent: str | None, open_surveys: bool) -> None:
    """Add a centre: CODE "NAME"."""
    from bot.survey import directory

    async def work(services: Services) -> Centre:
        async with services.db.transaction() as session:
            return await directory.add_centre(session, code, name, parent, open_surveys)

    added = with_services(settings, work, instruments=False)
    click.echo(say("admin.centre_added", code=added.code, name=added.name))


@centre.command("set")
@click.argument("code")
@click.option("--name")
@click.option("--parent", help="Code of the centre this one reports to, for roll-ups ('' for none).")
@click.option("--open-surveys/--invitation-only", default=None, help="Accept surveys without an invitation.")
@click.option("--alert-chat", help="Chat that gets alerts about low ratings and comments: PLATFORM:CHAT_ID "
              "(telegram:-100123, zalo:ID) or a bare Telegram chat id ('' to clear).")
@click.option("--alert-zalo", "alert_zalo", metavar="USER_ID",
              help="The same for a Zalo user (sent through the OA, or the Zalo Bot): --alert-chat zalo:USER_ID.")
@click.pass_obj
def centre_set(settings: Settings, code: str, name: str | None, parent: str | None, open_surveys: bool | None,
               alert_chat: str | None, alert_zalo: str | None) -> None:
    """Change a centre's name, parent, open-survey setting or alert chat."""
    from bot.survey import directory

    if alert_zalo is not None:
        if alert_chat is not None:
            from bot.errors import UserError

            raise UserError.say("admin.alert_twice")
        alert_chat = f"zalo:{alert_zalo.strip()}" if alert_zalo.strip() else ""

    async def work(services: Services) -> Centre:
        async with services.db.transaction() as session:
            return await directory.change_centre(session, code, name=name, parent=parent, open_surveys=open_surveys,
                                                 alert_chat=alert_chat)

    changed = with_services(settings, work, instruments=False)
    click.echo(say("admin.centre_changed", code=changed.code, name=changed.name,
                   open=say("admin.yes" if changed.open_surveys else "admin.no"),
                   chat=changed.alert_chat or say("admin.none")))


@centre.command("list")
@click.pass_obj
def centre_list(settings: Settings) -> None:
    """List centres."""
    from sqlalchemy import select

    from bot.storage.models import Centre

    async def work(services: Services) -> list[Centre]:
        async with services.db.reading() as session:
            return list((await session.scalars(select(Centre).order_by(Centre.code))).all())

    centres = with_services(settings, work, instruments=False)
    if not centres:
        click.echo(say("admin.no_centres"))
    by_id = {c.id: c.code for c in centres}
    for c in centres:
        extra = [say("admin.centre_parent", code=by_id[c.parent_id])] if c.parent_id else []
        extra += [say("admin.centre_open")] if c.open_surveys else []
        click.echo(f"{c.code:<16} {c.name}" + (f"  ({', '.join(extra)})" if extra else ""))


@centre.command("remove")
@click.argument("code")
@click.pass_obj
def centre_remove(settings: Settings, code: str) -> None:
    """Remove a centre that has no responses, invitations, staff or child centres (a mistyped one)."""
    from bot.survey import directory

    _remove(settings, lambda session: directory.remove_centre(session, code), "admin.centre_removed")


@cli.group()
def service() -> None:
    """Administrative procedures (thủ tục hành chính) that citizens are surveyed about."""


@service.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--field", help="Lĩnh vực, the field of procedures (đất đai, hộ tịch, ...).")
@click.pass_obj
def service_add(settings: Settings, code: str, name: str, field: str | None) -> None:
    """Add a service: CODE "NAME"."""
    from bot.survey import directory

    async def work(services: Services) -> Service:
        async with services.db.transaction() as session:
            return await directory.add_service(session, code, name, field)

    added = with_services(settings, work, instruments=False)
    click.echo(say("admin.service_added", code=added.code, name=added.name))


@service.command("list")
@click.pass_obj
def service_list(settings: Settings) -> None:
    """List services."""
    from sqlalchemy import select

    from bot.storage.models import Service

    async def work(services: Services) -> list[Service]:
        async with services.db.reading() as session:
            return list((await session.scalars(select(Service).order_by(Service.code))).all())

    services = with_services(settings, work, instruments=False)
    if not services:
        click.echo(say("admin.no_services"))
    for s in services:
        click.echo(f"{s.code:<20} {s.name}" + (f"  [{s.field}]" if s.field else ""))


@service.command("remove")
@click.argument("code")
@click.pass_obj
def service_remove(settings: Settings, code: str) -> None:
    """Remove a service that has no responses or invitations (a mistyped one)."""
    from bot.survey import directory

    _remove(settings, lambda session: directory.remove_service(session, code), "admin.service_removed")


def _remove(settings: Settings, remove, done: str) -> None:
    """`centre remove` and `service remove`: ``remove(session)`` in one transaction, then the text ``done``."""

    async def work(services: Services):
        async with services.db.transaction() as session:
            return await remove(session)

    removed = with_services(settings, work, instruments=False)
    click.echo(say(done, code=removed.code, name=removed.name))


@service.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def service_import(settings: Settings, file: Path) -> None:
    """Add or update services from a CSV or XLSX file whose header is code,name[,field]."""
    from bot.errors import UserError
    from bot.paper.services import read_services
    from bot.survey import directory

    if not file.is_file():
        raise UserError.say("admin.file_missing", file=file)
    rows = read_services(file.read_bytes(), file.name)

    async def work(services: Services) -> ServiceImport:
        async with services.db.transaction() as session:
            return await directory.import_services(session, rows)

    result = with_services(settings, work, instruments=False)
    click.echo(say("admin.services_imported", added=result.added, updated=result.updated))


@cli.group()
def staff() -> None:
    """Counter staff and admins who may use the bot's staff commands."""


def _account(telegram_id: str | None, zalo_id: str | None) -> tuple[str, str]:
    from bot.errors import UserError

    if bool(telegram_id) == bool(zalo_id):
        raise UserError.say("admin.one_account")
    return ("telegram", telegram_id) if telegram_id else ("zalo", zalo_id)  # type: ignore[return-value]


@staff.command("add")
@click.option("--centre", "centre_code", required=True)
@click.option("--telegram-id")
@click.option("--zalo-id")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--name")
@click.pass_obj
def staff_add(settings: Settings, centre_code: str, telegram_id: str | None, zalo_id: str | None, role: str,
              name: str | None) -> None:
    """Register a staff member's chat account for a centre."""
    from bot.survey import directory

    platform, user_id = _account(telegram_id, zalo_id)

    async def work(services: Services) -> Staff:
        async with services.db.transaction() as session:
            return await directory.add_staff(session, centre_code, platform, user_id, role, name)

    added = with_services(settings, work, instruments=False)
    click.echo(say("admin.staff_added", platform=platform, user=added.platform_user_id, role=added.role,
                   centre=centre_code.strip().upper()))


@staff.command("list")
@click.pass_obj
def staff_list(settings: Settings) -> None:
    """List registered staff."""
    from sqlalchemy import select

    from bot.storage.models import Centre, Staff

    async def work(services: Services) -> list[tuple[Staff, str]]:
        async with services.db.reading() as session:
            rows = await session.execute(
                select(Staff, Centre.code).join(Centre, Staff.centre_id == Centre.id).order_by(Centre.code))
            return [(row[0], row[1]) for row in rows]

    for member, code in with_services(settings, work, instruments=False):
        click.echo(f"{code:<16} {member.platform:<9} {member.platform_user_id:<16} {member.role:<6} "
                   f"{member.name or ''}")


@staff.command("remove")
@click.option("--telegram-id")
@click.option("--zalo-id")
@click.pass_obj
def staff_remove(settings: Settings, telegram_id: str | None, zalo_id: str | None) -> None:
    """Remove a staff member's access."""
    from bot.survey import directory

    platform, user_id = _account(telegram_id, zalo_id)

    async def work(services: Services) -> None:
        async with services.db.transaction() as session:
            await directory.remove_staff(session, platform, user_id)

    with_services(settings, work, instruments=False)
    click.echo(say("admin.staff_removed", platform=platform, user=user_id))
