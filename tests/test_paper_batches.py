"""Paper batches (issue 9): `import list`, `import undo`, rows that repeat an earlier batch, comments over the
limit, Excel's serial dates, and a comment that starts with an apostrophe surviving export and import."""

import datetime as dt

import openpyxl
from sqlalchemy import func, select

from bot.storage.models import ImportBatch, Response
from bot.survey import directory

HEADER = "centre,service,submitted_on,access_1,staff_2,comment"
FIRST = [HEADER, "HUE01,HT01,2024-05-01,5,4,Tốt", "HUE01,,2024-05-01,3,3,", "HUE01,HT01,2024-05-02,9,4,"]
CORRECTED = [HEADER, "HUE01,HT01,2024-05-01,5,4,Tốt", "HUE01,,2024-05-01,3,3,", "HUE01,HT01,2024-05-02,2,4,"]


async def seed(services) -> None:
    async with services.db.transaction() as session:
        await directory.add_centre(session, "HUE01", "Trung tâm Phục vụ hành chính công tỉnh Huế")
        await directory.add_service(session, "HT01", "Đăng ký khai sinh")


async def counts(services) -> tuple[int, int]:
    async with services.db.reading() as session:
        return (await session.scalar(select(func.count()).select_from(Response)),
                await session.scalar(select(func.count()).select_from(ImportBatch)))


def write(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path.name


async def test_the_corrected_file_after_skip_invalid_is_refused_naming_the_batch(services, cli, tmp_path):
    await seed(services)
    first, corrected = write(tmp_path / "thang-5.csv", FIRST), write(tmp_path / "thang-5-sua.csv", CORRECTED)
    code, out, err = cli("import", first, "--survey", "sipas-2023", "--skip-invalid")
    assert code == 0 and out == "imported 2 responses to sipas-2023 from thang-5.csv (1 rows skipped; batch 1)\n"

    code, out, err = cli("import", corrected, "--survey", "sipas-2023")
    lines = err.splitlines()
    assert (code, out) == (1, "")
    assert lines[0] == ("Error: nothing was imported: 2 of 3 rows repeat rows imported before (the same centre, "
                        "service, day and answers):")
    assert lines[1].startswith("  rows 2, 3 repeat batch 1 (thang-5.csv, ")
    assert lines[2] == ("  if this is the corrected file of batch 1, remove that batch first (`sipas-bot import "
                        "undo 1`); if these are other forms with the same answers, use --allow-duplicates")
    assert await counts(services) == (2, 1)  # nothing written

    code, out, err = cli("import", "list")
    assert code == 0 and out.splitlines()[1].split()[0] == "1" and out.splitlines()[1].split()[-3:] == [
        "2", "sipas-2023", "thang-5.csv"]
    assert cli("import", "undo", "1") == (0, "removed batch 1 (thang-5.csv): 2 responses\n", "")
    assert await counts(services) == (0, 0)
    code, out, err = cli("import", "--survey", "sipas-2023", corrected)  # options before the file still work
    assert code == 0 and out.startswith("imported 3 responses to sipas-2023 from thang-5-sua.csv"), err
    assert await counts(services) == (3, 1)


async def test_allow_duplicates_and_identical_forms_within_one_file(services, cli, tmp_path):
    await seed(services)
    same = "HUE01,,2024-05-01,5,5,"
    write(tmp_path / "a.csv", [HEADER, same])
    write(tmp_path / "b.csv", [HEADER, same, same, "HUE01,,2024-05-03,4,4,"])
    assert cli("import", "a.csv", "--survey", "sipas-2023")[0] == 0
    code, _, err = cli("import", "b.csv", "--survey", "sipas-2023")
    # Only one of the two identical forms repeats the one stored form: each stored row matches one new row.
    assert code == 1 and "1 of 3 rows repeat" in err and "rows 2 repeat batch 1 (a.csv, " in err
    code, out, err = cli("import", "b.csv", "--survey", "sipas-2023", "--allow-duplicates")
    assert code == 0 and "imported 3 responses" in out and "batch 2" in out, err
    assert await counts(services) == (4, 2)


async def test_undo_and_list_mistakes_change_nothing(services, cli, tmp_path):
    await seed(services)
    assert cli("import", "list") == (0, "no batches imported yet; import one with `sipas-bot import FILE --survey "
                                        "ID`\n", "")
    write(tmp_path / "a.csv", [HEADER, "HUE01,,2024-05-01,5,5,"])
    assert cli("import", "a.csv", "--survey", "sipas-2023")[0] == 0
    assert cli("import", "undo", "7") == (1, "", "Error: there is no batch 7; see `sipas-bot import list`\n")
    assert cli("import", "undo", "abc") == (
        1, "", "Error: 'abc' is not a batch: give the batch's number, as in `sipas-bot import list`\n")
    assert await counts(services) == (1, 1)
    code, out, _ = cli("import", "undo", "1", env={"SIPAS_ADMIN_LANGUAGE": "vi"})
    assert (code, out) == (0, "đã xóa đợt nhập 1 (a.csv): 1 phiếu trả lời\n")


async def test_a_comment_over_the_limit_is_a_problem_or_cut_with_truncate(services, cli, tmp_path):
    await seed(services)
    limit = services.instrument("sipas-2023").question("comment").max_length
    long = "Rất tốt " * (limit // 8 + 5)
    length = len(long.strip())
    write(tmp_path / "long.csv", [HEADER, f"HUE01,,2024-05-01,5,5,{long}", "HUE01,,2024-05-02,4,4,ngắn"])
    code, out, err = cli("import", "long.csv", "--survey", "sipas-2023")
    assert (code, out) == (1, "")
    assert err.splitlines()[1].startswith(
        f'  row 2, column comment, value "Rất tốt Rất tốt Rất tốt Rất tốt Rất tốt…": the comment has {length:,} '
        f"characters, more than the {limit:,} this survey allows; shorten it, or use --truncate to cut it")
    assert await counts(services) == (0, 0)

    code, out, err = cli("import", "long.csv", "--survey", "sipas-2023", "--truncate")
    assert code == 0 and out.startswith("imported 2 responses"), err
    assert err.splitlines() == [
        "1 comments longer than the survey allows were cut (--truncate):",
        f'  row 2, column comment, value "Rất tốt Rất tốt Rất tốt Rất tốt Rất tốt…": the comment has {length:,} '
        f"characters; only the first {limit:,} were imported"]
    async with services.db.reading() as session:
        comments = set((await session.scalars(select(Response.comment))).all())
    assert comments == {long.strip()[:limit].rstrip(), "ngắn"}


async def test_excel_serial_dates_are_dates(services, cli, tmp_path):
    await seed(services)
    write(tmp_path / "serial.csv", ["centre;submitted_on;access_1", "HUE01;45413;5", "HUE01;45414.5;4"])
    book = openpyxl.Workbook()
    book.active.append(["centre", "submitted_on", "access_1"])
    book.active.append(["HUE01", 45415, 3])  # a date cell formatted as General: Excel's serial day
    book.save(tmp_path / "serial.xlsx")
    for name in ("serial.csv", "serial.xlsx"):
        code, _, err = cli("import", name, "--survey", "sipas-2023")
        assert code == 0, err
    async with services.db.reading() as session:
        days = sorted((await session.scalars(select(Response.submitted_on))).all())
    assert days == [dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 5, 3)]


async def test_a_comment_starting_with_an_apostrophe_survives_export_and_import(services, cli, tmp_path):
    await seed(services)
    comments = ["'=x", "'quote", "=SUM(A1)", "-tốt", "'", "bình thường"]
    book = openpyxl.Workbook()
    book.active.append(["centre", "submitted_on", "access_1", "comment"])
    for day, comment in enumerate(comments, start=1):
        cell = openpyxl.cell.Cell(book.active, value=comment)
        cell.data_type = "s"  # as typed: text, not a formula
        book.active.append(["HUE01", f"2024-05-{day:02}", 5, cell])
    book.save(tmp_path / "forms.xlsx")
    out = cli("import", "forms.xlsx", "--survey", "sipas-2023")[1]

    for name in ("out.csv", "out.xlsx"):
        assert cli("export", "responses", "-o", name)[0] == 0
    assert "''=x" in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")  # one apostrophe more in the CSV
    for name in ("out.csv", "out.xlsx"):
        assert cli("import", "undo", out.rsplit("batch ", 1)[1].rstrip(")\n"))[0] == 0
        code, out, err = cli("import", name, "--survey", "sipas-2023")
        assert code == 0, err
        async with services.db.reading() as session:
            again = sorted((await session.scalars(select(Response.comment))).all())
        assert again == sorted(comments), name


async def test_row_problems_and_repeats_in_vietnamese(services, cli, tmp_path):
    await seed(services)
    vi = {"SIPAS_ADMIN_LANGUAGE": "vi"}
    write(tmp_path / "bad.csv", [HEADER, "HUE01,,2024-05-01,6,4,", "HUE9,,2024-05-01,5,4,", "HUE01,,2024-05-02,5,4,"])
    code, out, err = cli("import", "bad.csv", "--survey", "sipas-2023", env=vi)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "Lỗi: chưa nhập gì: 2 trên 3 dòng có lỗi (hãy sửa, hoặc dùng --skip-invalid để nhập 1 dòng còn lại):",
        '  dòng 2, cột access_1, giá trị "6": điểm đánh giá phải là số nguyên từ 1 đến 5',
        '  dòng 3, cột centre, giá trị "HUE9": không có trung tâm với mã này; xem `sipas-bot centre list`']
    code, _, err = cli("import", "bad.csv", "--survey", "sipas-2023", "--skip-invalid", env=vi)
    assert code == 0 and err.splitlines()[0] == "bỏ qua 2 dòng có lỗi:"
    write(tmp_path / "again.csv", [HEADER, "HUE01,,2024-05-02,5,4,"])
    code, _, err = cli("import", "again.csv", "--survey", "sipas-2023", env=vi)
    assert code == 1 and err.splitlines()[0] == (
        "Lỗi: chưa nhập gì: 1 trên 1 dòng trùng với các dòng đã nhập trước đó (cùng trung tâm, dịch vụ, ngày và câu "
        "trả lời):")
    assert err.splitlines()[1].startswith("  các dòng 2 trùng với đợt nhập 1 (bad.csv, ")


async def test_file_problems_in_vietnamese(services, cli, tmp_path):
    await seed(services)
    vi = {"SIPAS_ADMIN_LANGUAGE": "vi"}
    write(tmp_path / "cot.csv", ["centre,ngay,access_1", "HUE01,2024-05-01,5"])
    code, _, err = cli("import", "cot.csv", "--survey", "sipas-quick", env=vi)
    assert code == 1 and err.splitlines()[:2] == [
        "Lỗi: chưa nhập gì; dòng tiêu đề (dòng 1) của cot.csv có lỗi:",
        '  không biết cột "ngay"; các cột của sipas-quick là: centre, service, submitted_on, access_1, '
        "procedure_1, staff_1, result_1, feedback_1, comment"]
    (tmp_path / "cu.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    assert cli("import", "cu.xls", "--survey", "sipas-quick", env=vi) == (
        1, "", 'Lỗi: cu.xls là tệp Excel .xls cũ, không đọc được; trong Excel hãy chọn Save As (Lưu thành) và chọn '
               '"CSV UTF-8 (Comma delimited)" hoặc "Excel Workbook (.xlsx)"\n')
    assert await counts(services) == (0, 0)
