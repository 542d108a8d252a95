"""Reading a list of services (`sipas-bot service import FILE`): the same CSV and XLSX files as the paper import.

The file is read by `bot.paper.read`, so a UTF-8 CSV with or without a BOM, separated by commas or by the
semicolons Excel writes in a Vietnamese locale, and an XLSX workbook all work. The header row must be
`code,name` or `code,name,field`: a file without it (or with other names, such as `ma,ten`) is refused rather
than read as a service called "MA".
"""

from __future__ import annotations

from bot.errors import UserError
from bot.paper.read import read_table
from bot.survey.directory import normalize_code, normalize_name

HEADERS = (["code", "name"], ["code", "name", "field"])


def read_services(data: bytes, name: str) -> list[tuple[str, str, str | None]]:
    """Rows of (code, name, field); every bad row is listed, and nothing is returned while any is bad."""
    table = read_table(data, name)
    header = list(table.columns)
    while header and header[-1] == "":
        header.pop()
    if header not in HEADERS:
        raise UserError.say("admin.services_bad_header", file=name, found=",".join(table.columns).rstrip(","))
    rows, problems, seen = [], [], set()
    for number, cells in zip(table.index, table.to_numpy(), strict=True):
        if not any(cell != "" for cell in cells):
            continue
        if any(cell != "" for cell in cells[len(header):]):
            problems.append((number, UserError.say("admin.services_row_width", width=len(header))))
            continue
        try:
            code = normalize_code(cells[0], "service code")
            title = normalize_name(cells[1], "service name")
            field = normalize_name(cells[2], "field") if len(header) == 3 and cells[2] else None
        except UserError as error:
            problems.append((number, error))
            continue
        if code in seen:
            problems.append((number, UserError.say("admin.services_row_twice", code=code)))
            continue
        seen.add(code)
        rows.append((code, title, field))
    if problems:
        raise ServiceRowsError(problems)
    if not rows:
        raise UserError.say("admin.services_no_rows")
    return rows


class ServiceRowsError(UserError):
    """Every bad row of a service file, each in the admin's language."""

    def __init__(self, problems: list[tuple[int, UserError]]) -> None:
        self.problems = problems
        super().__init__(self.text("en"))

    def text(self, language: str) -> str:
        from bot.texts import say

        lines = [say("admin.services_row", language, row=row, problem=error.text(language))
                 for row, error in self.problems]
        return say("admin.services_rows_bad", language, problems="\n  ".join(lines))
