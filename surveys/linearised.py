"""The linearised (Taylor) variance of a mean of ratios with the respondent as the unit, vectorised numpy.

The estimator and its variance are described in ``surveys.intervals`` (module docstring), which builds the
intervals on them and re-exports everything here.

Weights (optional, one per respondent, e.g. post-stratification to the transaction mix): p_i becomes
sum_r w_r x_ri / sum_r w_r v_ri, z_r is multiplied by w_r (its denominators V_i become the weighted sums W_i),
and Var = n / (n - 1) * sum_r z_r**2 as before: the with-replacement linearisation of the weighted ratio, with
the weights taken as fixed. It ignores any stratification: where the mix of services in the sample is fixed by
design it overstates the variance (by about 10% in a simulation of two services with fixed counts: 97%
coverage); where the mix is random, as for self-selected respondents, it is the right one. Kish's effective
sample size (sum w)² / sum w² stands in for n where an interval needs a number of respondents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NO_ANSWER = 0
"""Outcome code of a respondent who gave a criterion no valid (1-5) answer."""
NOT_SATISFIED = 1
"""Outcome code of a valid answer of 1, 2 or 3."""
SATISFIED = 2
"""Outcome code of a valid answer of 4 or 5."""

_OUTCOMES = 3


@dataclass(frozen=True, eq=False)
class RatioMeans:
    """Mean-of-ratios estimates per group, overall and per part (element), with linearised standard errors.

    All values are percentages (0-100). ``G`` is the number of groups and ``P`` the number of parts.

    Attributes:
        estimate: ``(G,)`` mean of the p_i over the criteria with V_i > 0; NaN when there is none.
        se: ``(G,)`` linearised standard error; NaN when ``units`` < 2 or the estimate is NaN.
        units: ``(G,)`` respondents with at least one valid answer.
        part_estimate: ``(G, P)`` the same estimate restricted to each part's criteria.
        part_se: ``(G, P)`` its standard error.
        part_units: ``(G, P)`` respondents with at least one valid answer to the part's criteria.
        part_criteria: ``(G, P)`` the part's criteria with V_i > 0 (its k in the group).
        part_largest: ``(G, P)`` the largest V_i among the part's criteria (a weight sum when weighted).
        kish: ``(G,)`` Kish's effective number of those respondents, (sum w)² / sum w² (``units`` unweighted).
        part_kish: ``(G, P)`` the same per part.
        weight_total: ``(G,)`` the weight of the respondents (``units`` unweighted).
    """

    estimate: np.ndarray
    se: np.ndarray
    units: np.ndarray
    part_estimate: np.ndarray
    part_se: np.ndarray
    part_units: np.ndarray
    part_criteria: np.ndarray
    part_largest: np.ndarray
    kish: np.ndarray
    part_kish: np.ndarray
    weight_total: np.ndarray


def mean_of_ratios(
    group: np.ndarray,
    outcomes: Sequence[np.ndarray],
    parts: Sequence[int],
    n_groups: int,
    *,
    outcome_counts: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> RatioMeans:
    """Estimate the mean of per-criterion satisfied shares and its respondent-level uncertainty.

    The method (linearisation with the respondent as the unit) is described in the module docstring.

    Args:
        group: ``(rows,)`` integer group index of each respondent, in ``range(n_groups)``.
        outcomes: One ``(rows,)`` integer array per criterion holding ``NO_ANSWER``, ``NOT_SATISFIED`` or
            ``SATISFIED`` for each respondent.
        parts: The part (element) index of each criterion, numbered from 0 without gaps.
        n_groups: The number of groups.
        outcome_counts: Optional ``(n_groups, criteria, 3)`` count of each outcome per group and criterion,
            when the caller has counted them already (saves one pass over the rows); weighted counts when
            ``weights`` is given.
        weights: Optional ``(rows,)`` non-negative weight of each respondent (module docstring).

    Returns:
        The estimates, standard errors and respondent counts, overall and per part.

    Raises:
        ValueError: If ``parts`` does not have one entry per criterion.
    """
    group = np.asarray(group, dtype=np.intp)
    parts = np.asarray(parts, dtype=np.intp)
    if parts.shape != (len(outcomes),):
        raise ValueError("parts must give one part index per criterion")
    n_parts = int(parts.max()) + 1 if parts.size else 0
    rows, k = group.shape[0], len(outcomes)

    # Pass 1: per group and criterion, valid answers V and satisfied answers S; who answered each part.
    base = group.astype(np.int64) * _OUTCOMES
    valid_n = np.zeros((n_groups, k))
    satisfied_n = np.zeros((n_groups, k))
    answered = np.zeros((n_parts, rows), dtype=bool)
    for i, outcome in enumerate(outcomes):
        if outcome_counts is None:
            counts = np.bincount(base + outcome, weights=weights,
                                 minlength=n_groups * _OUTCOMES).reshape(n_groups, _OUTCOMES)
        else:
            counts = outcome_counts[:, i, :]
        valid_n[:, i] = counts[:, NOT_SATISFIED] + counts[:, SATISFIED]
        satisfied_n[:, i] = counts[:, SATISFIED]
        answered[parts[i]] |= outcome != NO_ANSWER

    has = valid_n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(has, satisfied_n / valid_n, 0.0)
        inv_v = np.where(has, 1.0 / valid_n, 0.0)
    member = parts[:, None] == np.arange(n_parts)[None, :]  # (k, P) criterion belongs to part
    k_part = has.astype(np.float64) @ member  # (G, P) criteria with answers, per part
    k_all = has.sum(axis=1).astype(np.float64)  # (G,)
    with np.errstate(divide="ignore", invalid="ignore"):
        part_estimate = np.where(k_part > 0, (p @ member) / k_part * 100.0, np.nan)
        estimate = np.where(k_all > 0, p.sum(axis=1) / k_all * 100.0, np.nan)
        inv_k_part = np.where(k_part > 0, 1.0 / k_part, 0.0)
        inv_k_all = np.where(k_all > 0, 1.0 / k_all, 0.0)

    # Pass 2: sum over each part's criteria of (x_ri - p_i v_ri) / V_i, via a (group, outcome) lookup table.
    sums = np.zeros((n_parts, rows))
    for i, outcome in enumerate(outcomes):
        table = np.empty((n_groups, _OUTCOMES))
        table[:, NO_ANSWER] = 0.0
        table[:, NOT_SATISFIED] = -p[:, i] * inv_v[:, i]
        table[:, SATISFIED] = (1.0 - p[:, i]) * inv_v[:, i]
        sums[parts[i]] += _lookup(table.ravel(), base + outcome)

    if weights is not None:
        sums *= weights  # z_r = w_r (1/k) sum_i (x_ri - p_i v_ri) / W_i
    part_units = np.empty((n_groups, n_parts), dtype=np.int64)
    part_sq = np.empty((n_groups, n_parts))
    part_kish = np.empty((n_groups, n_parts))
    for e in range(n_parts):
        part_units[:, e] = np.bincount(group[answered[e]], minlength=n_groups)
        z_part = sums[e] * _lookup(np.ascontiguousarray(inv_k_part[:, e]), group)
        part_sq[:, e] = np.bincount(group, weights=z_part * z_part, minlength=n_groups)
        part_kish[:, e] = _kish(group, answered[e], weights, part_units[:, e], n_groups)[0]
    respondent = answered.any(axis=0)
    units = np.bincount(group[respondent], minlength=n_groups).astype(np.int64)
    z_all = sums.sum(axis=0) * _lookup(inv_k_all, group)
    sq = np.bincount(group, weights=z_all * z_all, minlength=n_groups)
    kish, weight_total = _kish(group, respondent, weights, units, n_groups)

    return RatioMeans(
        estimate=estimate,
        se=_standard_error(sq, units, estimate),
        units=units,
        part_estimate=part_estimate,
        part_se=_standard_error(part_sq, part_units, part_estimate),
        part_units=part_units,
        part_criteria=k_part,
        part_largest=np.stack([valid_n[:, parts == e].max(axis=1, initial=0.0) for e in range(n_parts)], axis=1)
        if n_parts else np.zeros((n_groups, 0)),
        kish=kish,
        part_kish=part_kish,
        weight_total=weight_total,
    )


def _kish(group, chosen, weights, units, n_groups) -> tuple[np.ndarray, np.ndarray]:
    """Kish's effective number of the chosen respondents per group, and their total weight."""
    if weights is None:
        return units.astype(np.float64), units.astype(np.float64)
    w = weights[chosen]
    total = np.bincount(group[chosen], weights=w, minlength=n_groups)
    square = np.bincount(group[chosen], weights=w * w, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(square > 0, total * total / square, 0.0), total


def _lookup(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]`` for indices known to be in range.

    ``take`` in clip mode skips the bounds check, which makes this gather an order of magnitude faster than fancy
    indexing on a million rows.
    """
    return np.take(table, index, mode="clip")


def _standard_error(sum_sq: np.ndarray, units: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """100 * sqrt(n / (n - 1) * sum_sq), NaN where n < 2 or the estimate is NaN."""
    units = units.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = 100.0 * np.sqrt(units / (units - 1.0) * sum_sq)
    return np.where((units >= 2) & ~np.isnan(estimate), se, np.nan)
