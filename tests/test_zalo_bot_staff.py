"""Staff in the Zalo Bot: registered with `sipas-bot staff add --zalo-id`, they get /moi (an invitation whose code
a citizen then types into the same bot) and /thongke; a stranger gets the refusal with their Zalo id; an admin's
/baocao says where to get the XLSX (the Zalo Bot sends no files)."""

import re

import pytest
from fake_zalo_bot import FakeZaloBot
from zalo_bot_world import bot_settings, exchange, seed, serving

STAFF, ADMIN, STRANGER, CITIZEN = "staff0000000000000001", "admin0000000000000001", "stranger000000000001", \
    "citizen0000000000001"


@pytest.fixture
async def fake():
    async with FakeZaloBot() as server:
        yield server


@pytest.fixture
async def counter(settings, fake, cli):
    # Webhook mode: SIPAS_PUBLIC_URL is set, so an invitation carries its web link too.
    hooked = bot_settings(settings, fake, webhook=True)
    await seed(hooked, count=1)
    for user, role in ((STAFF, "staff"), (ADMIN, "admin")):
        code, _, err = cli("staff", "add", "--centre", "hcc", "--zalo-id", user, "--role", role)
        assert code == 0, err
    async with serving(hooked):
        yield hooked


async def test_moi_gives_a_code_that_a_citizen_redeems(fake, counter):
    [invitation] = await exchange(fake, STAFF, "/moi dd-01", "Phiếu khảo sát")
    lines = invitation.splitlines()
    assert lines[:2] == ["Phiếu khảo sát cho Trung tâm Phục vụ hành chính công tỉnh", "Dịch vụ: Đăng ký đất đai"]
    code = re.fullmatch(r"Mã: ([A-Z0-9]{4}-[A-Z0-9]{4})", lines[2]).group(1)
    assert lines[3].startswith(f"Liên kết: {counter.public_url}/s/")
    assert any(line.startswith(f"Cách dùng: đưa phiếu này cho người dân; người dân gửi mã {code}") for line in lines)
    welcome, question = await exchange(fake, CITIZEN, code, "Câu 1/")  # the default survey (sipas-2023) starts
    assert "Đăng ký đất đai" in welcome and question.startswith("Câu 1/20. ")
    [again] = await exchange(fake, "citizen0000000000002", code, "Mã khảo sát")  # and the code is now used
    assert again.startswith("Mã khảo sát này không dùng được")
    [english] = await exchange(fake, STAFF, "/invite", "Phiếu khảo sát")  # the English alias, no service
    assert "Dịch vụ:" not in english
    [unknown] = await exchange(fake, STAFF, "/moi NOPE", "NOPE")
    assert unknown.startswith("Không có dịch vụ với mã “NOPE”")


async def test_thongke_and_baocao(fake, counter):
    [stats] = await exchange(fake, STAFF, "/thongke", "Thống kê")
    assert stats.splitlines()[0] == "Thống kê Trung tâm Phục vụ hành chính công tỉnh"
    assert "Chưa có phiếu khảo sát nào trong thời gian này." in stats
    [refused] = await exchange(fake, STAFF, "/baocao", "Xin lỗi")
    assert refused == "Xin lỗi, báo cáo chỉ dành cho quản trị viên đã được đăng ký."
    [where] = await exchange(fake, ADMIN, "/baocao tháng", "sipas-bot report")
    assert where.startswith("Zalo không gửi được tệp báo cáo.") and "--period month --format xlsx" in where
    [syntax] = await exchange(fake, ADMIN, "/report year", "Cú pháp")
    assert syntax == "Cú pháp: /baocao quý hoặc /baocao tháng."


async def test_a_stranger_gets_the_refusal_with_their_zalo_id(fake, counter):
    for command in ("/moi", "/thongke", "/baocao"):
        [refusal] = await exchange(fake, STRANGER, command, "Xin lỗi")
        assert refusal.startswith("Xin lỗi, lệnh này chỉ dành cho cán bộ")
        assert f"sipas-bot staff add --centre MÃ_TRUNG_TÂM --zalo-id {STRANGER}" in refusal
