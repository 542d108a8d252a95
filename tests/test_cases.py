"""Follow-up cases: a completed sipas-2023 response with a low rating, a harassment or a payment report opens one
anonymous case for its centre; who sees it; its moves; its due date in working days."""

import datetime as dt

import pytest
from case_world import ALL_FIVE, NOW, add_centre, case_rows, complete, ratings, sweep
from sqlalchemy import select, text

from bot.errors import NotFound, UserError
from bot.storage.models import Response
from bot.survey import case_access, directory, invitations
from bot.survey.api_keys import Caller
from bot.survey.case_access import ADMIN
from bot.survey.conversation import SurveyService
from bot.survey.workdays import add_working_days
from surveys import events as ev

TODAY = dt.date(2026, 11, 20)


async def test_a_low_rating_opens_one_case_with_its_items_and_the_comment_masked_as_it_grows(services):
    code = await add_centre(services)
    async with services.db.transaction() as session:
        await directory.add_service(session, "KS01", "Đăng ký khai sinh")
    _, service_layer = await complete(services, code, ratings(staff_1=1, result_1=2),
                                      comment="Cán bộ thái độ kém, gọi tôi 0912345678", service_code="KS01")
    [case] = await case_rows(services)
    assert case.items == [
        {"kind": "rating", "code": "staff_1", "text": "Lịch sự, tôn trọng", "value": 1, "label": "Rất không hài lòng"},
        {"kind": "rating", "code": "result_1", "text": "Trả kết quả đúng hẹn", "value": 2, "label": "Không hài lòng"}]
    assert case.comment == "Cán bộ thái độ kém, gọi tôi [số điện thoại]"
    assert (case.status, case.sensitive, case.escalation) == ("new", False, 0)
    assert (case.opened_on, case.due_on) == (TODAY, dt.date(2026, 11, 27))  # Friday + 5 working days
    # Hidden while the citizen may still add to the comment: the next message goes into the case as well.
    assert await case_access.list_cases_in(services, ADMIN, TODAY) == []
    await service_layer.handle("telegram", 1, ev.Text("email tôi a.b@gmail.com"), now=NOW)
    await sweep(services, NOW + dt.timedelta(minutes=5))
    assert await case_access.list_cases_in(services, ADMIN, TODAY) == []  # the comment window is still open
    await sweep(services, NOW + dt.timedelta(minutes=10))
    [view] = await case_access.list_cases_in(services, ADMIN, TODAY)
    assert (view.id, view.centre, view.service, view.status_label()) == (case.id, "DH", "Đăng ký khai sinh", "mới")
    assert view.comment == "Cán bộ thái độ kém, gọi tôi [số điện thoại]\nemail tôi [email]"
    [row] = await case_rows(services)
    assert row.response_id is None  # published: no way back to the response


async def test_all_fours_and_fives_open_no_case_even_with_a_comment(services):
    code = await add_centre(services)
    await complete(services, code, ["4", "5"] * 8, comment="Mọi thứ tốt")
    assert await case_rows(services) == []


async def test_a_harassment_report_alone_opens_one_sensitive_case_for_the_head_and_the_admin_only(services):
    code = await add_centre(services)
    await complete(services, code, ALL_FIVE, harassment="2")
    await sweep(services, NOW + dt.timedelta(minutes=5))
    [case] = await case_rows(services)
    assert case.sensitive and case.items == [{
        "kind": "report", "code": "harassment", "text": "Phiền hà, sách nhiễu", "value": 2,
        "label": "Có một số công chức gây phiền hà, sách nhiễu cho người dân"}]
    head, staff, viewer = (case_access.scope_of(Caller(1, role, "DH")) for role in ("head", "staff", "viewer"))
    assert [v.id for v in await case_access.list_cases_in(services, head, TODAY)] == [case.id]
    assert [v.id for v in await case_access.list_cases_in(services, ADMIN, TODAY)] == [case.id]
    assert await case_access.list_cases_in(services, staff, TODAY) == []
    assert await case_access.list_cases_in(services, viewer, TODAY) == []
    async with services.db.reading() as session:
        assert await case_access.open_counts(session, head, today=dt.date(2026, 11, 30)) == {
            "DH": {"open": 1, "overdue": 1}}  # due 27/11
        assert await case_access.open_counts(session, staff, today=TODAY) == {}
    async with services.db.reading() as session:
        with pytest.raises(NotFound) as unknown:  # not "forbidden": a staff key cannot learn that it exists
            await case_access.case_detail(session, staff, case.id, today=TODAY)
    assert str(unknown.value).startswith(f"there is no follow-up case {case.id}")


async def test_a_payment_report_and_a_low_rating_make_one_sensitive_case(services):
    code = await add_centre(services)
    await complete(services, code, ratings(procedure_3=2), payment="3")
    [case] = await case_rows(services)
    assert case.sensitive and [(i["kind"], i["code"], i["value"]) for i in case.items] == [
        ("rating", "procedure_3", 2), ("report", "informal_payment", 3)]


async def test_the_case_holds_nothing_that_identifies_the_citizen(services):
    code = await add_centre(services)
    issued, _ = await complete(services, code, ratings(access_1=1), chat=424242, comment="Chậm")
    async with services.db.reading() as session:
        [response_id] = (await session.scalars(select(Response.id))).all()
        session_ids = (await session.execute(text("SELECT id FROM survey_sessions"))).all()
    assert session_ids == []  # the session is gone; the case never had its id
    for minutes in (5, 10):
        await sweep(services, NOW + dt.timedelta(minutes=minutes))
    async with services.db.reading() as session:
        [row] = [dict(r._mapping) for r in await session.execute(text("SELECT * FROM cases"))]
    assert set(row) == {"id", "centre_id", "service_id", "instrument", "status", "sensitive", "items", "comment",
                        "assignee", "assignee_staff_id", "note", "opened_on", "due_on", "closed_at", "closed_on",
                        "escalation", "response_id"}
    assert row["response_id"] is None and row["closed_at"] is None  # no time of the citizen's, only the day
    identifying = {"424242", issued.token, issued.code, str(issued.id), response_id}
    for column, value in row.items():
        assert not any(secret in str(value) for secret in identifying if len(secret) > 3), column
    assert row["id"] != str(issued.id) and len(row["id"]) == 6


def test_due_dates_count_monday_to_friday_and_the_days_off():
    friday, saturday, wednesday = dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 25)
    assert add_working_days(friday, 5) == dt.date(2026, 11, 27)  # Mon 23, Tue 24, Wed 25, Thu 26, Fri 27
    assert add_working_days(saturday, 5) == dt.date(2026, 11, 27)  # counted from Monday, like Friday's
    assert add_working_days(wednesday, 5) == dt.date(2026, 12, 2)  # Thu 26, Fri 27, Mon 30, Tue 1, Wed 2
    assert add_working_days(friday, 5, {dt.date(2026, 11, 23)}) == dt.date(2026, 11, 30)  # Monday off
    assert add_working_days(friday, 1) == dt.date(2026, 11, 23)


async def test_a_saturday_case_with_a_holiday_is_due_by_the_settings(settings):
    from bot.services import open_services

    custom = settings.model_copy(update={"case_due_working_days": 2, "case_holidays": "2026-11-23"})
    async with open_services(custom) as services:
        code = await add_centre(services)
        await complete(services, code, ratings(access_2=2), now=dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC))
        [case] = await case_rows(services)
    assert (case.opened_on, case.due_on) == (dt.date(2026, 11, 21), dt.date(2026, 11, 25))  # Tue 24, Wed 25


async def test_moves_follow_new_in_progress_resolved_and_refuse_the_others(services):
    code = await add_centre(services)
    async with services.db.transaction() as session:
        await directory.add_staff(session, code, "telegram", "777", "staff", "Nguyễn Thị Lan")
    await complete(services, code, ratings(staff_2=1))
    await sweep(services, NOW + dt.timedelta(minutes=5))
    [case] = await case_rows(services)
    staff = case_access.scope_of(Caller(1, "staff", "DH"))
    viewer = case_access.scope_of(Caller(2, "viewer", "DH"))

    async def move(scope, action, **values):
        async with services.db.transaction() as session:
            return await case_access.move_case(session, scope, case.id.lower(), action, now=NOW, today=TODAY,
                                               **values)

    with pytest.raises(case_access.Forbidden):
        await move(viewer, "start")
    with pytest.raises(UserError, match="has not been started"):
        await move(staff, "resolve", note="Đã gọi lại")
    view = await move(staff, "assign", assignee="nguyễn thị lan")
    assert (view.assignee, view.status) == ("Nguyễn Thị Lan", "new")  # the staff member's name as registered
    assert (await case_rows(services))[0].assignee_staff_id is not None
    assert (await move(staff, "start")).status_label() == "đang xử lý"
    with pytest.raises(UserError, match="in progress already"):
        await move(staff, "start")
    with pytest.raises(UserError, match="say what was done"):
        await move(staff, "resolve", note="   ")
    view = await move(staff, "resolve", note="Đã nhắc nhở cán bộ, xin lỗi người dân qua bảng tin")
    assert (view.status_label(), view.closed_on, view.note) == ("đã xử lý", TODAY,
                                                               "Đã nhắc nhở cán bộ, xin lỗi người dân qua bảng tin")
    with pytest.raises(UserError, match="resolved already"):
        await move(staff, "assign", assignee="Ai đó")
    other = case_access.scope_of(Caller(3, "staff", "OTHER"))
    with pytest.raises(NotFound):
        await move(other, "start")
    async with services.db.reading() as session:
        with pytest.raises(case_access.Forbidden):
            await case_access.list_cases(session, other, today=TODAY, centre="dh")


async def test_the_cli_lists_shows_and_moves_cases_and_says_what_is_wrong(services, cli):
    code = await add_centre(services)
    await complete(services, code, ratings(result_3=2), comment="Gọi 0912 345 678")
    await SurveyService(services).expire_abandoned(now=NOW + dt.timedelta(minutes=5))
    await SurveyService(services).expire_abandoned(now=NOW + dt.timedelta(minutes=10))
    [case] = await case_rows(services)
    status, out, _ = cli("case", "list", "--centre", "dh")
    assert status == 0 and out.splitlines()[1].split()[:4] == [case.id, "DH", "new", "20/11/2026"]
    assert "[overdue]" in out  # 27/11/2026 has passed on the machine's clock
    assert cli("case", "list", "--status", "resolved")[1].strip() == "No follow-up cases."
    status, _, err = cli("case", "list", "--status", "closed")
    assert status == 1 and "there is no status 'closed'; choose one of: new, in_progress, resolved" in err
    status, out, _ = cli("case", "show", case.id, env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert status == 0 and out.splitlines() == [
        f"Phản hồi {case.id} – Trung tâm Một cửa phường Đông Hà", "Dịch vụ: không rõ", "Trạng thái: mới",
        "Ngày mở: 20/11/2026   Hạn xử lý: 27/11/2026 (quá hạn)", "Người xử lý: -", "Tiêu chí bị đánh giá thấp:",
        "• Công bằng: 2/5 (Không hài lòng)", "Ý kiến: “Gọi [số điện thoại]”"]
    status, _, err = cli("case", "show", "ZZZZZZ")
    assert status == 1 and err.startswith("Error: there is no follow-up case ZZZZZZ")
    status, _, err = cli("case", "resolve", case.id, "--note", "Đã xử lý")
    assert status == 1 and f"first run: sipas-bot case start {case.id}" in err
    assigned = cli("case", "assign", case.id, "Trần Văn Minh")[1].strip()
    assert assigned == f"Case {case.id}: new, handled by: Trần Văn Minh"
    assert cli("case", "start", case.id)[1].strip() == f"Case {case.id}: in progress, handled by: Trần Văn Minh"
    status, _, err = cli("case", "start", case.id)
    assert status == 1 and "in progress already" in err
    status, _, err = cli("case", "resolve", case.id, "--note", "")
    assert status == 1 and "say what was done to close the case" in err
    status, out, _ = cli("case", "resolve", case.id, "--note", "Đã liên hệ bộ phận trả kết quả")
    assert status == 0 and "resolved" in out
    status, out, _ = cli("case", "show", case.id)
    assert "Resolved on" in out and "Đã liên hệ bộ phận trả kết quả" in out
    status, _, err = cli("case", "start", case.id)
    assert status == 1 and "resolved already" in err
    status, out, _ = cli("case", "list", "--overdue")
    assert status == 0 and out.strip() == "No follow-up cases."


async def test_a_two_star_zns_rating_opens_a_case_shown_from_the_next_sweep(services):
    from bot.zalo.ratings import record_rating

    code = await add_centre(services)
    async with services.db.transaction() as session:
        [issued] = await invitations.issue(session, services.secret_key, centre=await directory.find_centre(
            session, code), service=None, survey="zns-rating", now=NOW)
    assert await record_rating(services, msg_id=None, tracking_id=str(issued.id), rate=2,
                               note="Chờ lâu, gọi 0912345678", feedbacks=None, submitted_at=NOW) == "stored"
    assert await case_access.list_cases_in(services, ADMIN, TODAY) == []
    await sweep(services, NOW + dt.timedelta(minutes=5))
    [view] = await case_access.list_cases_in(services, ADMIN, TODAY)
    assert view.items == [{"kind": "rating", "code": "overall_1", "text": "Số sao", "value": 2,
                           "label": "2 sao – Không hài lòng"}]
    assert view.comment == "Chờ lâu, gọi [số điện thoại]" and not view.sensitive
