"""A report as text: the terminal table (Vietnamese, decimal comma), CSV and JSON.

CSV is the machine export: the JSON keys as headers, a decimal point, numbers rounded to 2 decimals, one row per
group with the criteria spread into columns. The spreadsheet for people is `bot.reports.xlsx`. Origins are codes
(invited, open, paper) in JSON and CSV and Vietnamese labels for people; a group's "flagged" is how many of its n
responses are flagged (a column of the table only when the report counts some).
"""

from __future__ import annotations

import csv
import io
import json

from bot.cells import csv_text
from bot.reports import cases, compare, ranks
from bot.reports.act_columns import act_cells, act_headers
from bot.reports.build import CRITERION_MEASURES, Report
from bot.reports.priority import TOP, criterion_label
from bot.reports.request import PARTICIPATION, period_label
from bot.reports.rollup import TOTAL_LABEL

SUPPRESSED = "chưa đủ mẫu"
# A group withheld although it has enough responses: with the total another report publishes, it would give a
# suppressed group away by subtraction (bot.reports.suppression); and a figure withheld inside a published group.
COMPLEMENTARY = "ẩn để bảo vệ"
WITHHELD = "ẩn"
DIMENSION_HEADERS = {"centre": "Trung tâm", "service": "Dịch vụ", "channel": "Kênh", "origin": "Nguồn phiếu",
                     "parent": "Trung tâm cấp trên"}
TARGET_HEADER = "Mục tiêu"
WEIGHTED_NOTE = ("Có trọng số theo số lời mời đã phát của từng trung tâm và dịch vụ trong kỳ (--weight volume); "
                 "số phiếu vẫn là số phiếu thực nhận.")
ORIGIN_LABELS = {"invited": "Theo lời mời", "open": "Khảo sát mở", "paper": "Phiếu giấy"}
FLAGGED_HEADER = "Phiếu gắn cờ"
# Short element names for narrow columns; other instruments' elements fall back to their own Vietnamese name.
ELEMENT_SHORT = {"access": "Tiếp cận", "procedure": "Thủ tục", "staff": "Công chức", "result": "Kết quả",
                 "feedback": "Góp ý"}
NO_SERVICE = "(không ghi)"
QUALITY_COLUMNS = ("open_pct", "flagged_pct")  # data quality (bot.reports.quality), in CSV columns as in JSON
QUALITY_CRITERION = ("na_pct", "skipped_pct")
_NAME_WIDTH = 40


def vi_number(value: float | None, digits: int = 2, none: str = "–") -> str:
    """83.9412 → "83,94"; 1234 (digits=0) → "1.234": Vietnamese separators."""
    if value is None:
        return none
    text = f"{value:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def element_header(report: Report, element: str) -> str:
    return ELEMENT_SHORT.get(element) or report.instrument.elements[element].get("vi")


def key_label(report: Report, dimension: str, value: str | None, width: int | None = _NAME_WIDTH) -> str:
    """How a group key reads for people: centre "CODE Tên", service code, channel name, origin label."""
    if value is None:
        return NO_SERVICE
    if dimension == "origin":
        return ORIGIN_LABELS[value]
    if dimension not in ("centre", "parent"):
        return value
    name = report.centre_names.get(value)
    text = f"{value} {name}" if name else value
    if width is None or len(text) <= width:
        return text
    # Centre names share their beginning ("Trung tâm Phục vụ hành chính công ..."): keep both ends.
    head = width // 3
    return text[:head] + "…" + text[len(text) - (width - head - 1):]


def render_table(report: Report) -> str:
    if not report.sipas:
        return _criteria_table(report)
    elements = report.elements
    flagged = bool(report.flagged_included)  # the column only when there is something to look at
    aimed = any((row.get("target") or {}).get("sipas") for row in report.rows)  # the same for targets
    headers = [*(DIMENSION_HEADERS[d] for d in report.request.by), "Kỳ", "Số phiếu", *([FLAGGED_HEADER] if flagged
                                                                                        else []),
               "SIPAS (KTC 95%)", *(["Thay đổi"] if report.request.compare else []), ranks.HEADER,
               *(element_header(report, e) for e in elements), *([TARGET_HEADER] if aimed else [])]
    trend = (1 if report.request.compare else 0) + 1  # the change and rank columns after SIPAS
    lines, notes = [], []
    for row in report.rows:
        cells = row_keys(report, row)
        cells += [period_label(row["period"], report.request), vi_number(row["n"], 0)]
        cells += [vi_number(row["flagged"], 0)] if flagged else []
        if row["suppressed"]:
            cells += [suppressed_label(row), *("–" for _ in range(trend)), *("–" for _ in elements)]
        else:
            withheld = row.get("withheld") or {"sipas": False, "elements": []}
            low, high = row["sipas_ci"] or (None, None)
            interval = f" ({vi_number(low)}–{vi_number(high)})" if low is not None else ""
            cells += [WITHHELD if withheld["sipas"] else vi_number(row["sipas"]) + interval,
                      *([compare.change_cell(row)] if trend > 1 else []), ranks.rank_cell(row),
                      *(WITHHELD if e in withheld["elements"] else vi_number(row["elements"][e]) for e in elements)]
        cells += [target_text((row.get("target") or {}).get("sipas"))] if aimed else []
        lines.append(cells)
        notes.append([note for note in (priority_text(report, row.get("priority")),
                                        element_targets_text(report, row)) if note])
    left = len(report.request.by) + 1  # text columns; the numbers are right-aligned
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *lines, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    suppressed = sum(row.get("suppressed_reason") != "complementary" and row["suppressed"] for row in report.rows)
    complementary = sum(row.get("suppressed_reason") == "complementary" for row in report.rows)
    out = [line(headers), "  ".join("-" * w for w in widths)]
    for cells, under in zip(lines, notes, strict=True):
        out += [line(cells), *under]
    out.append("")
    out.append(f"Khảo sát {report.request.survey}: {vi_number(len(report.rows), 0)} nhóm, "
               f"{vi_number(suppressed, 0)} nhóm chưa đủ mẫu (dưới {report.request.min_n} phiếu)"
               + (f", {vi_number(complementary, 0)} nhóm {COMPLEMENTARY}." if complementary else "."))
    out.append("Chỉ số = % câu trả lời hài lòng (4–5); trong ngoặc: khoảng tin cậy 95%. "
               "Xếp theo cận dưới của khoảng tin cậy, trong từng kỳ.")
    out.append(ranks.FOOTNOTE)
    if report.request.weight:
        out.append(WEIGHTED_NOTE)
    if report.request.compare:
        out.append(compare.footnote(report.request))
    if complementary or any((row.get("withheld") or {}).get("sipas") or (row.get("withheld") or {}).get("elements")
                            for row in report.rows):
        out.append(f"“{WITHHELD}”: không công bố, vì từ số liệu này và các tổng đã công bố có thể suy ra một nhóm "
                   "hoặc tiêu chí chưa đủ mẫu.")
    return "\n".join(out)


def row_keys(report: Report, row: dict) -> list[str]:
    """The key cells of a row for people; the province total reads "Toàn tỉnh"."""
    if row.get("total"):
        return [TOTAL_LABEL, *("" for _ in report.request.by[1:])]
    return [key_label(report, d, row[d]) for d in report.request.by]


def priority_text(report: Report, priority: list[dict] | None) -> str | None:
    """The line under a group, each criterion by its short question text (a head of unit reads what to fix, not a
    code): "  Ưu tiên cải thiện: Thời hạn giải quyết (+1,20 điểm SIPAS); Lịch sự, tôn trọng (+0,80)"."""
    if not priority:
        return None

    def label(item: dict) -> str:
        short = report.instrument.question(item["code"]).short
        return (short or {}).get("vi") or criterion_label(item["code"], ELEMENT_SHORT.get(item["element"]))

    parts = [f"{label(item)} (+{vi_number(item['gain'])}" + (" điểm SIPAS)" if i == 0 else ")")
             for i, item in enumerate(priority[:TOP])]
    return "  Ưu tiên cải thiện: " + "; ".join(parts)  # "; ": short texts have commas of their own


def element_targets_text(report: Report, row: dict) -> str | None:
    """The line under a group with element targets: "  Mục tiêu yếu tố: Công chức 90 (còn 23,3; 4%)"."""
    aims = ((row.get("target") or {}).get("elements")) or {}
    if row["suppressed"] or not aims:
        return None
    parts = [f"{ELEMENT_SHORT.get(e) or report.instrument.elements[e].get('vi')} {target_text(aims[e])}"
             for e in report.elements if aims.get(e)]  # None: the element is withheld, and its gap with it
    return "  Mục tiêu yếu tố: " + "; ".join(parts) if parts else None


def target_text(aim: dict | None) -> str:
    """A target cell: "90 (còn 3,2; 18%)": the target, the gap to it (or by how much it is passed), and the
    probability that the centre is above it already."""
    if not aim:
        return "–"
    target = vi_number(aim["target"], 0 if float(aim["target"]).is_integer() else 1)
    if aim["gap"] is None:
        return target
    gap = aim["gap"]
    where = f"còn {vi_number(gap, 1)}" if round(gap, 1) > 0 else f"vượt {vi_number(-gap, 1)}" if round(gap, 1) < 0 \
        else "đạt"
    chance = f"; {vi_number(100 * aim['p_above'], 0)}%" if aim["p_above"] is not None else ""
    return f"{target} ({where}{chance})"


def _criteria_table(report: Report) -> str:
    """The table of an instrument that is not SIPAS (zns-rating): each criterion's satisfied share and mean."""
    codes = list(report.instrument.criteria())
    headers = [*(DIMENSION_HEADERS[d] for d in report.request.by), "Kỳ", "Số phiếu"]
    for code in codes:
        question = report.instrument.question(code)
        label = question.short.get("vi") if question.short else code
        headers += [f"{label}: hài lòng % (KTC 95%)", f"{label}: điểm TB"]
    lines = []
    for row in report.rows:
        cells = row_keys(report, row)
        cells += [period_label(row["period"], report.request), vi_number(row["n"], 0)]
        for code in codes:
            measures = (row["criteria"] or {}).get(code)
            if row["suppressed"] or not measures or measures.get("suppressed"):
                shown = suppressed_label(row) if row["suppressed"] else WITHHELD if measures and measures["n"] else "–"
                cells += [shown, "–"]
                continue
            low, high = measures["ci"]
            interval = f" ({vi_number(low)}–{vi_number(high)})" if low is not None else ""
            cells += [vi_number(measures["satisfied_pct"]) + interval, vi_number(measures["mean"])]
        lines.append(cells)
    left = len(report.request.by) + 1
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *lines, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)] + [line(cells) for cells in lines]
    out += ["", f"Khảo sát {report.request.survey}: {vi_number(len(report.rows), 0)} nhóm. Không phải chỉ số SIPAS: "
            "hài lòng % = tỷ lệ đánh giá 4–5 sao; điểm TB = số sao trung bình (1–5)."]
    return "\n".join(out)


def suppressed_label(row: dict) -> str:
    """Why a suppressed group shows only its n, for people."""
    return COMPLEMENTARY if row.get("suppressed_reason") == "complementary" else SUPPRESSED


def render_json(report: Report) -> str:
    return json.dumps(report.as_json(), ensure_ascii=False, indent=2, allow_nan=False)


def flat_rows(report: Report) -> tuple[list[str], list[list]]:
    """The CSV table: headers and one list per group, numbers rounded to 2 decimals."""
    by = report.request.by
    codes = list(report.instrument.criteria())
    headers = [*by, *(f"{d}_name" for d in by if d in ("centre", "service", "parent")), "period", "n", "suppressed",
               "sipas", "sipas_low", "sipas_high", "no_dissatisfied_pct", "no_dissatisfied_low", "no_dissatisfied_high",
               *report.elements, *(f"{e}_{end}" for e in report.elements for end in ("low", "high")),
               *PARTICIPATION, "response_rate_pct", "flagged",
               *(f"{c}_{m}" for c in codes for m in (*CRITERION_MEASURES, "ci_low", "ci_high")),
               *ranks.CSV_HEADERS, *(compare.csv_headers(report.elements) if report.request.compare else []),
               *act_headers(report),
               "suppressed_reason", *QUALITY_COLUMNS, *(f"{c}_{m}" for c in codes for m in QUALITY_CRITERION),
               *(cases.CSV_HEADERS if cases.applies(report.request) else ())]
    names = {"centre": report.centre_names, "service": report.service_names, "parent": report.centre_names}
    table = []
    for row in report.rows:
        ci = row["sipas_ci"] or [None, None]
        part = row["participation"] or {}
        cells = [row[d] for d in by] + [names[d].get(row[d]) for d in by if d in names]
        cells += [row["period"], row["n"], "true" if row["suppressed"] else "false", _r(row["sipas"]), _r(ci[0]),
                  _r(ci[1]), _r(row["no_dissatisfied_pct"])]
        cells += [_r(end) for end in row.get("no_dissatisfied_ci") or [None, None]]
        cells += [_r((row["elements"] or {}).get(e)) for e in report.elements]
        cells += [_r(end) for e in report.elements for end in (row.get("elements_ci") or {}).get(e, [None, None])]
        cells += [part.get(k) for k in PARTICIPATION]
        cells.append(_r(part["response_rate"]) if part else None)
        cells.append(row["flagged"])
        for code in codes:
            measures = (row["criteria"] or {}).get(code) or {}
            ci = measures.get("ci") or [None, None]
            cells += [measures.get("n"), *(_r(measures.get(m)) for m in CRITERION_MEASURES[1:]), _r(ci[0]),
                      _r(ci[1])]
        cells += ranks.rank_cells(row)
        cells += compare.csv_cells(row, report.elements) if report.request.compare else []
        cells += act_cells(report, row)
        quality = row.get("quality") or {}
        cells += [row.get("suppressed_reason"), *(_r(quality.get(k)) for k in QUALITY_COLUMNS)]
        cells += [_r(((quality.get("criteria") or {}).get(c) or {}).get(m)) for c in codes for m in QUALITY_CRITERION]
        cells += cases.csv_cells(row) if cases.applies(report.request) else []
        table.append(cells)
    return headers, table


def render_csv(report: Report) -> str:
    headers, table = flat_rows(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else csv_text(v) for v in cells] for cells in table])
    return buffer.getvalue()


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
