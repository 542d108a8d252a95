"""Safe publication: which figures of a report are withheld, so that no suppressed figure can be rebuilt.

Three rules, applied together until nothing changes (each only ever withholds more):

- Small cells. A group with n < min_n shows only its n (reason "min_n"); so does a criterion of a published group
  with fewer than min_n valid answers.
- Within a group. Element indices and SIPAS are means of criterion shares, so they are linear equations in them:
  a lone withheld criterion of an element is its element index times the count minus the others. The published
  figures of a group are treated as such equations, and a withheld share is "determined" when its unit vector lies
  in their row space (a rank test). While one is, the element index is withheld, then a second criterion (the
  smallest n, of the same element first; SIPAS, the ranking figure, is kept), and SIPAS only when nothing is left.
- Across margins. Counts add up: a centre's satisfied count of a criterion is the sum of its service rows', and
  another report (--by centre) publishes the centre. For every set of dimensions dropped from ``by`` (the margins
  other reports publish, down to the total of each period), a published margin with exactly one withheld child
  would give that child away by subtraction: then the smallest published child is withheld too ("complementary"),
  for whole rows and, separately, for each criterion cell.
- All at once. The rules one at a time can still close together; bot.reports.disclosure solves each period's
  published figures as one linear system and withholds SIPAS where it closes a cycle.

What this cannot stop (README, "Safe publication and data quality"): differencing two date ranges or a period and
its sub-periods, reports with other --origin or --exclude-flagged filters, and bounds (a sum of two withheld shares
near 200 says both are near 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from bot.reports.disclosure import close_gaps, sums

MIN_N = "min_n"
COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class Withheld:
    """Per group (in Scores order): why the whole group is withheld (None: published), and, for published groups,
    which criteria show only their n, which element indices and whether SIPAS are withheld."""

    reason: list[str | None]
    criteria: np.ndarray  # (groups, criteria) bool
    elements: np.ndarray  # (groups, elements) bool
    sipas: np.ndarray  # (groups,) bool

    @property
    def suppressed(self) -> list[bool]:
        return [reason is not None for reason in self.reason]


def withhold(groups: pd.DataFrame, criterion_n: np.ndarray, parts: list[int], by: tuple[str, ...], min_n: int,
             sipas: bool, tops: dict[int, int] | None = None) -> Withheld:
    """What to withhold in a report of ``groups`` (Scores.groups: the ``by`` keys, period, n).

    ``criterion_n`` holds the valid answers per group and criterion, ``parts`` each criterion's element index;
    ``sipas`` says whether element indices and SIPAS are published at all (not for zns-rating). ``tops`` maps a
    centre id to its top ancestor's: a `--by parent` report publishes each top centre's roll-up, one more margin
    over the centres under it.
    """
    n = groups["n"].to_numpy(dtype=np.int64)
    cn = np.asarray(criterion_n, dtype=np.int64)
    keys = np.column_stack([groups[d].to_numpy(dtype=np.int64) for d in (*by, "period")])
    margins = [_margin_index(keys, dropped) for size in range(1, len(by) + 1)
               for dropped in combinations(range(len(by)), size)]
    if tops and "centre" in by:  # the roll-ups: the centre replaced by its top centre, other keys kept or dropped
        column = by.index("centre")
        rolled = keys.copy()
        rolled[:, column] = [tops.get(c, c) for c in keys[:, column].tolist()]
        others = [i for i in range(len(by)) if i != column]
        margins += [_margin_index(rolled, dropped) for size in range(len(others) + 1)
                    for dropped in combinations(others, size)]
    hidden = n < min_n
    reason: list[str | None] = [MIN_N if h else None for h in hidden.tolist()]
    criteria = hidden[:, None] | (cn < min_n)
    elements = np.zeros((len(n), max(parts, default=-1) + 1), dtype=bool)
    sipas_hidden = np.zeros(len(n), dtype=bool)
    touched = np.ones(len(n), dtype=bool)  # the groups whose criteria changed since they were last checked
    while touched.any():
        while touched.any():
            before = criteria.copy()
            if sipas:
                _within_groups(np.flatnonzero(touched & ~hidden), cn, parts, criteria, elements, sipas_hidden)
            _complete_rows(margins, n, hidden, reason, min_n)
            criteria |= hidden[:, None]
            _complete_criteria(margins, n, cn, criteria, min_n)
            touched = (criteria != before).any(axis=1)
        # The rules one at a time can still close together (bot.reports.disclosure); without SIPAS (zns-rating)
        # there are no indices to solve with, only margins.
        indices = (elements, sipas_hidden) if sipas else (np.ones_like(elements), np.ones_like(sipas_hidden))
        touched = close_gaps(margins, keys[:, -1], n, cn, parts, min_n, hidden, criteria, *indices)
    return Withheld(reason, criteria, elements, sipas_hidden)


def _margin_index(keys: np.ndarray, dropped: tuple[int, ...]) -> np.ndarray:
    """Each group's margin once the dimensions ``dropped`` are summed over (the period is always kept)."""
    kept = [i for i in range(keys.shape[1]) if i not in dropped]
    return np.unique(keys[:, kept], axis=0, return_inverse=True)[1].reshape(-1)


def _complete_rows(margins: list[np.ndarray], n: np.ndarray, hidden: np.ndarray, reason: list, min_n: int) -> bool:
    """Withhold a second group under every published margin that holds exactly one withheld group."""
    changed = False
    for margin in margins:
        total = np.bincount(margin, weights=n)
        lone = np.flatnonzero((total >= min_n) & (np.bincount(margin, weights=hidden) == 1))
        for m in lone.tolist():
            children = np.flatnonzero((margin == m) & ~hidden)
            if not len(children):
                continue
            pick = int(children[np.argmin(n[children])])  # the smallest: the least information lost
            hidden[pick], reason[pick], changed = True, COMPLEMENTARY, True
    return changed


def _complete_criteria(margins: list[np.ndarray], n: np.ndarray, cn: np.ndarray, criteria: np.ndarray,
                       min_n: int) -> bool:
    """The same per criterion: a margin's satisfied count minus its published children's must mix two cells."""
    changed = False
    for margin in margins:
        count = margin.max() + 1
        total = np.bincount(margin, weights=n, minlength=count)
        secret = criteria & (cn > 0)  # a cell with no answers has nothing to give away
        lone_count, margin_n = sums(margin, secret), sums(margin, cn)
        published = (total[:, None] >= min_n) & (margin_n >= min_n)
        for m, j in np.argwhere(published & (lone_count == 1)).tolist():
            children = np.flatnonzero((margin == m) & ~secret[:, j] & (cn[:, j] > 0))
            if not len(children):
                continue  # the others have no answers: nothing to hide behind (README)
            pick = int(children[np.argmin(cn[children, j])])
            criteria[pick, j], secret[pick, j], changed = True, True, True
    return changed


def _within_groups(rows: np.ndarray, cn: np.ndarray, parts: list[int], criteria: np.ndarray, elements: np.ndarray,
                   sipas: np.ndarray) -> None:
    """Withhold element indices, second criteria or SIPAS until no withheld share of a published group follows
    from its published element indices and SIPAS."""
    for g in rows.tolist():
        answered = (cn[g] > 0).tolist()
        while found := determined(answered, criteria[g].tolist(), elements[g].tolist(), bool(sipas[g]), parts):
            # A share given away by its element index costs that index only; the others need a second criterion.
            alone = [j for j in found if not elements[g, parts[j]]]
            if alone:
                elements[g, parts[alone[0]]] = True
                continue
            element = parts[found[0]]
            shown = [i for i in range(len(parts)) if answered[i] and not criteria[g, i]]
            pool = [i for i in shown if parts[i] == element] or shown
            if pool and not sipas[g]:
                criteria[g, min(pool, key=lambda i: (cn[g, i], i))] = True
            else:
                sipas[g] = True


def determined(answered: list[bool], criteria: list[bool], elements: list[bool], sipas_withheld: bool,
               parts: list[int]) -> list[int]:
    """The withheld criteria of a group whose shares follow from its published figures (in criterion order).

    The published figures are linear equations in the shares of the answered criteria: a shown share, an element
    index (the mean of its answered criteria), SIPAS (the mean of all). Once the shown shares are substituted, an
    element index sums the withheld shares of its element and SIPAS all withheld shares; these vectors are constant
    on disjoint blocks (each published element's withheld criteria, and those of the withheld elements together),
    so a withheld share lies in their row space exactly when it is alone in its block. (The tests check this
    against the rank of the equations.)
    """
    secret = [j for j in range(len(parts)) if answered[j] and criteria[j]]
    if not secret:
        return []
    block: dict[int, int] = {}  # published element -> its withheld criteria; -1: those of the withheld elements
    for j in secret:
        home = -1 if elements[parts[j]] else parts[j]
        block[home] = block.get(home, 0) + 1
    found = []
    for j in secret:
        home = -1 if elements[parts[j]] else parts[j]
        if block[home] == 1 and (home != -1 or not sipas_withheld):
            found.append(j)
    return found


def publish(rows: list[dict], withheld: Withheld, codes: list[str], elements: list[str]) -> None:
    """Blank what ``withheld`` holds back in the JSON rows (in Scores order): a withheld criterion keeps only its n,
    a withheld element index or SIPAS becomes null, and ``withheld`` says which ones (null for suppressed rows)."""
    for g, row in enumerate(rows):
        if row["suppressed"]:
            row["withheld"] = None
            continue
        if row["criteria"] is not None:
            row["criteria"] = {code: {"n": row["criteria"][code]["n"], "suppressed": True} if withheld.criteria[g, j]
                               else {**row["criteria"][code], "suppressed": False} for j, code in enumerate(codes)}
        hidden = [e for i, e in enumerate(elements) if withheld.elements[g, i]]
        for element in hidden:  # the interval too, null at both ends as for an element nobody answered
            if row.get("elements") is not None:
                row["elements"][element] = None
            if row.get("elements_ci") is not None:
                row["elements_ci"][element] = [None, None]
            if element in (row.get("elements_one_sided") or ()):
                row["elements_one_sided"].remove(element)
        if withheld.sipas[g]:
            row.update(sipas=None, sipas_ci=None)
        _scrub(row, bool(withheld.sipas[g]), hidden, {code for j, code in enumerate(codes) if withheld.criteria[g, j]})
        row["withheld"] = {"sipas": bool(withheld.sipas[g]), "elements": hidden}


def _scrub(row: dict, sipas: bool, elements: list[str], criteria: set[str]) -> None:
    """The figures other parts of a row derive from a withheld one (a change from a base period, a gap to a
    target, a priority's share): a published difference from a published base gives the withheld figure back."""
    for key in ("change", "target"):
        derived = row.get(key)
        if not derived:
            continue
        if sipas and derived.get("sipas") is not None:
            derived["sipas"] = None
        for element in elements:
            if (derived.get("elements") or {}).get(element) is not None:
                derived["elements"][element] = None
    if row.get("priority"):
        row["priority"] = [entry for entry in row["priority"] if entry.get("code") not in criteria]
