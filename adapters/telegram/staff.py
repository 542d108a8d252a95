"""Staff commands in the Telegram bot: /moi (/invite) issues an invitation at the counter with its QR code,
/thongke (/stats) shows the centre's last 30 days, /baocao (/report) sends admins the XLSX report."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from adapters.telegram.sending import Sender
from bot.errors import NotFound
from bot.reports.formatting import format_pct
from bot.survey.qr import instruction, qr_png
from bot.survey.staff import CentreStats, NotStaff, StaffService
from surveys.textmatch import fold

log = logging.getLogger(__name__)
REFUSAL = ("Xin lỗi, lệnh này chỉ dành cho cán bộ của Trung tâm đã được đăng ký. Nếu Ông/Bà là cán bộ, vui lòng "
           "liên hệ quản trị viên để được đăng ký.")


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

    async def on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        try:
            stats = await self.staff.centre_stats("telegram", update.effective_user.id)
        except NotStaff:
            await self.sender.send(chat, REFUSAL)
            return
        await self.sender.send(chat, stats_text(stats))

    async def on_report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat.id
        word = fold(context.args[0]) if context.args else "quy"
        period = {"quy": "quarter", "thang": "month", "quarter": "quarter", "month": "month"}.get(word)
        if period is None:
            await self.sender.send(chat, "Cú pháp: /baocao quý hoặc /baocao tháng.")
            return
        try:
            data, filename = await self.staff.report_xlsx("telegram", update.effective_user.id, period)
        except NotStaff:
            await self.sender.send(chat, "Xin lỗi, báo cáo chỉ dành cho quản trị viên đã được đăng ký.")
            return
        caption = "Báo cáo SIPAS theo " + ("quý" if period == "quarter" else "tháng") + " (tất cả trung tâm)."
        await context.bot.send_document(chat, document=data, filename=filename, caption=caption)


def _pct(value: float | None) -> str:
    return format_pct(value, "vi")


def stats_text(stats: CentreStats) -> str:
    """The centre's last days as a short Vietnamese message, with the interval, or "chưa đủ mẫu"."""
    window = f"{stats.date_from:%d/%m/%Y} – {stats.date_to:%d/%m/%Y}"
    lines = [f"Thống kê {stats.centre_name}", f"Từ {window}"]
    row = stats.row
    if row is None:
        return "\n".join([*lines, "Chưa có phiếu khảo sát nào trong thời gian này."])
    lines.append(f"Số phiếu: {row['n']:,}".replace(",", "."))
    if row["suppressed"]:
        lines.append(f"Chỉ số SIPAS: chưa đủ mẫu (cần ít nhất {stats.min_n} phiếu)")
    else:
        low, high = row["sipas_ci"] or (None, None)
        lines.append(f"Chỉ số SIPAS: {_pct(row['sipas'])} (khoảng tin cậy 95%: {_pct(low)} – {_pct(high)})")
        lines += [f"• {stats.element_names.get(code, code)}: {_pct(value)}" for code, value in
                  (row.get("elements") or {}).items()]
    participation = row.get("participation")
    if participation and participation.get("issued"):
        lines.append(f"Tỷ lệ phản hồi: {_pct(participation['response_rate'])} "
                     f"({participation['completed']}/{participation['issued']} lời mời)")
    return "\n".join(lines)
