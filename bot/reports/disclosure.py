"""The joint check behind bot.reports.suppression: every published figure of a period as one linear system.

The rules of bot.reports.suppression look at one group, or one margin, at a time. Together they can still close:
two centres that each withhold access and feedback keep their SIPAS (a weighted sum of the two withheld shares),
and the province total of each criterion sums the two centres' cells: four equations, four unknowns, and every
withheld count follows. So, per period, the satisfied counts of the withheld cells are the unknowns, and the
equations are the published margins (sums of cells) and each published group's SIPAS and element indices (sums of
its withheld counts divided by their n). A cell is determined when its unit vector is in the row space of the
equations, i.e. when its row of the null space is zero (one eigendecomposition for all cells). A determined cell
of a group that publishes SIPAS or an element index over it costs that group those figures (the smallest such
group, one at a time, rechecking after each); one determined by margins alone costs a sibling cell (the smallest).
Periods with more withheld cells than ``MAX_CELLS`` are not solved (the decomposition
would take seconds): there a group withholds SIPAS and the element indices over its withheld criteria when one
of them is one of only two withheld cells under a margin (a heuristic: the tight cycles, not a proof).
"""

from __future__ import annotations

import numpy as np

MAX_CELLS = 600


def close_gaps(margins: list[np.ndarray], period: np.ndarray, n: np.ndarray, cn: np.ndarray, parts: list[int],
               min_n: int, hidden: np.ndarray, criteria: np.ndarray, elements: np.ndarray,
               sipas: np.ndarray) -> np.ndarray:
    """Withhold more where the period's published figures determine a withheld cell; the groups changed."""
    changed = np.zeros(len(n), dtype=bool)
    secret = criteria & (cn > 0)
    parts_of = np.asarray(parts)
    large = np.zeros(len(n), dtype=bool)
    for p in np.unique(period).tolist():
        cells = [(g, j) for g, j in np.argwhere(secret & (period == p)[:, None]).tolist()]
        if len(cells) > MAX_CELLS:
            large |= period == p
            continue
        if not cells:
            continue
        equations, owners = _equations(cells, margins, n, cn, parts_of, min_n, hidden, elements, sipas)
        found = [cells[c] for c in _determined(equations, len(cells))]
        # One change per period and pass: in the usual cycle (two groups, each keeping SIPAS over the same two
        # withheld criteria) withholding one group's SIPAS leaves every cell undetermined.
        within = [(n[g], g) for g, j in found if not hidden[g] and (not sipas[g] or not elements[g, parts[j]])]
        if within:
            _cover(min(within)[1], secret[min(within)[1]], parts_of, elements, sipas, changed)
            continue
        for g, j in found:
            if (sibling := _sibling(g, j, margins, cn, secret, owners)) is not None:
                criteria[sibling, j] = secret[sibling, j] = changed[sibling] = True
                break
    if large.any():
        for g in _tight(margins, large, secret, hidden):
            _cover(g, secret[g], parts_of, elements, sipas, changed)
    return changed


def sums(margin: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per margin and column, the sum of ``values`` (groups x columns) over the margin's groups."""
    size = int(margin.max()) + 1 if len(margin) else 0
    return np.column_stack([np.bincount(margin, weights=values[:, j], minlength=size)
                            for j in range(values.shape[1])]) if values.shape[1] else np.zeros((size, 0))


def _tight(margins: list[np.ndarray], in_period: np.ndarray, secret: np.ndarray, hidden: np.ndarray) -> set[int]:
    """Without solving: the published groups of the period with a withheld cell that is one of only two under a
    margin, where a closed cycle needs the fewest equations (a heuristic, README)."""
    out: set[int] = set()
    for margin in margins:
        count = sums(margin, secret)
        pairs = secret & (count[margin] == 2) & in_period[:, None] & ~hidden[:, None]
        out |= set(np.flatnonzero(pairs.any(axis=1)).tolist())
    return out


def _cover(g: int, secret: np.ndarray, parts: np.ndarray, elements: np.ndarray, sipas: np.ndarray,
           changed: np.ndarray) -> None:
    """Withhold SIPAS of group g and every element index over one of its withheld criteria."""
    for e in np.unique(parts[secret]).tolist():
        changed[g] |= not elements[g, e]
        elements[g, e] = True
    changed[g] |= not sipas[g]
    sipas[g] = True


def _equations(cells: list[tuple[int, int]], margins: list[np.ndarray], n: np.ndarray, cn: np.ndarray,
               parts: np.ndarray, min_n: int, hidden: np.ndarray, elements: np.ndarray,
               sipas: np.ndarray) -> tuple[np.ndarray, dict]:
    """The published figures as rows over ``cells`` (unit length, for a well-conditioned decomposition), and
    which published margins hold each cell's group."""
    index = {cell: c for c, cell in enumerate(cells)}
    rows: list[np.ndarray] = []
    owners: dict[int, list[tuple[np.ndarray, int]]] = {}
    for margin in margins:
        children_of: dict[int, np.ndarray] = {}
        for g, j in cells:
            m = int(margin[g])
            if m not in children_of:
                children_of[m] = np.flatnonzero(margin == m)
            children = children_of[m]
            # A margin of one group is that group (another report publishes it as this one does, protected alike).
            if len(children) > 1 and n[children].sum() >= min_n and cn[children, j].sum() >= min_n:
                first = (g, j) == next(cell for cell in ((h, j) for h in children.tolist()) if cell in index)
                if first:  # one equation per margin and criterion
                    rows.append(_row([index[(h, j)] for h in children.tolist() if (h, j) in index], len(cells)))
                owners.setdefault(g, []).append((children, j))
    for g in sorted({g for g, _ in cells if not hidden[g]}):
        own = [(c, j) for (h, j), c in index.items() if h == g]
        weighted = [(c, 1.0 / cn[g, j]) for c, j in own]
        if not sipas[g]:
            rows.append(_row(weighted, len(cells)))
        for e in np.unique(parts[[j for _, j in own]]).tolist():
            if not elements[g, e]:
                rows.append(_row([(c, 1.0 / cn[g, j]) for c, j in own if parts[j] == e], len(cells)))
    return (np.vstack(rows) if rows else np.zeros((0, len(cells)))), owners


def _row(entries: list, width: int) -> np.ndarray:
    row = np.zeros(width)
    for entry in entries:
        c, weight = entry if isinstance(entry, tuple) else (entry, 1.0)
        row[c] = weight
    norm = np.linalg.norm(row)
    return row / norm if norm else row


def _determined(equations: np.ndarray, width: int) -> list[int]:
    """The cells whose value the equations fix: those with a zero row in the null space.

    The null space comes from the eigenvectors of the Gram matrix (a few times faster than an SVD of the equations
    at 600 cells). Its zero eigenvalues are noise of about 1e-16 of the largest, the smallest real ones of these
    0/1 and 1/n rows far above 1e-12: the cut errs, if at all, towards calling a cell determined (withholding more).
    """
    if not len(equations):
        return []
    values, vectors = np.linalg.eigh(equations.T @ equations)
    null = vectors[:, values <= 1e-12 * max(float(values[-1]), 1.0)]
    if not null.shape[1]:
        return list(range(width))
    return np.flatnonzero(np.abs(null).max(axis=1) < 1e-6).tolist()


def _sibling(g: int, j: int, margins: list[np.ndarray], cn: np.ndarray, secret: np.ndarray,
             owners: dict) -> int | None:
    """A published cell of criterion j beside group g under one of its published margins (the fewest answers)."""
    for children, criterion in owners.get(g, []):
        if criterion != j:
            continue
        open_ = [h for h in children.tolist() if h != g and not secret[h, j] and cn[h, j] > 0]
        if open_:
            return min(open_, key=lambda h: (cn[h, j], h))
    return None
