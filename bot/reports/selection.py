"""Which stored responses a report counts: the origins asked for (--origin), without the flagged ones when asked
(--exclude-flagged), and how many flagged responses the figures hold, in all and per group.

Flagged responses came in a burst from one client address (possible ballot stuffing, set by the web channel).
They count unless the admin leaves them out, and the report always says how many there are, so that an admin
knows to look. Both filters work on the arrays already read (one byte per response in the same query), so they
cost nothing when they remove nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from bot.reports.dataset import RatingArrays
from bot.reports.request import ORIGINS, ReportRequest


@dataclass(frozen=True)
class Chosen:
    """The responses counted, and the flagged ones among those of the origins asked for."""

    arrays: RatingArrays
    flagged_included: int  # counted in the figures
    flagged_excluded: int  # left out (--exclude-flagged)


def choose(arrays: RatingArrays, request: ReportRequest) -> Chosen:
    """The responses of the request's origins, without the flagged ones when it excludes them."""
    keep = None
    if request.origins is not None and len(request.origins) < len(ORIGINS):
        keep = np.isin(arrays.origin, [ORIGINS.index(o) for o in request.origins])
    flagged = arrays.flagged if keep is None else arrays.flagged & keep
    count = int(np.count_nonzero(flagged))
    if request.exclude_flagged and count:
        keep = ~flagged if keep is None else keep & ~flagged
    chosen = arrays if keep is None else arrays.only(keep)
    return Chosen(chosen, 0 if request.exclude_flagged else count, count if request.exclude_flagged else 0)


def flagged_per_group(keys: dict[str, np.ndarray], flagged: np.ndarray) -> Counter:
    """How many flagged responses each group holds, by the tuple of its raw keys (in ``keys`` order)."""
    rows = np.flatnonzero(flagged)
    if not len(rows):  # the usual case: no Python work at all
        return Counter()
    return Counter(zip(*(np.asarray(column)[rows].tolist() for column in keys.values()), strict=True))
