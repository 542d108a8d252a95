"""Staff commands in the Telegram bot: /moi (/invite) issues an invitation at the counter with its QR code,
/thongke (/stats) shows the centre's last 30 days, /baocao (/report) sends admins the XLSX report."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from adapters.common.staff_text import stats_text
from adapters.telegram.sending import Sender
from bot.errors import NotFound
from bot.survey.qr import instruction, qr_png
from bot.survey.staff import NotStaff, StaffService
from bot.texts import say
from surveys.textmatch import fold

log = logging.getLogger(__name__)


def refusal(update: Update) -> str:
    """The polite no, with the sender's numeric id ready for `sipas-bot staff add --telegram-id`."""
    return say("staff.refusal", user_id=update.effective_user.id, platform="telegram")


class StaffHandlers:
    def __init__(self, staff: StaffService, sender: Sender) -> None:
        self.staff = staff
        self.sender = sender

    def register(self, application: Application) -> None:
        application.add_handler(CommandHandler(["moi", "invite"], self.on_invite))
        application.add_handler(CommandHandler(["thongke", "stats"], self.on_stats))
        application.add_handler(CommandHandler(["baocao", "report"], self.on_report))

    async def on_invite(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        service_code = context.args[0] if context.args else None
        try:
            counter = await self.staff.invite("telegram", update.effective_user.id, service_code)
        except NotStaff:
            await self.sender.send(chat, refusal(update))
            return
        except NotFound:
            await self.sender.send(chat, say("staff.unknown_service", code=service_code))
            return
        issued = counter.invitation
        # The links every caller gets (bot/survey/batches.py); this bot's own name when none was recorded yet.
        link = counter.links.of(issued.token).get("telegram") or \
            f"https://t.me/{context.bot.username}?start={issued.token}"
        valid = counter.valid_until.strftime("%d/%m/%Y")
        lines = [say("staff.invite_title", centre=counter.centre_name)]
        if counter.service_name:
            lines.append(say("staff.invite_service", service=counter.service_name))
        lines += [say("staff.invite_code", code=issued.display_code), say("staff.invite_link", link=link), "",
                  instruction(issued.display_code, valid, bot=context.bot.username)]
        await context.bot.send_photo(chat, photo=qr_png(link), caption="\n".join(lines))

    async def on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        try:
            stats = await self.staff.centre_stats("telegram", update.effective_user.id)
        except NotStaff:
            await self.sender.send(chat, refusal(update))
            return
        await self.sender.send(chat, stats_text(stats))

    async def on_report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        word = fold(context.args[0]) if context.args else "quy"
        period = {"quy": "quarter", "thang": "month", "quarter": "quarter", "month": "month"}.get(word)
        if period is None:
            await self.sender.send(chat, say("staff.report_syntax"))
            return
        try:
            data, filename = await self.staff.report_xlsx("telegram", update.effective_user.id, period)
        except NotStaff:
            await self.sender.send(chat, say("staff.report_refusal"))
            return
        caption = say("staff.report_caption", period=say(f"staff.period_{period}"))
        await context.bot.send_document(chat, document=data, filename=filename, caption=caption)

