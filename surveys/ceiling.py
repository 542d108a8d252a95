"""The upper end of an element index near the ceiling: one-sided where no sample could miss from below.

A 95% interval misses the truth in two ways: its lower end above it, or its upper end below it. An equal-tailed
interval gives each 2.5%. An element index of three or four criteria in a group of 30 takes few values near
100%, and the highest lower end any group of that shape can have (``ceiling_reach``: one unsatisfied answer,
or none) is about 93-95%. Where the truth lies above that, no sample misses from below, so the equal-tailed
interval covers 97.5% or more and wastes half its error: the element indices covered 97.0-97.6% at n = 30 near
the ceiling (``docs/intervals.md``).

The confidence interval is the set of values a test does not reject, and the test need not be equal-tailed (Sterne
1954; Blyth & Still 1983). For a value above the reach the lower side can never reject, so the test there is
one-sided: its upper end is the mid-p one-sided bound at the full 5% (``surveys.midp``) on the estimate's
effective counts (p·n_eff satisfied of n_eff, ``surveys.intervals.effective_trials``). Where the two-sided upper
end lies above the reach, the upper end becomes ``max(reach, mid-p bound)``; everywhere else it is unchanged::

    values tested      the test                   so the upper end
    theta <= reach     two-sided, as before       the two-sided end, at most the reach
    theta >  reach     one-sided upper, 5%        the mid-p bound, where it is above the reach

The reach, for an element of k criteria with V the most valid answers to one of them, among n respondents:

* no unsatisfied answer: the design effect 1 case of ``score_interval``, n / (n + q²);
* one unsatisfied answer, to the criterion with V answers: p = 1 - 1/(kV) and the linearised variance
  n/(n - 1) (V - 1)/(k² V³), so n_eff = (kV - 1) V (n - 1) / (n (V - 1)) (one answer's worth).

Both are ``score_interval``'s own lower ends for those two patterns. Any other pattern has a lower estimate or a
larger variance, so a lower lower end (``tests/test_ceiling.py`` checks it on random groups and on every placement
of up to three unsatisfied answers in small ones). For weighted estimates the rule is not used: their counts are
not whole answers.
"""

from __future__ import annotations

import numpy as np

from surveys.intervals import effective_trials, score_interval
from surveys.midp import midp_upper
from surveys.quantiles import normal_quantile


def ceiling_reach(criteria, largest, units, confidence: float = 0.95) -> np.ndarray:
    """The highest lower end (percent) ``score_interval`` can give an unweighted element of this shape.

    Args:
        criteria: The element's criteria with valid answers in the group (k), array.
        largest: The most valid answers to one of them (V).
        units: The respondents with a valid answer to any of them (n).
        confidence: The two-sided level of ``score_interval``.

    Returns:
        The reach in percent; NaN where n < 2 or k = 0.
    """
    k, v, n = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (criteria, largest, units)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # one unsatisfied answer to the criterion with V answers: its estimate and linearised variance
        p = 1.0 - 1.0 / (k * v)
        se = 100.0 * np.sqrt(n / (n - 1.0) * (v - 1.0) / (k * k * v**3))
    none_unsatisfied, _ = score_interval(np.full(n.shape, 100.0), np.zeros(n.shape), n, confidence)
    one_unsatisfied, _ = score_interval(100.0 * p, se, n, confidence)
    reach = np.fmax(none_unsatisfied, np.where(v > 1.0, one_unsatisfied, np.nan))
    return np.where((n >= 2) & (k > 0), reach, np.nan)[()]


def near_ceiling_upper(high, estimate, se, units, criteria, largest,
                       confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The upper ends of unweighted element intervals with the one-sided rule of the module docstring.

    Args:
        high: The two-sided upper ends of ``score_interval`` (percent, array).
        estimate: The element indices (percent).
        se: Their linearised standard errors (percent).
        units: The respondents behind each (n).
        criteria: The element's criteria with valid answers (k).
        largest: The most valid answers to one criterion (V).
        confidence: The interval's two-sided level; the one-sided bound misses with probability 1 - confidence.

    Returns:
        ``(high, one_sided)``: the upper ends, equal to ``high`` outside the one-sided case and never below the
        estimate, and where they are one-sided (a bool array of the same shape).
    """
    high = np.array(high, dtype=np.float64, copy=True)
    estimate = np.asarray(estimate, dtype=np.float64)
    reach = ceiling_reach(criteria, largest, units, confidence)
    with np.errstate(invalid="ignore"):
        one_sided = (high > reach) & (estimate < 100.0)
        chosen = np.nonzero(one_sided)
    if chosen[0].size:
        p = estimate[chosen] / 100.0
        var = (np.asarray(se, dtype=np.float64)[chosen] / 100.0) ** 2
        trials = effective_trials(p, var, np.asarray(units, dtype=np.float64)[chosen])
        bound = midp_upper(p, trials, confidence) * 100.0
        high[chosen] = np.maximum(np.maximum(reach[chosen], bound), estimate[chosen])
    return high[()], one_sided[()]


def equal_tailed_high(estimate, high, confidence: float = 0.95):
    """The upper end an equal-tailed interval would have with the spread a one-sided upper end implies.

    What reads an interval as equal-tailed (``surveys.spread``: a two-piece normal, MOVER) takes the distance from
    the estimate to the upper end as z(1/2 + confidence/2) standard deviations; a one-sided end at ``confidence``
    lies z(confidence) of them away (1.645 against 1.96 at 95%), so that distance is scaled by their ratio.

    Args:
        estimate: The estimates (percent, array or scalar).
        high: Their one-sided upper ends.
        confidence: The interval's level.

    Returns:
        ``estimate + (high - estimate) * z(1/2 + confidence/2) / z(confidence)``, at most 100.
    """
    ratio = normal_quantile(confidence) / normal_quantile(2.0 * confidence - 1.0)
    estimate = np.asarray(estimate, dtype=np.float64)
    return np.minimum(estimate + (np.asarray(high, dtype=np.float64) - estimate) * ratio, 100.0)[()]

