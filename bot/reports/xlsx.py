"""A report as an Excel workbook for people: Vietnamese headers, numbers rounded to 2 decimals, and the chart.

Sheets: "Tổng hợp" (one row per group), "Yếu tố" (element indices), "Tiêu chí" (one row per group and criterion,
groups with enough answers only), "Tham gia" (invitations, where there are any) and "Biểu đồ" (the league table
drawn by `bot.reports.chart`, embedded as a picture).
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.cells import xlsx_text
from bot.reports.build import Report
from bot.reports.chart import draw_chart
from bot.reports.render import DIMENSION_HEADERS, FLAGGED_HEADER, NO_SERVICE, ORIGIN_LABELS, suppressed_label
from bot.reports.request import period_label

SHEETS = ("Tổng hợp", "Yếu tố", "Tiêu chí", "Tham gia", "Biểu đồ", "Chất lượng dữ liệu")
NAME_HEADERS = {"centre": "Tên trung tâm", "service": "Tên dịch vụ"}
SUMMARY = ["Số phiếu", "Chỉ số SIPAS", "Cận dưới", "Cận trên", "Không có đánh giá không hài lòng (%)", "Ghi chú",
           FLAGGED_HEADER]
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
    _header(sheets[0], [*keys, *SUMMARY])
    _header(sheets[1], [*keys, "Số phiếu", *element_names])
    _header(sheets[2], [*keys, *CRITERIA])
    _header(sheets[3], [*keys, *PARTICIPATION])
    for row in report.rows:
        key = _key_cells(report, row)
        if row["suppressed"]:
            sheets[0].append([*key, row["n"], None, None, None, None, suppressed_label(row), row["flagged"]])
            continue
        low, high = row["sipas_ci"] or (None, None)  # none for an instrument that is not SIPAS (zns-rating)
        sheets[0].append([*key, row["n"], _r(row["sipas"]), _r(low), _r(high), _r(row["no_dissatisfied_pct"]), None,
                          row["flagged"]])
        sheets[1].append([*key, row["n"], *(_r(row["elements"][e]) for e in elements)])
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
    _quality_sheet(report, sheets[5], keys)
    for sheet in (*sheets[:4], sheets[5]):
        _finish(sheet, first_number=len(keys) + 1)
    _chart_sheet(report, sheets[4])
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
    cells = []
    names = {"centre": report.centre_names, "service": report.service_names}
    for d in report.request.by:
        cells.append(ORIGIN_LABELS[row[d]] if d == "origin" else row[d] if row[d] is not None else NO_SERVICE)
        if d in names:
            cells.append(names[d].get(row[d]))
    return [*cells, period_label(row["period"], report.request)]


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


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
