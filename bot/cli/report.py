"""`sipas-bot report`: SIPAS per centre (service, channel, origin) and period, from the stored responses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import cli, number, say, with_services

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.reports.build import Report
    from bot.services import Services


@cli.command("report")
@click.option("--survey", "survey_id", help="Instrument id (default: SIPAS_DEFAULT_SURVEY, sipas-2023).")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day of responses to include.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day of responses to include.")
@click.option("--period", default="all", show_default=True, metavar="week|month|quarter|year|all",
              help="One row per group and ISO week, month, quarter or year, or one for the whole range.")
@click.option("--by", default="centre", show_default=True, metavar="centre,service,channel,origin,parent",
              help="Group by these, comma-separated; origin: invited, open (open survey) or paper; parent: the top "
                   "centre a centre reports to (itself without a parent), its children's responses rolled up.")
@click.option("--total", is_flag=True, help="Also one row per period over every response (\"Toàn tỉnh\").")
@click.option("--weight", metavar="volume", help="volume: weight the responses of each centre and service by the "
              "invitations issued there (the transaction mix) instead of counting each response once.")
@click.option("--origin", metavar="invited,open,paper",
              help="Only responses reached this way, comma-separated: with an invitation, in an open survey at a "
                   "counter, or from imported paper forms (default: all).")
@click.option("--exclude-flagged", is_flag=True,
              help="Leave out the responses flagged as a burst from one client address (possible ballot stuffing).")
@click.option("--min-n", type=int, default=30, show_default=True,
              help="Groups with fewer responses show no measures (\"chưa đủ mẫu\").")
@click.option("--compare", metavar="previous|same-last-year",
              help="Each group's change against the period before, or the same period a year earlier, with a 95% "
                   "interval (with --period all: needs --from and --to).")
@click.option("--window", type=int, metavar="DAYS",
              help="With --period week|month: each period counts the DAYS days ending on its last day (rolling).")
@click.option("--format", "output_format", default="table", show_default=True, metavar="table|csv|xlsx|json")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of the terminal (required for xlsx).")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the league table of the latest period as a PNG file.")
@click.pass_obj
def report(settings: Settings, survey_id: str | None, date_from: str | None, date_to: str | None, period: str,
           by: str, total: bool, origin: str | None, exclude_flagged: bool, min_n: int, compare: str | None,
           window: int | None, weight: str | None, output_format: str, output: Path | None, chart: Path | None) -> None:
    """SIPAS, element indices and criteria with 95% intervals, ranked by the interval's lower bound."""
    from bot.errors import UserError
    from bot.reports.build import build_report
    from bot.reports.request import FORMATS, parse_request

    request = parse_request(survey=survey_id, period=period, by=by, min_n=min_n, date_from=date_from,
                            date_to=date_to, origin=origin, exclude_flagged=exclude_flagged, compare=compare,
                            window=window, total=total, weight=weight)
    output_format = output_format.strip().lower()
    if output_format not in FORMATS:
        raise UserError.say("admin.bad_format", formats=", ".join(FORMATS), given=output_format)
    if output_format == "xlsx" and output is None:
        raise UserError.say("admin.xlsx_needs_output")
    if chart is not None and chart.suffix.lower() != ".png":
        raise UserError.say("admin.chart_png", name=chart.name)
    from bot.cli.mistakes import check_writable

    # Before the report is computed or printed: a missing folder must not cost the work, nor half the output.
    if output is not None:
        check_writable(output, "-o/--output")
    if chart is not None:
        check_writable(chart, "--chart")

    async def work(services: Services) -> Report:
        return await build_report(services, request)

    result = with_services(settings, work)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    if not result.rows:
        start, end = request.date_from, request.date_to
        span = say("admin.span_both", start=start, end=end) if start and end else \
            say("admin.span_from", start=start) if start else say("admin.span_to", end=end) if end else ""
        click.echo(say("admin.no_responses", survey=result.request.survey, span=span),
                   err=output_format != "table" or output is not None)
    note = _flagged_note(result)
    _write(result, output_format, output, note if output_format == "table" else None)
    if note and (output_format != "table" or not result.rows):
        click.echo(note, err=True)  # beside the file or the machine output, never inside it
    if chart is not None:
        from bot.reports.chart import draw_chart  # matplotlib loads only when a picture is asked for

        if draw_chart(result, chart):
            click.echo(say("admin.chart_written", chart=chart), err=True)


def _flagged_note(result: Report) -> str | None:
    """One line in the admin language when flagged responses are counted in the figures, or were left out."""
    if result.flagged_excluded:
        return say("admin.flagged_excluded", count=number(result.flagged_excluded))
    return say("admin.flagged_included", count=number(result.flagged_included)) if result.flagged_included else None


def _write(result: Report, output_format: str, output: Path | None, note: str | None) -> None:
    if output_format == "xlsx":
        from bot.reports.xlsx import write_xlsx

        write_xlsx(result, output)
        click.echo(say("admin.report_written", output=output, rows=len(result.rows)), err=True)
        return
    from bot.reports.render import render_csv, render_json, render_table

    if output_format == "table" and not result.rows:
        return
    text = {"table": render_table, "csv": render_csv, "json": render_json}[output_format](result)
    if note:
        text = f"{text}\n{note}"
    if output is None:
        click.echo(text.rstrip("\n"))
        return
    # A byte-order mark lets Excel read the Vietnamese names in a CSV file as UTF-8.
    output.write_text(text if text.endswith("\n") else text + "\n",
                      encoding="utf-8-sig" if output_format == "csv" else "utf-8")
    click.echo(say("admin.report_written", output=output, rows=len(result.rows)), err=True)
