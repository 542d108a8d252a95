"""Staff in the Zalo OA: the same text commands as in the Zalo Bot (adapters/common/staff_text.py), for accounts
registered with `sipas-bot staff add --zalo-id`; a stranger's /moi gets the refusal with their id; a citizen's
ordinary text still goes to the survey."""

import re

import pytest
from zalo_oa_served import serving

STAFF, STRANGER, CITIZEN = "5000000000000000001", "5000000000000000002", "5000000000000000003"


@pytest.fixture
async def served(settings, cli):
    async with serving(settings) as running:
        code, _, err = cli("staff", "add", "--centre", "hcc", "--zalo-id", STAFF)
        assert code == 0, err
        yield running


async def test_moi_in_the_oa_gives_a_code_a_citizen_then_types(served):
    [invitation] = await served.citizen(STAFF).says("/moi")
    lines = invitation.text.splitlines()
    assert lines[0] == "Phiếu khảo sát cho Trung tâm Phục vụ hành chính công tỉnh"
    code = re.fullmatch(r"Mã: ([A-Z0-9]{4}-[A-Z0-9]{4})", lines[1]).group(1)
    welcome, first = await served.citizen(CITIZEN).says(code)
    assert "ẩn danh" in welcome.text and first.text.startswith("Câu 1/20. ")


async def test_thongke_in_the_oa_and_a_stranger_refused_with_their_id(served):
    [stats] = await served.citizen(STAFF).says("/thongke")
    assert stats.text.splitlines()[0] == "Thống kê Trung tâm Phục vụ hành chính công tỉnh"
    [refusal] = await served.citizen(STRANGER).says("/moi")
    assert STRANGER in refusal.text and "--zalo-id" in refusal.text
