"""Whether the newest runs alone depart from the runs before them (pure, seeded).

A scan test cannot call a change on one or two new runs, yet the newest run is the one a person
wants to hear about. This test compares the newest k runs with the reference runs before them:
all k must lie on the same side, more than max(`z_limit` / sqrt(k), `LIMIT_FLOOR`) robust
spreads away from the reference median (one run must be far out; several runs in a row need
less each, so a step of a few noise spreads is seen within a run or two and stays seen). The
spread is the larger of the MAD and the IQR (both scaled to a normal sigma), so a reference
that flips between two modes has a wide spread; and at most `max_rivals` reference runs may be
as extreme as the newest ones, so a value in a minority mode already seen several times is not
a departure either (one earlier flaky run is tolerated). The largest such k (up to
`max_newest`; past that the scan test has the power) wins, so the change is placed at the
first departing run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perftest_operator.analysis.ranktest import midranks
from perftest_operator.analysis.series import FloatArray

MAD_TO_SIGMA = 1.4826
IQR_TO_SIGMA = 1.349
# Reference runs allowed to be as extreme as the newest ones (one earlier flaky run).
MAX_RIVALS = 1
# Several newest runs in a row must still each be this many robust spreads out.
LIMIT_FLOOR = 2.5


@dataclass(frozen=True)
class Departure:
    """The newest runs from `index` on depart from the runs before them."""

    index: int  # first departing run, as an index into the regime given
    p_value: float  # one-sided p-value of the departing runs' rank sum within the regime


def robust_spread(values: FloatArray) -> float:
    """A scale estimate that is robust to outliers and widens for two-mode values."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median))) * MAD_TO_SIGMA
    q25, q75 = np.quantile(values, [0.25, 0.75])
    return max(mad, float(q75 - q25) / IQR_TO_SIGMA)


def _rank_sum_p_value(
    regime: FloatArray, newest: int, upward: bool, permutations: int, rng: np.random.Generator
) -> float:
    """Chance that `newest` runs drawn at random rank at least as high (or low) as the last ones.

    Exact (1 / C(n, newest)) when the newest runs are all beyond every earlier run of the regime,
    the usual case; otherwise estimated with seeded permutations.
    """
    latest, earlier = regime[-newest:], regime[:-newest]
    beyond = latest.min() > earlier.max() if upward else latest.max() < earlier.min()
    if beyond:
        return 1.0 / math.comb(regime.size, newest)
    ranks = midranks(regime)
    if not upward:
        ranks = ranks.size + 1.0 - ranks
    observed = float(np.sum(ranks[-newest:])) - 1e-9
    shuffled = rng.permuted(np.broadcast_to(ranks, (permutations, ranks.size)), axis=1)
    as_high = int(np.count_nonzero(np.sum(shuffled[:, -newest:], axis=1) >= observed))
    return (as_high + 1) / (permutations + 1)


def newest_departure(
    regime: FloatArray,
    *,
    min_size: int,
    min_reference: int,
    z_limit: float,
    max_newest: int,
    max_rivals: int = MAX_RIVALS,
    permutations: int,
    seed: int,
) -> Departure | None:
    """The earliest start of a run of newest values that all depart from the runs before them."""
    longest = min(regime.size - min_reference, max_newest)
    if longest < min_size or not _newest_is_extreme(regime, longest, max_rivals):
        return None
    for newest in range(longest, min_size - 1, -1):
        reference, latest = regime[:-newest], regime[-newest:]
        if int(np.count_nonzero(reference >= latest.min())) <= max_rivals:
            upward = True
        elif int(np.count_nonzero(reference <= latest.max())) <= max_rivals:
            upward = False
        else:
            continue
        deviation = latest - float(np.median(reference))
        limit = max(z_limit / math.sqrt(newest), LIMIT_FLOOR) * robust_spread(reference)
        if np.all(deviation > limit) if upward else np.all(deviation < -limit):
            rng = np.random.default_rng([seed, regime.size, newest])
            p_value = _rank_sum_p_value(regime, newest, upward, permutations, rng)
            return Departure(index=regime.size - newest, p_value=p_value)
    return None


def _newest_is_extreme(regime: FloatArray, longest: int, max_rivals: int) -> bool:
    """A cheap necessary condition: few of the oldest runs are as extreme as the newest run.

    Every reference holds the runs before the `longest` newest ones, and every set of newest
    runs holds the newest run, so without this no departure can have `max_rivals` or fewer.
    """
    oldest, last = regime[:-longest], regime[-1]
    return (
        int(np.count_nonzero(oldest >= last)) <= max_rivals
        or int(np.count_nonzero(oldest <= last)) <= max_rivals
    )
