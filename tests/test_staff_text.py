"""Staff commands as text (adapters/common/staff_text.py), on the real service layer and a real SQLite file: what
is a staff command, the invitation without a web link, the figures, and the report as a file where a platform
can send one."""

import datetime as dt

from adapters.common import staff_text
from adapters.common.staff_text import staff_command, staff_reply
from bot.storage.responses import build_response
from bot.survey import directory, invitations
from bot.survey.staff import StaffService


def test_what_is_a_staff_command():
    assert staff_command("/moi DD-01") == ("invite", ["DD-01"])
    assert staff_command("  /Invite ") == ("invite", [])
    assert staff_command("/thongke@sipas_bot") == ("stats", [])
    assert staff_command("/báocáo tháng") == ("report", ["tháng"])
    assert staff_command("/REPORT quarter") == ("report", ["quarter"])
    for not_staff in ("moi", "/start ABCD-EFGH", "5", "", "/", "/huy"):
        assert staff_command(not_staff) is None, not_staff


async def test_texts_for_staff_and_strangers(services):
    async with services.db.transaction() as session:
        centre = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        await directory.add_staff(session, "HCC", "zalo", "z-staff", "staff", None)
        await directory.add_staff(session, "HCC", "zalo", "z-admin", "admin", None)
        instrument = services.instrument("sipas-2023")
        today = services.local_date(dt.datetime.now(dt.UTC))
        for _ in range(2):
            session.add(build_response(instrument, dict.fromkeys(instrument.criteria(), 5), centre_id=centre.id,
                                       service_id=None, channel="zalo-bot", submitted_on=today))
        issued = await invitations.issue(session, services.secret_key, centre=centre, service=None,
                                         survey="sipas-2023", count=3)
        await invitations.complete(session, issued[0].id, dt.datetime.now(dt.UTC))
    staff = StaffService(services)
    assert await staff_reply(staff, "z-staff", "xin chào") is None  # a citizen's text: not for us

    invite = (await staff_reply(staff, "z-staff", "/moi")).text.splitlines()
    assert invite[0] == "Phiếu khảo sát cho Trung tâm Phục vụ hành chính công tỉnh"
    assert invite[1].startswith("Mã: ")
    assert invite[2] == "(Chưa có liên kết web: quản trị viên cần đặt SIPAS_PUBLIC_URL.)"
    assert not [line for line in invite if line.startswith("Liên kết")]

    stats = (await staff_reply(staff, "z-staff", "/stats")).text.splitlines()
    assert stats[2:] == ["Số phiếu: 2", "Chỉ số SIPAS: chưa đủ mẫu (cần ít nhất 30 phiếu)",
                         "Tỷ lệ phản hồi: 25,00% (1/4 lời mời)"]  # the /moi above issued the fourth

    report = await staff_reply(staff, "z-admin", "/baocao quý", can_send_files=True)
    data, filename = report.file
    assert data[:2] == b"PK" and filename.startswith("bao-cao-sipas-quarter-") and filename.endswith(".xlsx")
    assert report.text == "Báo cáo SIPAS theo quý (tất cả trung tâm)."
    assert (await staff_reply(staff, "z-staff", "/baocao", can_send_files=True)).file is None

    refusal = (await staff_reply(staff, "telegram-user", "/thongke", platform="telegram")).text
    assert "--telegram-id telegram-user" in refusal
    assert "--zalo-id z-stranger" in (await staff_reply(staff, "z-stranger", "/moi")).text


def test_telegram_and_zalo_share_one_figures_text():
    from adapters.telegram import staff as telegram_staff

    assert telegram_staff.stats_text is staff_text.stats_text


async def test_stats_say_why_a_centre_with_enough_responses_is_withheld(services):
    # HCC has 30 responses, XA 2: XA is suppressed, and HCC with it (the province total minus HCC is XA).
    async with services.db.transaction() as session:
        hcc = await directory.add_centre(session, "hcc", "Trung tâm Phục vụ hành chính công tỉnh")
        xa = await directory.add_centre(session, "xa", "Trung tâm Phục vụ hành chính công xã A")
        await directory.add_staff(session, "HCC", "zalo", "z-hcc", "staff", None)
        await directory.add_staff(session, "XA", "zalo", "z-xa", "staff", None)
        instrument = services.instrument("sipas-2023")
        today = services.local_date(dt.datetime.now(dt.UTC))
        for centre, count in ((hcc, 30), (xa, 2)):
            session.add_all([build_response(instrument, dict.fromkeys(instrument.criteria(), 5), centre_id=centre.id,
                                            service_id=None, channel="web", submitted_on=today)
                             for _ in range(count)])
    staff = StaffService(services)
    hcc_stats = (await staff_reply(staff, "z-hcc", "/thongke")).text.splitlines()
    assert hcc_stats[2:4] == ["Số phiếu: 30", "Chỉ số SIPAS: tạm ẩn để bảo vệ số liệu của một trung tâm chưa đủ mẫu "
                                              "(nếu công bố, có thể suy ra từ tổng toàn tỉnh)"]
    xa_stats = (await staff_reply(staff, "z-xa", "/thongke")).text.splitlines()
    assert xa_stats[2:4] == ["Số phiếu: 2", "Chỉ số SIPAS: chưa đủ mẫu (cần ít nhất 30 phiếu)"]
