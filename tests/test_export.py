"""`sipas-bot export responses`, run as a real process: the wide file re-imports into an empty database with the
same measures (CSV and XLSX), the codebook, the date filter, the open_survey and flagged columns and
--exclude-flagged, and bad input that writes nothing."""

import csv
import datetime as dt
import io
import json
import random
from concurrent.futures import ThreadPoolExecutor

import openpyxl
import pandas as pd

from bot.config import Settings
from bot.paper.checks import wide_columns
from bot.reports.dataset import load_ratings
from bot.services import open_services
from bot.storage.responses import build_response
from bot.survey import directory
from surveys.scoring import score

SURVEY = "sipas-2023"
BOM = b"\xef\xbb\xbf"
FORMULA = '=HYPERLINK("http://x.example","bấm vào đây")'


def database_env(settings) -> dict:
    if not settings.database_url:
        return {}
    return {"SIPAS_DATABASE_URL": settings.database_url, "SIPAS_SECRET_KEY": settings.secret_key.get_secret_value()}


async def seed_directory(services) -> dict[str, int]:
    async with services.db.transaction() as session:
        hue = await directory.add_centre(session, "HUE01", "Trung tâm Phục vụ hành chính công tỉnh Huế")
        danang = await directory.add_centre(session, "DN02", "Trung tâm Phục vụ hành chính công Đà Nẵng")
        service = await directory.add_service(session, "HT01", "Đăng ký khai sinh")
    return {"HUE01": hue.id, "DN02": danang.id, "HT01": service.id}


def chat_answers(instrument, rng: random.Random) -> dict:
    """Answers as the engine records them: ratings, NA where allowed, skipped (None) or not shown (no entry)."""
    answers = {}
    for question in instrument.questions(frozenset({"expectations"}) if rng.random() < 0.3 else None):
        if question.type == "text":
            continue
        draw = rng.random()
        if draw < 0.1:
            continue  # not shown
        if draw < 0.2:
            answers[question.code] = None
        elif draw < 0.35 and question.allow_na:
            answers[question.code] = "NA"
        else:
            answers[question.code] = rng.choice(question.option_values())
    return answers


async def seed_responses(services) -> int:
    ids = await seed_directory(services)
    instrument = services.instrument(SURVEY)
    rng = random.Random(7)
    comments = [None, FORMULA, "- Nhân viên chu đáo,\nphòng chờ mát", "Gọi tôi 0912 345 678 nhé", "+1 tốt"]
    async with services.db.transaction() as session:
        for i in range(45):
            session.add(build_response(
                instrument, {**chat_answers(instrument, rng), "comment": comments[i % len(comments)]},
                centre_id=ids["HUE01" if i % 3 else "DN02"], service_id=ids["HT01"] if i % 2 else None,
                channel="telegram", submitted_on=dt.date(2024, 4, 1) + dt.timedelta(days=2 * i)))
    return 45


def csv_rows(path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(BOM)  # so that Excel reads the Vietnamese text as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def measures(settings: Settings):
    async with open_services(settings) as services, services.db.reading() as session:
        instrument = services.instrument(SURVEY)
        frame = await load_ratings(session, instrument)
    return score(frame, instrument.criteria(), by=["centre", "service"], min_n=0)


async def fresh_copy(tmp_path, name: str) -> tuple[Settings, dict]:
    settings = Settings(data_dir=tmp_path / name, _env_file=None)
    async with open_services(settings) as services:
        await seed_directory(services)
    return settings, {"SIPAS_DATA_DIR": str(settings.data_dir), "SIPAS_DATABASE_URL": ""}


def assert_same_measures(first, second) -> None:
    for table in ("groups", "elements", "criteria"):
        pd.testing.assert_frame_equal(getattr(first, table), getattr(second, table))


async def test_export_reimports_into_an_empty_database_with_the_same_measures(services, cli, settings, tmp_path):
    total = await seed_responses(services)
    (tmp_path / "out").mkdir()
    env = database_env(settings)
    code, out, err = cli("export", "responses", "--survey", SURVEY, "-o", "out/all.csv", env=env)
    assert (code, err) == (0, "")
    assert out == f"exported {total} {SURVEY} responses to out/all.csv (codebook in out/all.codebook.csv)\n"
    rows = csv_rows(tmp_path / "out/all.csv")
    instrument = services.instrument(SURVEY)
    assert rows[0] == [*wide_columns(instrument), "open_survey", "flagged"] and len(rows) == total + 1
    assert {tuple(row[-2:]) for row in rows[1:]} == {("false", "false")}  # chat responses, none flagged
    comments = {row[-3] for row in rows[1:]}
    assert {"'" + FORMULA, "'- Nhân viên chu đáo,\nphòng chờ mát", "Gọi tôi [số điện thoại] nhé", "'+1 tốt",
            ""} == comments  # a leading = + - @ is guarded against spreadsheet formulas
    cells = {cell for row in rows[1:] for cell in row[3:-3]}
    assert cells <= {"", "NA", "1", "2", "3", "4", "5"} and "NA" in cells

    fresh, fresh_env = await fresh_copy(tmp_path, "fresh")
    code, out, err = cli("import", "out/all.csv", "--survey", SURVEY, env=fresh_env)
    assert (code, out) == (
        0, f"imported {total} responses to {SURVEY} from out/all.csv (0 rows skipped; batch 1)\n"), err
    original = await measures(settings)
    assert_same_measures(original, await measures(fresh))
    code, _, err = cli("export", "responses", "--survey", SURVEY, "-o", "out/again.csv", env=fresh_env)
    assert code == 0, err
    again = csv_rows(tmp_path / "out/again.csv")
    assert again[0] == rows[0] and sorted(again[1:]) == sorted(rows[1:])
    assert (tmp_path / "out/again.codebook.csv").read_bytes() == (tmp_path / "out/all.codebook.csv").read_bytes()

    code, out, err = cli("export", "responses", "-o", "out/all.xlsx", env=env)  # the default survey
    assert (code, err) == (0, "")
    assert out == f'exported {total} {SURVEY} responses to out/all.xlsx (codebook in the sheet "codebook")\n'
    book = openpyxl.load_workbook(tmp_path / "out/all.xlsx")
    assert book.sheetnames == ["responses", "codebook"]
    formula_cells = [row[-3] for row in book["responses"].iter_rows(min_row=2) if row[-3].value == FORMULA]
    assert formula_cells and all(cell.data_type == "s" for cell in formula_cells)  # text, never a formula
    book_rows = [["" if v is None else str(v) for v in row] for row in book["codebook"].iter_rows(values_only=True)]
    assert book_rows == csv_rows(tmp_path / "out/all.codebook.csv")
    fresh_xlsx, xlsx_env = await fresh_copy(tmp_path, "fresh-xlsx")
    code, out, err = cli("import", "out/all.xlsx", "--survey", SURVEY, env=xlsx_env)
    assert (code, out) == (
        0, f"imported {total} responses to {SURVEY} from out/all.xlsx (0 rows skipped; batch 1)\n"), err
    assert_same_measures(original, await measures(fresh_xlsx))


async def test_codebook_lists_every_column_question_and_option(services, cli, settings, tmp_path):
    await seed_directory(services)
    code, out, err = cli("export", "responses", "--survey", SURVEY, "-o", "empty.csv", env=database_env(settings))
    assert (code, err) == (0, "")
    assert out == f"exported 0 {SURVEY} responses to empty.csv (codebook in empty.codebook.csv)\n"
    assert csv_rows(tmp_path / "empty.csv") == [[*wide_columns(services.instrument(SURVEY)), "open_survey", "flagged"]]
    book = csv_rows(tmp_path / "empty.codebook.csv")
    assert book[0] == ["code", "type", "element", "question_vi", "question_en", "value", "label_vi", "label_en"]
    body = book[1:]
    # 3 key columns; 29 questions and their options (16 ratings x 5, 4 ratings with NA, 3 choices of 3 options,
    # 10 expectations of 4); the comment; open_survey and flagged with true and false.
    assert len(body) == 3 + 29 + 16 * 5 + 4 + 3 * 3 + 10 * 4 + 1 + 2 * 3
    assert body[0] == ["centre", "key", "", "Mã trung tâm phục vụ hành chính công (xem `sipas-bot centre list`)",
                       "Service centre code (see `sipas-bot centre list`)", "", "", ""]
    assert [row[0] for row in body if row[5] == ""] == [*wide_columns(services.instrument(SURVEY)), "open_survey",
                                                        "flagged"]
    access = [row for row in body if row[0] == "access_1"]
    assert access[0][:3] == ["access_1", "rating", "access"]
    assert access[0][3].startswith("Trung tâm Phục vụ hành chính công có biển hiệu")
    assert access[0][4].startswith("The Public Administrative Service Centre has clear signs")
    assert [row[5:] for row in access[1:]] == [
        ["5", "Rất hài lòng", "Very satisfied"], ["4", "Hài lòng", "Satisfied"], ["3", "Bình thường", "Neutral"],
        ["2", "Không hài lòng", "Dissatisfied"], ["1", "Rất không hài lòng", "Very dissatisfied"]]
    feedback = [row for row in body if row[0] == "feedback_1"]
    assert feedback[-1] == ["feedback_1", "rating", "feedback", "", "", "NA", "Không áp dụng", "Not applicable"]
    harassment = [row for row in body if row[0] == "harassment"]
    assert [row[5] for row in harassment] == ["", "1", "2", "3"] and harassment[0][1:3] == ["choice", ""]
    assert [row[:3] for row in body if row[0] == "comment"] == [["comment", "text", ""]]
    assert [row for row in body if row[0] == "flagged"] == [
        ["flagged", "flag", "",
         "Bị gắn cờ: gửi dồn dập từ cùng một địa chỉ, có thể là gian lận (không dùng khi nhập lại)",
         "Flagged: sent in a burst from one client address, possibly ballot stuffing (ignored on import)", "", "", ""],
        ["flagged", "flag", "", "", "", "true", "Có", "Yes"], ["flagged", "flag", "", "", "", "false", "Không", "No"]]


async def test_date_filter_and_bad_input(services, cli, cli_process, settings, tmp_path):
    await seed_responses(services)
    env = database_env(settings)
    code, out, err = cli_process("export", "responses", "--from", "2024-05-01", "--to", "2024-05-31", "-o", "may.csv",
                         env=env)
    assert code == 0, err
    days = [row[2] for row in csv_rows(tmp_path / "may.csv")[1:]]
    assert days == sorted(days) and days[0] == "2024-05-01" and days[-1] == "2024-05-31" and len(days) == 16
    assert out == f"exported 16 {SURVEY} responses to may.csv (codebook in may.codebook.csv)\n"

    cases = [
        (["--survey", "nope", "-o", "x.csv"], "Error: unknown survey 'nope'; known: sipas-2017, sipas-2023, "
                                              "sipas-quick, zns-rating"),
        (["--from", "2024-13-01", "-o", "x.csv"], "Error: --from must be a date written YYYY-MM-DD, not '2024-13-01'"),
        (["--to", "31/05/2024", "-o", "x.csv"], "Error: --to must be a date written YYYY-MM-DD, not '31/05/2024'"),
        (["--from", "2024-06-01", "--to", "2024-05-01", "-o", "x.csv"],
         "Error: --from 2024-06-01 is after --to 2024-05-01"),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:  # in-process runs that write nothing (they take turns)
        results = list(pool.map(lambda args: cli("export", "responses", *args, env=env), [c[0] for c in cases]))
    assert results == [(1, "", message + "\n") for _, message in cases]
    assert cli_process("export", "responses", *cases[0][0], env=env) == (1, "", cases[0][1] + "\n")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["may.codebook.csv", "may.csv"]


async def test_open_survey_and_flagged_columns_and_exclude_flagged(services, cli, settings, tmp_path):
    ids = await seed_directory(services)
    instrument = services.instrument(SURVEY)
    rng = random.Random(3)
    kinds = [(False, False)] * 5 + [(True, False)] * 3 + [(True, True)] * 2  # (open survey, flagged)
    async with services.db.transaction() as session:
        session.add_all([build_response(instrument, chat_answers(instrument, rng), centre_id=ids["HUE01"],
                                        service_id=None, channel="web" if open_survey else "telegram",
                                        submitted_on=dt.date(2024, 5, 1) + dt.timedelta(days=i),
                                        open_survey=open_survey, flagged=flagged)
                         for i, (open_survey, flagged) in enumerate(kinds)])
    env = database_env(settings)
    code, out, err = cli("export", "responses", "--survey", SURVEY, "-o", "all.csv", env=env)
    assert (code, out) == (0, f"exported 10 {SURVEY} responses to all.csv (codebook in all.codebook.csv)\n")
    assert err == ("Note: the file holds 2 flagged responses (sent in a burst from one client address, possibly "
                   "ballot stuffing; the flagged column is true); --exclude-flagged leaves them out.\n")
    rows = csv_rows(tmp_path / "all.csv")
    assert rows[0][-2:] == ["open_survey", "flagged"]
    assert sorted(tuple(row[-2:]) for row in rows[1:]) == sorted(
        ("true" if o else "false", "true" if f else "false") for o, f in kinds)

    code, out, err = cli("export", "responses", "--survey", SURVEY, "--exclude-flagged", "-o", "clean.xlsx",
                         env={**env, "SIPAS_ADMIN_LANGUAGE": "vi"})
    assert code == 0 and out.startswith(f"đã xuất 8 phiếu trả lời của {SURVEY} ra clean.xlsx")
    assert err == "Đã loại 2 phiếu bị gắn cờ khỏi tệp (--exclude-flagged).\n"
    sheet = list(openpyxl.load_workbook(tmp_path / "clean.xlsx")["responses"].iter_rows(values_only=True))
    assert sheet[0][-2:] == ("open_survey", "flagged") and len(sheet) == 9
    assert sorted(row[-2:] for row in sheet[1:]) == [("false", "false")] * 5 + [("true", "false")] * 3

    # The importer reads past both columns: an imported response is a paper form, counted like any other.
    fresh, fresh_env = await fresh_copy(tmp_path, "fresh")
    code, out, err = cli("import", "all.csv", "--survey", SURVEY, env=fresh_env)
    assert (code, out) == (0, f"imported 10 responses to {SURVEY} from all.csv (0 rows skipped; batch 1)\n"), err
    assert_same_measures(await measures(settings), await measures(fresh))
    code, out, err = cli("report", "--by", "origin", "--min-n", "1", "--format", "json", env=fresh_env)
    assert code == 0 and err == ""
    assert [(row["origin"], row["n"], row["flagged"]) for row in json.loads(out)["rows"]] == [("paper", 10, 0)]
