"""Reports kept in memory by a long-running server (the dashboard's pages): the same numbers as a fresh report,
computed once per period until that period's data changes.

A report's rows are computed period by period: suppression keeps the period in every margin and solves each
period alone (bot.reports.suppression, bot.reports.disclosure), ranks are drawn per period with a seed of the
period (bot.reports.ranks), key drivers, data quality, targets and the --compare base are per row. So a report
from --from to --to is the concatenation of one report per period, each cut to the range, and each of those is
kept, keyed by its request and a stamp of everything it reads. (--compare is added afterwards, as a fresh report
adds it, from the base report over the whole shifted range, itself cut into periods.)

- the responses of its days (and of the days its --window reaches back to), as the sum of their
  per-day versions (migration 0012: triggers bump a day in the transaction that writes it, whoever writes;
  versions only grow, so a sum over fixed days moves whenever one of them changes);
- the invitations created on those days (participation), the same way;
- the centres (codes, names, parents), the services and the targets (the centres' and the province's), as read;
- in a report by centre, the follow-up cases opened on its days, as their per-day versions (migration 0015), and
  today while one of them is open (`bot.reports.cases.open_case_days`: it may fall overdue).

A new response today changes today's period only: the overview of this month is computed again (its base, last
month, is still kept) and a twelve-month trend recomputes one month of twelve. The responses themselves come
from `bot.reports.day_arrays` (whole history in memory, changed days read again), the invitation counts from
`bot.reports.day_invitations` (the same). --weight volume scales weights
over the whole report, so it is kept whole (never cut into periods), as are reports without both dates.

While nothing a report reads changed, the same request gets the very same Report object, its --compare changes
included (the changes of a twelve-month trend cost ~150 ms at a million responses); `remembered` keeps anything
else computed from the responses of a range of days (a centre page's answers and comments) the same way.

The rows handed out are the ones kept, shared by every caller (a copy costs as much as a page may take: 10-25 ms a
month of 100 centres): read them, never change them (`dataclasses.replace` the Report with a new list of rows,
as the API's `for_caller` does, or copy a row before changing it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from itertools import accumulate

import numpy as np
from sqlalchemy import select

from bot.reports.cases import applies, open_case_days
from bot.reports.compare import compare_rows
from bot.reports.day_arrays import DayArrays, Versions, day_versions, invitation_versions
from bot.reports.day_invitations import DayInvitations
from bot.reports.request import ReportRequest, period_index
from bot.reports.window import last_day, loading_from
from bot.storage.base import utcnow
from bot.storage.models import CaseDay, Centre, ProvinceTarget, Service, Target

log = logging.getLogger(__name__)
Pages = Sequence[ReportRequest] | Callable[[], Awaitable[Sequence[ReportRequest]]]
KEPT = 200  # period reports kept (least recently used go first): a month of 100 centres is about 0.5 MB
DERIVED_KEPT = 50  # reports with their --compare changes (rows copied: ~1 MB a twelve-month trend), `remembered`
SPLIT = ("week", "month", "quarter", "year")
_EPOCH = dt.date(1970, 1, 1)
# Invitations are counted by local day, stored by UTC day: a day more on each side covers any time zone.
_MARGIN = dt.timedelta(days=1)


class _Sums:
    """Sums of per-day versions over ranges of days (prefix sums over the sorted days)."""

    def __init__(self, versions: Versions) -> None:
        self.days = sorted(versions)
        self.prefix = [0, *accumulate(versions[d] for d in self.days)]

    def over(self, first: dt.date | None, last: dt.date | None) -> tuple[int, int]:
        """(days with a version, their sum) from ``first`` to ``last`` (None: no bound)."""
        low = 0 if first is None else bisect_left(self.days, first)
        high = len(self.days) if last is None else bisect_right(self.days, last)
        high = max(high, low)
        return high - low, self.prefix[high] - self.prefix[low]


class ReportMemory:
    """What `bot.reports.build.build_report` uses when set as ``services.reports`` (or passed as ``memory``)."""

    def __init__(self, kept: int = KEPT) -> None:
        self.day_arrays = DayArrays()
        self.day_invitations = DayInvitations()
        self.kept = kept
        self._reports: OrderedDict[tuple, object] = OrderedDict()
        self._whole: OrderedDict[ReportRequest, tuple] = OrderedDict()  # request -> (its parts, the Report)
        self._changes: OrderedDict[ReportRequest, tuple] = OrderedDict()  # request -> (plain, bases, the Report)
        self._other: OrderedDict[tuple, object] = OrderedDict()  # `remembered`
        self.warmed = False  # `warm` done: for the benchmark, which times pages after a start
        self.computed = 0  # period reports computed (the others came from memory): for tests and the benchmark

    async def arrays(self, session, instrument, date_from=None, date_to=None, *, service=True, channel=True):
        """`bot.reports.dataset.load_arrays`, from memory (the responses' changed days read again)."""
        return await self.day_arrays.arrays(session, instrument, date_from, date_to)

    async def participation(self, session, survey, request, timezone):
        """`bot.reports.participation.load_participation`, from memory (the invitations' changed days read again)."""
        return await self.day_invitations.participation(session, survey, request, timezone)

    async def warm(self, services, pages: Pages = ()) -> None:
        """Read every survey's responses and invitations now (a server's start), so that the first page does not
        wait for them, then compute the reports of ``pages`` (a dashboard's usual requests, or a function that
        finds them once the responses are read)."""
        try:
            async with services.db.reading() as session:
                for instrument in services.instruments.values():
                    await self.day_arrays.arrays(session, instrument, dt.date.max, dt.date.max)
                    await self.day_invitations.participation(session, instrument.id, ReportRequest(), "UTC")
            for page in (await pages() if callable(pages) else pages):
                await self.report(services, page)
        finally:
            self.warmed = True

    async def report(self, services, request: ReportRequest):
        """The report of ``request``, equal to a fresh `compute_report`, from the periods kept where they hold.

        While nothing it reads has changed, the same request gets the very same Report object (a page asking twice
        pays nothing), its --compare changes included."""
        from bot.reports.build import Report

        instrument = services.instrument(request.survey)
        request = replace(request, survey=instrument.id)
        if request.compare is not None:
            return await self._compared(services, request)
        async with services.db.reading() as session:
            responses = _Sums(await day_versions(session, instrument.id))
            invitations = _Sums(await invitation_versions(session, instrument.id))
            directory = await _directory(session)
            cases = None
            if applies(request):  # a report by centre counts the follow-up cases (bot.reports.cases)
                cases = (_Sums(await day_versions(session, instrument.id, CaseDay)),
                         _Sums(dict.fromkeys(await open_case_days(session, instrument.id), 1)),
                         services.local_date(utcnow()))
        parts = tuple([await self._part(services, piece, (responses, invitations, directory, cases))
                       for piece in _pieces(request)])
        kept = self._whole.get(request)
        if kept is not None and len(kept[0]) == len(parts) and all(a is b for a, b in zip(kept[0], parts, strict=True)):
            return kept[1]
        if len(parts) == 1:
            whole = replace(parts[0], request=request)
        else:
            whole = Report(request, instrument, [row for part in parts for row in part.rows],
                           parts[-1].centre_names, parts[-1].service_names,
                           sum(p.flagged_included for p in parts), sum(p.flagged_excluded for p in parts))
        self._keep(self._whole, request, (parts, whole))
        return whole

    async def _compared(self, services, request: ReportRequest):
        # As compare_rows does for a fresh report: the report without --compare, and the base over the whole
        # shifted range (cut into its own periods: a period's base is not the base of that period alone). The
        # changes of 1,200 rows take a few hundred ms: kept until the plain report or a base is another object.
        plain = await self.report(services, replace(request, compare=None))
        kept = self._changes.get(request)
        if kept is not None and kept[0] is plain and all(
                [await self.report(services, base) is found for base, found in kept[1]]):
            return kept[2]
        bases: list[tuple] = []

        async def base_of(base: ReportRequest):
            found = await self.report(services, base)
            bases.append((base, found))
            return found

        rows = [dict(row) for row in plain.rows]  # compare_rows sets each row's "change": not on the kept ones
        await compare_rows(request, rows, base_of)
        compared = replace(plain, request=request, rows=rows)
        self._keep(self._changes, request, (plain, bases, compared), DERIVED_KEPT)
        return compared

    async def remembered(self, session, survey: str, first: dt.date, last: dt.date, key: tuple,
                         compute: Callable[[], Awaitable]):
        """``compute()``'s answer for ``key`` (a centre page's unscored answers and comments), computed again only
        when a response to ``survey`` from ``first`` to ``last`` changed: the day versions are read first, in the
        caller's snapshot, as the rows ``compute`` reads."""
        stamp = _Sums(await day_versions(session, survey)).over(first, last)
        whole = (key, survey, first, last, stamp)
        found = self._other.get(whole)
        if found is None:
            found = await compute()
        self._keep(self._other, whole, found, DERIVED_KEPT)
        return found

    def _keep(self, store: OrderedDict, key, value, most: int | None = None) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > (most or self.kept):
            store.popitem(last=False)

    async def _part(self, services, request: ReportRequest, stamps: tuple):
        from bot.reports.build import compute_report

        responses, invitations, directory, cases = stamps
        first, last = _reach(request)
        key = (request, services.settings.timezone, directory, responses.over(first, last),
               invitations.over(first and first - _MARGIN, last and last + _MARGIN),
               _case_stamp(cases, request))
        found = self._reports.get(key)
        if found is not None:
            self._reports.move_to_end(key)
            return found
        report = await compute_report(services, request, self)
        self.computed += 1
        self._reports[key] = report
        while len(self._reports) > self.kept:
            self._reports.popitem(last=False)
        return report


def keep_in_memory(services, pages: Pages = ()) -> asyncio.Task:
    """From now on, ``services``' reports come from memory (a long-running server); the responses are read in the
    background (a few seconds at a million), and ``pages`` computed, so the first page does not wait for them."""
    services.reports = ReportMemory()

    async def warm() -> None:
        try:
            await services.reports.warm(services, pages)
        except Exception:  # a report asked later says what is wrong; the server runs on
            log.exception("reading the responses into memory failed")
    return asyncio.create_task(warm())


def _pieces(request: ReportRequest) -> list[ReportRequest]:
    """The request cut into one request per period of its range (itself when it cannot be cut)."""
    start, end = request.date_from, request.date_to
    if request.period not in SPLIT or request.weight is not None or start is None or end is None:
        return [request]
    low, high = period_index(np.array([start, end], dtype="datetime64[D]"), request.period).tolist()
    if low == high:
        return [request]
    pieces = []
    for index in range(low, high + 1):
        first, last = period_days(index, request.period)
        pieces.append(replace(request, date_from=max(start, first), date_to=min(end, last)))
    return pieces


def period_days(index: int, period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a week, month, quarter or year index (`period_index`)."""
    if period == "week":
        end = int(last_day(np.array([index]), period)[0])
        return _EPOCH + dt.timedelta(days=end - 6), _EPOCH + dt.timedelta(days=end)
    if period == "month":
        first_month, months = index, 1
    elif period == "quarter":
        first_month, months = (index // 4 - 1970) * 12 + index % 4 * 3, 3
    else:
        first_month, months = (index - 1970) * 12, 12
    first = np.datetime64(first_month, "M").astype("datetime64[D]").item()
    after = np.datetime64(first_month + months, "M").astype("datetime64[D]").item()
    return first, after - dt.timedelta(days=1)


def _case_stamp(cases: tuple | None, request: ReportRequest) -> tuple | None:
    """The cases a report's period counts (by their opening day): their versions, and today while one is open."""
    if cases is None:
        return None
    versions, still_open, today = cases
    first, last = request.date_from, request.date_to
    return versions.over(first, last), today if still_open.over(first, last)[0] else None


def _reach(request: ReportRequest) -> tuple[dt.date | None, dt.date | None]:
    """The days a report (without --compare) reads: from its window's first day to its last day."""
    return loading_from(request), request.date_to


async def _directory(session) -> tuple:
    """A digest of what reports read besides responses and invitations: centres, services and targets."""
    centres = (await session.execute(select(Centre.id, Centre.code, Centre.name, Centre.parent_id))).all()
    services = (await session.execute(select(Service.id, Service.code, Service.name))).all()
    targets = (await session.execute(select(Target.centre_id, Target.year, Target.measure, Target.value))).all()
    province = (await session.execute(select(ProvinceTarget.year, ProvinceTarget.measure, ProvinceTarget.value))).all()
    return tuple(tuple(sorted(map(tuple, found))) for found in (centres, services, targets, province))
