"""How often the 95% intervals of SIPAS and the element indices cover the true value: a simulation.

Respondents answer sipas-2023's 16 criteria (5 elements) through a latent model: respondent r has an effect
u_r ~ N(0, 1) and rates criterion i by cutting y_ri = mu_i + rho * u_r + sqrt(1 - rho^2) * e_ri (e_ri ~ N(0, 1))
at fixed thresholds, so y_ri ~ N(mu_i, 1) and the true satisfied share of criterion i (a rating of 4-5, y_ri > 0)
is exactly Phi(mu_i). The mu_i are a fixed spread of criterion offsets plus one shift, found by bisection, that
puts the true SIPAS (the mean of the true shares) at the cell's target. Answers are skipped (5%) and "không áp
dụng" (5%) at random; one scenario makes 70% of the feedback criteria's answers NA. ``--element-effect TAU`` adds
a second respondent effect per element (weight TAU, the noise's weight shrunk so y_ri stays N(mu_i, 1)), so that a
person's answers within an element are more alike than across elements, as in real forms.

Every cell (scenario x true SIPAS x n) draws ``--samples`` surveys of n respondents and scores all of them in one
``surveys.scoring.score`` call (the sample number is the group column); an interval covers when low <= true <=
high. The table shows the interval reports use (``surveys.scoring.score``: for SIPAS in groups of 30-200 the
bootstrap-t of ``surveys.bootstrap``, else ``surveys.intervals.score_interval``; for the elements the score
interval with the one-sided upper end of ``surveys.ceiling`` near the ceiling) next to the score interval alone
(equal-tailed: "SIPAS, score" and "elements, two-sided") and the former normal interval clipped to [0, 100]
(``normal_interval`` on the same linearised standard error), for SIPAS and for the lowest and highest of the five
elements' coverages in the cell. Run:

    .venv/bin/python bench/interval_coverage.py --samples 3000 --seed 12
    .venv/bin/python bench/interval_coverage.py --samples 1000 --only "strong correlation:98:30" --only "*:94.4:30"

Results and the machine they were measured on: docs/intervals.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from surveys import intervals  # noqa: E402
from surveys.loader import load_builtin  # noqa: E402
from surveys.ratings import OUTCOME, cell_codes  # noqa: E402
from surveys.scoring import score  # noqa: E402

THRESHOLDS = (-1.2, -0.6, 0.0, 0.8)  # y above the 3rd cut-off (0) rates 4 or 5: satisfied
TRUE_SIPAS = (60.0, 80.0, 90.0, 94.4, 98.0)
SIZES = (30, 100, 400)
SKIP_RATE = 0.05
NA_RATE = 0.05
_PHI = np.vectorize(NormalDist().cdf, otypes=[np.float64])


@dataclass(frozen=True)
class Scenario:
    name: str
    rho: float  # the weight of the respondent effect in every answer
    na_element: str | None = None  # the element whose criteria are mostly "not applicable"
    na_rate: float = NA_RATE
    tau: float = 0.0  # the weight of a second respondent effect shared by one element's criteria only


SCENARIOS = (
    Scenario("baseline", 0.5),
    Scenario("feedback 70% NA", 0.5, "feedback", 0.7),
    Scenario("strong correlation", 0.8),
)


@dataclass(frozen=True)
class Cell:
    scenario: Scenario
    target: float
    n: int


@dataclass(frozen=True)
class Coverage:
    """Shares (percent) of samples whose interval covers the truth, new and old, for SIPAS and each element."""

    cell: Cell
    sipas: float
    score_sipas: float  # the score interval alone, without the bootstrap-t for small groups
    old_sipas: float
    elements: dict[str, float]
    two_sided_elements: dict[str, float]  # the score interval's equal tails, without surveys.ceiling's rule
    old_elements: dict[str, float]
    zero_width: int  # samples whose new SIPAS or element interval has width 0


def layout() -> dict[str, str]:
    """sipas-2023's criteria, code -> element."""
    return load_builtin()["sipas-2023"].criteria()


def true_means(criteria: dict[str, str], target: float) -> np.ndarray:
    """The mu_i whose shares Phi(mu_i) average to ``target`` percent: a fixed spread of offsets plus a shift."""
    k = len(criteria)
    offsets = 0.5 * np.sin(np.arange(k) * 2.4)  # criteria differ by up to one standard deviation, no trend
    low, high = -6.0, 6.0
    for _ in range(80):  # bisection on the shift; the mean share rises with it
        middle = (low + high) / 2
        low, high = (middle, high) if _PHI(offsets + middle).mean() * 100 < target else (low, middle)
    return offsets + (low + high) / 2


def true_values(criteria: dict[str, str], means: np.ndarray) -> tuple[float, dict[str, float]]:
    """True SIPAS and element indices (percent) of the latent model."""
    shares = _PHI(means) * 100
    elements = list(dict.fromkeys(criteria.values()))
    parts = np.array([elements.index(e) for e in criteria.values()])
    return float(shares.mean()), {e: float(shares[parts == j].mean()) for j, e in enumerate(elements)}


def simulate(rng: np.random.Generator, criteria: dict[str, str], cell: Cell, samples: int) -> pd.DataFrame:
    """``samples`` surveys of ``cell.n`` respondents as one responses table with a ``sample`` column."""
    means = true_means(criteria, cell.target)
    rows, k, rho = samples * cell.n, len(criteria), cell.scenario.rho
    tau = cell.scenario.tau
    latent = means + rho * rng.standard_normal((rows, 1)) + np.sqrt(1 - rho * rho - tau * tau) * rng.standard_normal(
        (rows, k))
    if tau:  # answers within an element more alike than across elements
        elements = list(dict.fromkeys(criteria.values()))
        latent += tau * rng.standard_normal((rows, len(elements)))[:, [elements.index(e) for e in criteria.values()]]
    ratings = 1.0 + sum((latent > cut).astype(np.float64) for cut in THRESHOLDS)
    na_rate = np.array([cell.scenario.na_rate if e == cell.scenario.na_element else NA_RATE
                        for e in criteria.values()])
    u = rng.random((rows, k))
    ratings[u < na_rate] = 0.0
    ratings[(u >= na_rate) & (u < na_rate + SKIP_RATE)] = np.nan
    table = pd.DataFrame(ratings, columns=list(criteria))
    table.insert(0, "sample", np.repeat(np.arange(samples), cell.n))
    return table


def measure(rng: np.random.Generator, criteria: dict[str, str], cell: Cell, samples: int) -> Coverage:
    """Coverage of the new and the old interval in one cell."""
    table = simulate(rng, criteria, cell, samples)
    sipas_true, element_true = true_values(criteria, true_means(criteria, cell.target))
    scores = score(table, criteria, by=["sample"], min_n=0)
    old = _old_intervals(table, criteria, samples)
    elements = list(element_true)
    new_low = scores.elements["low"].to_numpy().reshape(samples, -1)
    new_high = scores.elements["high"].to_numpy().reshape(samples, -1)
    truth = np.array([element_true[e] for e in elements])
    groups = scores.groups
    width = np.concatenate([(groups["sipas_high"] - groups["sipas_low"]).to_numpy(), (new_high - new_low).ravel()])
    return Coverage(
        cell=cell,
        sipas=_covered(groups["sipas_low"].to_numpy(), groups["sipas_high"].to_numpy(), sipas_true),
        score_sipas=_covered(old[4], old[5], sipas_true),
        old_sipas=_covered(old[0], old[1], sipas_true),
        elements={e: _covered(new_low[:, j], new_high[:, j], truth[j]) for j, e in enumerate(elements)},
        two_sided_elements={e: _covered(old[6][:, j], old[7][:, j], truth[j]) for j, e in enumerate(elements)},
        old_elements={e: _covered(old[2][:, j], old[3][:, j], truth[j]) for j, e in enumerate(elements)},
        zero_width=int((width <= 0).sum()),
    )


def _old_intervals(table: pd.DataFrame, criteria: dict[str, str], samples: int):
    """The former interval (normal, clipped to [0, 100]) on the same linearised standard errors, the score
    interval without the bootstrap, and the element intervals without the one-sided rule near the ceiling."""
    elements = list(dict.fromkeys(criteria.values()))
    outcomes = [np.take(OUTCOME, cell_codes(table[code]), mode="clip") for code in criteria]
    parts = [elements.index(criteria[code]) for code in criteria]
    ratios = intervals.mean_of_ratios(table["sample"].to_numpy(), outcomes, parts, samples)
    low, high = intervals.normal_interval(ratios.estimate, ratios.se)
    part_low, part_high = intervals.normal_interval(ratios.part_estimate, ratios.part_se)
    unsatisfied = np.logical_or.reduce([outcome == intervals.NOT_SATISFIED for outcome in outcomes])
    unhappy = np.bincount(table["sample"].to_numpy()[unsatisfied], minlength=samples)
    score_low, score_high = intervals.score_interval(ratios.estimate, ratios.se, ratios.units, unhappy=unhappy)
    two_low, two_high = intervals.score_interval(ratios.part_estimate, ratios.part_se, ratios.part_units)
    return low, high, part_low, part_high, score_low, score_high, two_low, two_high


def _covered(low: np.ndarray, high: np.ndarray, truth: float) -> float:
    """Percent of samples with low <= truth <= high (a null interval does not cover)."""
    return float(100 * np.mean((low <= truth) & (truth <= high)))


def cells(scenarios=SCENARIOS, targets=TRUE_SIPAS, sizes=SIZES) -> list[Cell]:
    return [Cell(s, t, n) for s in scenarios for t in targets for n in sizes]


def _matches(cell: Cell, pattern: str) -> bool:
    """Whether ``cell`` matches "scenario:truth:n", where any part may be "*"."""
    wanted = [part.strip() for part in pattern.split(":")]
    if len(wanted) != 3:
        raise SystemExit(f"--only wants SCENARIO:TRUTH:N, got {pattern!r}")
    actual = (cell.scenario.name, f"{cell.target:g}", str(cell.n))
    return all(w in ("*", a) for w, a in zip(wanted, actual, strict=True))


def table_markdown(results: list[Coverage]) -> str:
    """One line per cell: SIPAS new and old, the lowest and highest element new and old, and whether the goal holds."""
    lines = ["| scenario | true SIPAS | n | SIPAS | SIPAS, score | SIPAS, old | elements | elements, two-sided | "
             "elements, old | 93–97 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        new, two, old = r.elements.values(), r.two_sided_elements.values(), r.old_elements.values()
        ok = all(93 <= v <= 97 for v in (r.sipas, *new))
        lines.append(f"| {r.cell.scenario.name} | {r.cell.target:g} | {r.cell.n} | {r.sipas:.1f} | "
                     f"{r.score_sipas:.1f} | {r.old_sipas:.1f} | {min(new):.1f}–{max(new):.1f} | "
                     f"{min(two):.1f}–{max(two):.1f} | "
                     f"{min(old):.1f}–{max(old):.1f} | "
                     f"{'yes' if ok else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3000, help="simulated surveys per cell (default 3000)")
    parser.add_argument("--seed", type=int, default=12, help="random seed (default 12)")
    parser.add_argument("--element-effect", type=float, default=0.0, metavar="TAU",
                        help="add a respondent effect per element with this weight (default 0: none)")
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO:TRUTH:N",
                        help='run only these cells, e.g. "strong correlation:98:30"; "*" matches any part; '
                             "repeatable (the cells draw other samples than in the full run)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    criteria = layout()
    started = time.perf_counter()
    scenarios = tuple(replace(s, tau=args.element_effect) for s in SCENARIOS)
    chosen = [cell for cell in cells(scenarios)
              if not args.only or any(_matches(cell, pattern) for pattern in args.only)]
    if not chosen:
        parser.error(f"no cell matches {args.only}")
    results = [measure(rng, criteria, cell, args.samples) for cell in chosen]
    print(table_markdown(results))
    missed = [r for r in results if not all(93 <= v <= 97 for v in (r.sipas, *r.elements.values()))]
    zero = sum(r.zero_width for r in results)
    print(f"\n{len(results)} cells x {args.samples} samples in {time.perf_counter() - started:.0f} s; "
          f"{len(missed)} cells outside 93-97%; {zero} zero-width intervals.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
