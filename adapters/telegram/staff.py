"""Staff commands in the Telegram bot: /moi (/invite) issues an invitation at the counter with its QR code."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from adapters.telegram.sending import Sender
from bot.errors import NotFound
from bot.qr import instruction, qr_png
from bot.staff import NotStaff, StaffService

log = logging.getLogger(__name__)
REFUSAL = ("Xin lỗi, lệnh này chỉ dành cho cán bộ của Trung tâm đã được đăng ký. Nếu Ông/Bà là cán bộ, vui lòng "
           "liên hệ quản trị viên để được đăng ký.")


class StaffHandlers:
    def __init__(self, staff: StaffService, sender: Sender) -> None:
        self.staff = staff
        self.sender = sender

    def register(self, application: Application) -> None:
        application.add_handler(CommandHandler(["moi", "invite"], self.on_invite))

    async def on_invite(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        service_code = context.args[0] if context.args else None
        try:
            counter = await self.staff.invite("telegram", update.effective_user.id, service_code)
        except NotStaff:
            await self.sender.send(chat, REFUSAL)
            return
        except NotFound:
            await self.sender.send(chat, f"Không có dịch vụ với mã “{service_code}”. Gửi /moi không kèm mã, hoặc "
                                         "kiểm tra mã dịch vụ với quản trị viên.")
            return
        issued = counter.invitation
        link = f"https://t.me/{context.bot.username}?start={issued.token}"
        valid = counter.valid_until.strftime("%d/%m/%Y")
        lines = [f"Phiếu khảo sát cho {counter.centre_name}"]
        if counter.service_name:
            lines.append(f"Dịch vụ: {counter.service_name}")
        lines += [f"Mã: {issued.display_code}", f"Liên kết: {link}", "",
                  instruction(issued.display_code, valid, context.bot.username)]
        await context.bot.send_photo(chat, photo=qr_png(link), caption="\n".join(lines))
