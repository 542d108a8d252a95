"""The studentised (bootstrap-t) interval of SIPAS for small groups, with the respondent as the resampled unit.

Why: at n = 30-100 near the ceiling the sampling distribution of SIPAS is skewed (a mean of ratios over
correlated answers, most respondents satisfied with everything and a few unhappy ones pulling it down), and an
interval built on the estimate and its standard error alone, even Wilson's on the effective sample size, misses
from above in 7-9% of samples instead of 2.5% (``docs/intervals.md``). The bootstrap-t corrects a t-type interval
for that skewness and for the dependence between the estimate and its standard error to second order (Hall 1988,
"Theoretical comparison of bootstrap confidence intervals"; Efron & Tibshirani 1993, ch. 12), without a model of
the answers.

Method, for a group of n respondents with a valid answer (``MIN_GROUP`` <= n <= ``SMALL_GROUP``) and a standard
error > 0:

1. B = ``REPLICATES`` resamples of the n respondents with replacement (a whole form at a time, so the correlation
   of one person's answers is kept). In each, SIPAS* (the mean of the criteria's shares S*/V* over the criteria
   answered in the resample) and its linearised standard error se* (``surveys.linearised``, recomputed on the
   resample) give t* = (SIPAS* - SIPAS) / se*.
2. With t_lo and t_hi the (B + 1)·alpha/2-th smallest and largest t* (the 25th of 999 at 95%), the interval is
   [SIPAS - t_hi·se, SIPAS - t_lo·se], clipped to [0, 100].
3. A resample with no unsatisfied answer has se* = 0 and t* = ±infinity (or 0 when SIPAS* = SIPAS). When more than
   alpha/2 of the resamples are such, t_hi (or t_lo) is infinite: the resamples cannot tell how far the estimate
   may be off on that side, and that end stays the score interval's (``surveys.intervals.score_interval``, which
   takes design effect 1 when fewer than two respondents gave a rating of 1-3); so it does where the group's se is
   0 or the result would have no width.

Stable outputs: the resample counts depend only on n (a generator seeded with (``SEED``, n)), and each group's
respondents are put in a canonical order (sorted by their answers) before resampling, so the same answers give the
same interval whatever the row order, the other groups or the report. Weighted estimates keep the score interval.
Cost: about 4·B·n·k multiply-adds per group (k criteria), vectorised over the groups of one size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from surveys.linearised import NO_ANSWER, NOT_SATISFIED, SATISFIED

MIN_GROUP = 30
"""The fewest respondents whose SIPAS interval is bootstrapped: below it a resample repeats too few distinct forms
for its t* to mean much (n = 5 has 126 distinct resamples), and reports publish no group under 30 by default."""
SMALL_GROUP = 200
"""The most respondents whose SIPAS interval is bootstrapped: the skewness the bootstrap corrects fades as 1/√n,
and the score interval alone holds its coverage at n = 400 in the simulation (``docs/intervals.md``)."""
REPLICATES = 999
"""Resamples per group: (B + 1)·0.025 = 25 is a whole order statistic."""
SEED = 20261203
"""Seed of the resample counts (together with n)."""
_CELLS = 4_000_000  # floats per working array: groups of one size are processed in chunks of this size


def bootstrap_t(
    group: np.ndarray,
    outcomes: Sequence[np.ndarray],
    n_groups: int,
    estimate: np.ndarray,
    se: np.ndarray,
    units: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """The SIPAS interval with the bootstrap-t ends for small groups (module docstring), the given ends elsewhere.

    Args:
        group: ``(rows,)`` group index of each respondent, in ``range(n_groups)``.
        outcomes: One ``(rows,)`` array per criterion of ``NO_ANSWER`` / ``NOT_SATISFIED`` / ``SATISFIED``.
        n_groups: The number of groups.
        estimate: ``(G,)`` SIPAS in percent (``RatioMeans.estimate``).
        se: ``(G,)`` its linearised standard error in percent.
        units: ``(G,)`` respondents with at least one valid answer.
        low: ``(G,)`` the score interval's lower ends, kept where the bootstrap does not apply.
        high: ``(G,)`` its upper ends.
        confidence: The confidence level.

    Returns:
        ``(low, high)``: new arrays in percent.
    """
    low, high = np.array(low, dtype=np.float64), np.array(high, dtype=np.float64)
    alpha = (1.0 - confidence) / 2.0
    rank = int(np.floor(alpha * (REPLICATES + 1)))
    small = (units >= MIN_GROUP) & (units <= SMALL_GROUP) & (se > 0) & np.isfinite(estimate)
    if rank < 1 or not small.any():
        return low, high
    codes = np.stack(outcomes, axis=1) if len(outcomes) else np.zeros((len(group), 0), dtype=np.int8)
    chosen = np.flatnonzero(small[group] & (codes != NO_ANSWER).any(axis=1))
    codes, member = codes[chosen], group[chosen]
    # Canonical order: by group, then by the answers themselves, so the row order of the table does not matter.
    order = np.lexsort([*(codes[:, j] for j in range(codes.shape[1] - 1, -1, -1)), member])
    codes, member = codes[order], member[order]
    start = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(member, minlength=n_groups), out=start[1:])
    for size in np.unique(units[small]):
        size = int(size)
        counts = np.random.default_rng([SEED, size]).multinomial(size, np.full(size, 1.0 / size), REPLICATES)
        counts = counts.astype(np.float64)
        chunk = max(1, _CELLS // (REPLICATES * size))
        ids = np.flatnonzero(small & (units == size))
        for first in range(0, ids.size, chunk):
            part = ids[first:first + chunk]
            rows = codes[start[part][:, None] + np.arange(size)]  # (g, n, k)
            t_lo, t_hi = _t_quantiles(rows, counts, estimate[part] / 100.0, se[part] / 100.0, rank)
            _update(low, high, part, estimate[part], se[part], t_lo, t_hi)
    return low, high


def _t_quantiles(rows, counts, estimate, se, rank) -> tuple[np.ndarray, np.ndarray]:
    """The rank-th smallest and largest t* over the resamples of each group (0-1 scale)."""
    k = rows.shape[2]
    size = rows.shape[1]
    # One-hot answers: satisfied, then not satisfied, per criterion (g, n, 2k); both zero for no valid answer.
    answers = np.concatenate([rows == SATISFIED, rows == NOT_SATISFIED], axis=2).astype(np.float64)
    g, n2k = rows.shape[0], 2 * k  # each resample's satisfied and unsatisfied answers, by one matrix product
    tallies = (counts @ np.swapaxes(answers, 0, 1).reshape(size, g * n2k)).reshape(-1, g, n2k).swapaxes(0, 1)
    s_star = tallies[..., :k]
    v_star = s_star + tallies[..., k:]
    answered = v_star > 0
    k_star = answered.sum(axis=2, keepdims=True)  # criteria answered in the resample (>= 1: every row has one)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(answered, s_star / v_star, 0.0)
        weight = np.where(answered, 1.0 / (v_star * k_star), 0.0)  # 1 / (k* V*_i)
    sipas = share.sum(axis=2) / k_star[..., 0]  # (g, B)
    # z_r = sum_i (x_ri - p*_i v_ri) / (k* V*_i): (1 - p*_i) / (k* V*_i) for a satisfied answer, -p*_i / (k* V*_i)
    # for an unsatisfied one; for every resample and respondent (g, B, n)
    terms = np.concatenate([weight - share * weight, -share * weight], axis=2)  # (g, B, 2k)
    z = np.einsum("gbk,gnk->gbn", terms, answers)  # einsum: numpy's batched matmul is slower for these sizes
    variance = size / (size - 1.0) * np.einsum("gbn,gbn,bn->gb", z, z, counts)
    diff = sipas - estimate[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(variance > 0, diff / np.sqrt(variance), np.sign(diff) * np.inf)
    t[np.abs(diff) <= 1e-12] = 0.0  # the estimate itself: no deviation, whatever se* is
    t.sort(axis=1)
    return t[:, rank - 1], t[:, -rank]


def _update(low, high, part, estimate, se, t_lo, t_hi) -> None:
    """Write the bootstrap-t ends where they are finite and give a width > 0, in percent."""
    new_low = np.where(np.isfinite(t_hi), np.clip(estimate - t_hi * se, 0.0, 100.0), low[part])
    new_high = np.where(np.isfinite(t_lo), np.clip(estimate - t_lo * se, 0.0, 100.0), high[part])
    new_low, new_high = np.minimum(new_low, estimate), np.maximum(new_high, estimate)
    keep = new_high - new_low > 0
    low[part] = np.where(keep, new_low, low[part])
    high[part] = np.where(keep, new_high, high[part])
