"""A report as an Excel workbook for people: Vietnamese headers, numbers rounded to 2 decimals, and the chart.

Sheets: "Tổng hợp" (one row per group), "Yếu tố" (element indices), "Tiêu chí" (one row per group and criterion,
groups with enough answers only), "Tham gia" (invitations, where there are any), "Ưu tiên cải thiện" (per group and
criterion: the SIPAS points reaching the benchmark adds, and the key driver, `bot.reports.priority`) and "Biểu đồ"
(the league table drawn by `bot.reports.chart`, embedded as a picture).
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.cells import xlsx_text
from bot.reports import cases, compare, ranks
from bot.reports.build import Report
from bot.reports.chart import draw_chart
from bot.reports.render import DIMENSION_HEADERS, FLAGGED_HEADER, NO_SERVICE, ORIGIN_LABELS, suppressed_label
from bot.reports.request import period_label
from bot.reports.rollup import TOTAL_LABEL

SHEETS = ("Tổng hợp", "Yếu tố", "Tiêu chí", "Tham gia", "Ưu tiên cải thiện", "Chất lượng dữ liệu", "Biểu đồ")
NAME_HEADERS = {"centre": "Tên trung tâm", "service": "Tên dịch vụ", "parent": "Tên trung tâm cấp trên"}
SUMMARY = ["Số phiếu", "Chỉ số SIPAS", "Cận dưới", "Cận trên", "Không có đánh giá không hài lòng (%)",
           "Không có đánh giá không hài lòng: cận dưới", "Không có đánh giá không hài lòng: cận trên", "Ghi chú",
           FLAGGED_HEADER]
TARGET = ["Mục tiêu SIPAS", "Còn cách mục tiêu", "Khả năng đã vượt mục tiêu (%)"]  # only when a row has one
ELEMENT_TARGET = ["mục tiêu", "còn cách mục tiêu", "khả năng đã vượt mục tiêu (%)"]  # "Yếu tố", after the indices
PRIORITY = ["Thứ tự ưu tiên", "Mã tiêu chí", "Tiêu chí", "Hài lòng (%)", "Mức so sánh (%)", "So với", "Khoảng cách",
            "Trọng số", "SIPAS tăng thêm", "Tương quan với hài lòng chung (r)", "r: cận dưới", "r: cận trên",
            "Số phiếu tính r"]
BENCHMARK_FROM = {"best": "trung tâm tốt nhất", "target": "mục tiêu"}
CRITERIA = ["Mã tiêu chí", "Tiêu chí", "Yếu tố", "Số câu trả lời", "Hài lòng (%)", "Bình thường (%)",
            "Không hài lòng (%)", "Điểm trung bình", "Cận dưới", "Cận trên"]
QUALITY = ["Số phiếu", "Khảo sát mở (%)", "Phiếu gắn cờ (%)", "Mã tiêu chí", "Tiêu chí", "Tỷ lệ không áp dụng (%)",
           "Tỷ lệ bỏ qua (%)"]
PARTICIPATION = ["Số lời mời", "Đã mở", "Đã bắt đầu", "Đã hoàn thành", "Tỷ lệ phản hồi (%)"]


def write_xlsx(report: Report, path: Path) -> None:
    workbook = Workbook()
    summary = workbook.active
    summary.title = SHEETS[0]
    sheets = [summary, *(workbook.create_sheet(title) for title in SHEETS[1:])]
    keys = _key_headers(report)
    elements = report.elements
    element_names = [report.instrument.elements[e].get("vi") for e in elements]
    aimed = any((row.get("target") or {}).get("sipas") for row in report.rows)
    _header(sheets[0], [*keys, *SUMMARY, *(TARGET if aimed else [])])
    aimed_elements = [e for e in elements if any(((row.get("target") or {}).get("elements") or {}).get(e)
                                                  for row in report.rows)]
    _header(sheets[1], [*keys, "Số phiếu", *(header for name in element_names for header in (
        name, f"{name}: cận dưới", f"{name}: cận trên")), *(f"{report.instrument.elements[e].get('vi')}: {part}"
                                                           for e in aimed_elements for part in ELEMENT_TARGET)])
    _header(sheets[2], [*keys, *CRITERIA])
    _header(sheets[3], [*keys, *PARTICIPATION])
    _header(sheets[4], [*keys, *PRIORITY])
    for row in report.rows:
        key = _key_cells(report, row)
        if row["suppressed"]:
            sheets[0].append([*key, row["n"], None, None, None, None, None, None, suppressed_label(row),
                              row["flagged"]])
            continue
        low, high = row["sipas_ci"] or (None, None)  # none for an instrument that is not SIPAS (zns-rating)
        no_low, no_high = row.get("no_dissatisfied_ci") or (None, None)
        aim_cells = _aim_cells((row.get("target") or {}).get("sipas")) if aimed else []
        sheets[0].append([*key, row["n"], _r(row["sipas"]), _r(low), _r(high), _r(row["no_dissatisfied_pct"]),
                          _r(no_low), _r(no_high), None, row["flagged"], *aim_cells])
        for cells in _priority_rows(report, row):
            sheets[4].append([*key, *cells])
        element_ci = row.get("elements_ci") or {}
        element_aims = (row.get("target") or {}).get("elements") or {}
        sheets[1].append([*key, row["n"], *(_r(value) for e in elements for value in (
            row["elements"][e], *element_ci.get(e, (None, None)))), *(cell for e in aimed_elements
                                                                       for cell in _aim_cells(element_aims.get(e)))])
        for code, measures in row["criteria"].items():
            question = report.instrument.question(code)
            label = question.short.get("vi") if question.short else question.text.get("vi")
            element = report.instrument.elements[question.element].get("vi")
            low, high = measures.get("ci") or (None, None)  # a criterion under min_n shows only its n
            sheets[2].append([*key, code, label, element, measures["n"], _r(measures.get("satisfied_pct")),
                              _r(measures.get("neutral_pct")), _r(measures.get("dissatisfied_pct")),
                              _r(measures.get("mean")), _r(low), _r(high)])
    for row in report.rows:
        part = row["participation"]
        if part:
            sheets[3].append([*_key_cells(report, row), part["issued"], part["opened"], part["started"],
                              part["completed"], _r(part["response_rate"])])
    if not any(row["participation"] for row in report.rows):
        sheets[3].append(["Không có lời mời nào trong kỳ (hoặc báo cáo theo kênh: lời mời không gắn với kênh; hoặc "
                          "chỉ gồm khảo sát mở, phiếu giấy: những phiếu này không có lời mời)."])
    _add_columns(sheets[0], ranks.SHEET_HEADERS, [ranks.rank_cells(row) for row in report.rows])
    if cases.applies(report.request):  # the follow-up cases per centre (bot.reports.cases)
        _add_columns(sheets[0], list(cases.SHEET_HEADERS), [cases.csv_cells(row) for row in report.rows])
    _quality_sheet(report, sheets[5], keys)
    if report.request.compare:  # "So sánh" before the chart: each group's change against its base period
        sheets.insert(6, workbook.create_sheet(compare.SHEET, index=6))
        _header(sheets[6], [*keys, *compare.sheet_headers(element_names)])
        for row in report.rows:
            sheets[6].append([*_key_cells(report, row), *compare.sheet_cells(row, report.request, elements)])
    for sheet in sheets[:-1]:
        _finish(sheet, first_number=len(keys) + 1)
    _chart_sheet(report, sheets[-1])
    workbook.save(path)


def _quality_sheet(report: Report, sheet, keys: list[str]) -> None:
    """Data quality (bot.reports.quality): one line per published group and criterion."""
    _header(sheet, [*keys, *QUALITY])
    for row in report.rows:
        quality = row.get("quality")
        if not quality:
            continue
        for code, shares in quality["criteria"].items():
            question = report.instrument.question(code)
            label = question.short.get("vi") if question.short else question.text.get("vi")
            sheet.append([*_key_cells(report, row), row["n"], _r(quality["open_pct"]), _r(quality["flagged_pct"]), code,
                          label, _r(shares["na_pct"]), _r(shares["skipped_pct"])])


def _key_headers(report: Report) -> list[str]:
    headers = []
    for d in report.request.by:
        headers.append(DIMENSION_HEADERS[d])
        if d in NAME_HEADERS:
            headers.append(NAME_HEADERS[d])
    return [*headers, "Kỳ"]


def _key_cells(report: Report, row: dict) -> list:
    if row.get("total"):  # the province: one label, the other key cells empty
        return [TOTAL_LABEL, *(None for _ in _key_headers(report)[1:-1]), period_label(row["period"], report.request)]
    cells = []
    names = {"centre": report.centre_names, "service": report.service_names, "parent": report.centre_names}
    for d in report.request.by:
        cells.append(ORIGIN_LABELS[row[d]] if d == "origin" else row[d] if row[d] is not None else NO_SERVICE)
        if d in names:
            cells.append(names[d].get(row[d]))
    return [*cells, period_label(row["period"], report.request)]


def _add_columns(sheet, headers: list[str], cells: list[list]) -> None:
    """More columns after the last one of a sheet whose rows are one per report row (in order)."""
    first = sheet.max_column + 1
    for offset, header in enumerate(headers):
        cell = sheet.cell(row=1, column=first + offset, value=header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, values in enumerate(cells, start=2):
        for offset, value in enumerate(values):
            sheet.cell(row=index, column=first + offset, value=value)


def _priority_rows(report: Report, row: dict) -> list[list]:
    """A published group's criteria with valid answers: the priorities first (by gain), then the others (at or
    above their benchmark: no gap), each with its key driver."""
    if row["priority"] is None:
        return []
    ranked = {item["code"]: (rank, item) for rank, item in enumerate(row["priority"], start=1)}
    drivers = row.get("drivers") or {}
    measured = [code for code, m in row["criteria"].items() if m.get("satisfied_pct") is not None]
    weight = 1 / max(1, sum((m.get("n") or 0) > 0 for m in row["criteria"].values()))  # 1/k, as in SIPAS
    out = []
    for code in sorted(measured, key=lambda c: ranked[c][0] if c in ranked else len(ranked) + 1):
        rank, item = ranked.get(code, (None, None))
        question = report.instrument.question(code)
        label = question.short.get("vi") if question.short else question.text.get("vi")
        driver = drivers.get(code) or {}
        low, high = driver.get("ci") or (None, None)
        share = row["criteria"][code]["satisfied_pct"]
        out.append([rank, code, label, _r(share), _r(item["benchmark"]) if item else None,
                    BENCHMARK_FROM[item["benchmark_from"]] if item else None, _r(item["gap"]) if item else 0.0,
                    round(weight, 4), _r(item["gain"]) if item else 0.0, _r(driver.get("r")),
                    _r(low), _r(high), driver.get("n")])
    return out


def _header(sheet, headers: list[str]) -> None:
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def _finish(sheet, first_number: int) -> None:
    """Two decimals on every number, texts never formulas, and columns wide enough for their headers."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            xlsx_text(cell)  # a centre or service called "=..." is its name, not a formula
    for column in sheet.iter_cols(min_row=2, min_col=first_number):
        for cell in column:
            if isinstance(cell.value, float):
                cell.number_format = "0.00"
    for index, cell in enumerate(sheet[1], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(45, len(str(cell.value or "")) + 2))


def _chart_sheet(report: Report, sheet) -> None:
    buffer = io.BytesIO()
    if not draw_chart(report, buffer):
        sheet["A1"] = "Không có dữ liệu để vẽ biểu đồ."
        return
    buffer.seek(0)
    sheet.add_image(Image(buffer), "A1")


def _aim_cells(aim: dict | None) -> list:
    """A target's cells: the target, the gap to it, the probability (%) that it is passed already."""
    aim = aim or {}
    return [aim.get("target"), _r(aim.get("gap")), _r(100 * aim["p_above"]) if aim.get("p_above") is not None else None]


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
