"""Whether the newest runs alone depart from the runs before them (pure, seeded).

A scan test cannot call a change on one or two new runs, yet the newest run is the one a person
wants to hear about. This test compares the newest k runs with the reference runs before them:
all k must lie on the same side, the first more than `FIRST_FLOOR` and the others more than
`LATER_FLOOR` spreads away from the reference median, and on average `z_limit` / sqrt(k)
away (one run must be far out; several runs in a row need less each, so a step of a few noise
spreads is seen within a run or two and stays seen) unless `RANKED_MIN_RUNS` or more of them
all lie beyond every reference run. The spread is the reference's standard deviation, or its
robust spread where that is smaller (`sorted_noise_spread`: the larger of the MAD and the IQR,
both scaled to a normal sigma, so flaky runs do not widen it and a reference that flips between
two modes has a wide one); and at most `max_rivals` reference runs may be
as extreme as the newest ones, so a value in a minority mode already seen several times is not
a departure either (one earlier flaky run is tolerated). The largest such k (up to
`max_newest`; past that the scan test has the power) wins, so the change is placed at the
first departing run. A reference of fewer than `SHORT_REFERENCE` runs may be given a floor for
its spread (`TailSettings.relative_spread_floor`): a few runs that happen to lie close together
say little about the noise, and the segment before them says more.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from perftest_operator.analysis.ranktest import midranks
from perftest_operator.analysis.series import FloatArray, sorted_copy

MAD_TO_SIGMA = 1.4826
IQR_TO_SIGMA = 1.349
# Reference runs allowed to be as extreme as the newest ones (one earlier flaky run).
MAX_RIVALS = 1
# The first departing run must be this many spreads out, the later ones LATER_FLOOR;
# together they must be z_limit / sqrt(k) out on average (a z-test of their mean) ...
FIRST_FLOOR = 2.5
LATER_FLOOR = 1.5
# ... unless at least RANKED_MIN_RUNS of them are all beyond every reference run, which is
# already unlikely by chance (2 / C(n, k) for k of n runs).
RANKED_MIN_RUNS = 3
# A reference of fewer runs than this estimates its spread poorly (the MAD of six normal runs
# is below half the true sigma one time in five), so it borrows the noise of the segment before.
SHORT_REFERENCE = 10


@dataclass(frozen=True)
class TailSettings:
    """How the newest runs are checked (see the module docstring)."""

    min_size: int  # fewest newest runs that may depart
    min_reference: int  # fewest runs they are compared with
    z_limit: float  # one run must be this many spreads out; k runs z_limit / sqrt(k)
    max_newest: int  # the most newest runs looked at
    permutations: int  # for the rank-sum p-value when it is not exact
    seed: int
    # the noise borrowed from the segment before, relative to its median (0: none); the spread
    # of a reference shorter than SHORT_REFERENCE runs is at least this times its median
    relative_spread_floor: float = 0.0


@dataclass(frozen=True)
class Departure:
    """The newest runs from `index` on depart from the runs before them."""

    index: int  # first departing run, as an index into the regime given
    upward: bool  # the departing runs lie above the runs before them
    p_value: float  # one-sided p-value of the departing runs' rank sum within the regime


def sorted_quantile(ordered: FloatArray, share: float) -> float:
    """The `share` quantile of sorted values (linear interpolation, as numpy's default)."""
    position = share * (ordered.size - 1)
    low = int(position)
    lower, upper = ordered.item(low), ordered.item(min(low + 1, ordered.size - 1))
    return lower + (position - low) * (upper - lower)  # Python floats: numpy's IEEE operations


def sorted_spread(ordered: FloatArray) -> float:
    """`robust_spread` of values that are already sorted."""
    median = sorted_quantile(ordered, 0.5)
    deviations = np.abs(ordered - median)
    deviations.sort()
    mad = sorted_quantile(deviations, 0.5) * MAD_TO_SIGMA
    iqr = sorted_quantile(ordered, 0.75) - sorted_quantile(ordered, 0.25)
    return max(mad, iqr / IQR_TO_SIGMA)


def sorted_noise_spread(ordered: FloatArray) -> float:
    """The noise of sorted runs that a departure is measured in: the smaller of their standard
    deviation and `sorted_spread`.

    On plain noise the standard deviation is the sharper estimate (the MAD has 37 % of its
    efficiency on normal noise, so on 15 to 25 runs it often overstates the noise by a third or
    more, and a clear step then waits a run or two longer to be seen). Flaky runs, heavy tails
    and a second mode all inflate the standard deviation past the robust spread, which is then
    kept.
    """
    robust = sorted_spread(ordered)
    if ordered.size < 2:
        return robust
    return min(robust, float(np.std(ordered, ddof=1)))


def noise_spread(values: FloatArray) -> float:
    """`sorted_noise_spread` of runs in any order."""
    return sorted_noise_spread(sorted_copy(values))


def robust_spread(values: FloatArray) -> float:
    """A scale estimate that is robust to outliers and widens for two-mode values.

    The larger of the MAD and the IQR, both scaled to a normal sigma.
    """
    return sorted_spread(sorted_copy(values))


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
    regime: FloatArray, settings: TailSettings, max_rivals: int = MAX_RIVALS
) -> Departure | None:
    """The earliest start of a run of newest values that all depart from the runs before them."""
    departing = _departing_newest(regime, settings, max_rivals)
    if departing is None:
        return None
    newest, upward = departing
    rng = np.random.default_rng([settings.seed, regime.size, newest])
    p_value = _rank_sum_p_value(regime, newest, upward, settings.permutations, rng)
    return Departure(index=regime.size - newest, upward=upward, p_value=p_value)


class _ReferenceCentres:
    """Median, noise spread and extremes of the first runs of a regime, each count computed once.

    The replay checks prefixes of one regime, and the reference of a departure starting at a
    given run is the same runs whichever prefix it is checked in.
    """

    def __init__(self, regime: FloatArray, extremes: int) -> None:
        self._regime = regime
        self._known: dict[int, tuple[float, float]] = {}
        self._extremes = _PrefixExtremes(regime, extremes)

    def of_first(self, count: int) -> tuple[float, float]:
        """(median, `sorted_noise_spread`) of the first `count` runs."""
        known = self._known.get(count)
        if known is None:
            ordered = sorted_copy(self._regime[:count])
            known = self._known[count] = (
                sorted_quantile(ordered, 0.5),
                sorted_noise_spread(ordered),
            )
        return known

    def extremes_of_first(self, count: int) -> tuple[list[float], list[float]]:
        """The largest and the smallest of the first `count` runs (`_PrefixExtremes`)."""
        return self._extremes.of_first(count)


class _PrefixExtremes:
    """The `size` largest and the `size` smallest of the first runs of a regime (ascending lists).

    Growing counts (a replay) add the new runs one at a time; a jump or a smaller count sorts.
    """

    _MOST_ADDED = 16  # more new runs than this are sorted rather than added one at a time

    def __init__(self, regime: FloatArray, size: int) -> None:
        self._regime = regime
        self._size = size
        self._count = 0
        self._largest: list[float] = []
        self._smallest: list[float] = []

    def of_first(self, count: int) -> tuple[list[float], list[float]]:
        """(largest, smallest) of the first `count` runs; shared lists, not to be changed."""
        if count < self._count or count - self._count > self._MOST_ADDED:
            ordered = sorted_copy(self._regime[:count])
            self._largest = ordered[max(0, count - self._size) :].tolist()
            self._smallest = ordered[: self._size].tolist()
        else:
            for value in self._regime[self._count : count].tolist():
                _keep_extremes(self._largest, self._smallest, value, self._size)
        self._count = count
        return self._largest, self._smallest


def _keep_extremes(largest: list[float], smallest: list[float], value: float, size: int) -> None:
    """Add `value` to the ascending lists of the `size` largest and smallest values seen."""
    if size <= 0:
        return
    if len(largest) < size or value > largest[0]:
        bisect.insort(largest, value)
        if len(largest) > size:
            del largest[0]
    if len(smallest) < size or value < smallest[-1]:
        bisect.insort(smallest, value)
        if len(smallest) > size:
            del smallest[-1]


def _at_least(ordered: list[float], bound: float) -> int:
    """How many of `ordered` (ascending) are at or above `bound`."""
    return len(ordered) - bisect.bisect_left(ordered, bound)


def _at_most(ordered: list[float], bound: float) -> int:
    """How many of `ordered` (ascending) are at or below `bound`."""
    return bisect.bisect_right(ordered, bound)


def _departing_newest(
    regime: FloatArray,
    settings: TailSettings,
    max_rivals: int,
    fewest: int = 1,
    centres: _ReferenceCentres | None = None,
) -> tuple[int, bool] | None:
    """How many newest runs depart (the most that do) and whether upward; None if none do.

    Only counts from max(`fewest`, `settings.min_size`) up are tried. `centres` may come from
    a longer regime that `regime` is a prefix of, made with `max_rivals` + 1 extremes.
    """
    longest = min(regime.size - settings.min_reference, settings.max_newest)
    fewest = max(fewest, settings.min_size, 1)
    if longest < fewest:
        return None
    if centres is None:
        centres = _ReferenceCentres(regime, max_rivals + 1)
    largest, smallest = centres.extremes_of_first(regime.size - longest)
    newest_first = regime[regime.size - longest :][::-1].tolist()
    # a cheap necessary condition: every reference holds the runs before the longest newest
    # ones, and every set of newest runs holds the newest run
    if min(_at_least(largest, newest_first[0]), _at_most(smallest, newest_first[0])) > max_rivals:
        return None
    extremes = (list(largest), list(smallest))
    for newest, above, below in _rivals(newest_first, fewest, extremes, max_rivals + 1):
        if min(above, below) > max_rivals:
            continue
        upward = above <= below
        if _departs(regime, newest, upward, centres, settings, beyond_all=min(above, below) == 0):
            return newest, upward
    return None


def _departs(
    regime: FloatArray,
    newest: int,
    upward: bool,
    centres: _ReferenceCentres,
    settings: TailSettings,
    *,
    beyond_all: bool,
) -> bool:
    """Whether the newest `newest` runs lie far enough from the runs before them (see above)."""
    reference = regime.size - newest
    centre, spread = centres.of_first(reference)
    if reference < SHORT_REFERENCE:
        spread = max(spread, settings.relative_spread_floor * abs(centre))
    sign = 1.0 if upward else -1.0
    latest = regime[reference:].tolist()
    if not (latest[0] - centre) * sign > FIRST_FLOOR * spread:
        return False
    later_floor = LATER_FLOOR * spread
    if not all((value - centre) * sign > later_floor for value in latest):
        return False
    if beyond_all and newest >= RANKED_MIN_RUNS:
        return True
    mean = float(np.add.reduce((regime[reference:] - centre) * sign)) / newest  # as numpy's mean
    return mean > settings.z_limit / math.sqrt(newest) * spread


def _rivals(
    newest_first: list[float], fewest: int, extremes: tuple[list[float], list[float]], cap: int
) -> Iterator[tuple[int, int, int]]:
    """For each count k of newest runs, from all of `newest_first` (newest run first) down to
    `fewest`: k, the reference runs (all before the newest k) at or above the lowest of them,
    and those at or below the highest of them, each counted up to `cap` only.

    `extremes` holds the `cap` largest and smallest runs (ascending) before all of
    `newest_first`; it is updated in place as the reference gains runs. Up to `cap`, those
    tell the counts exactly: if a run at or above a bound is not among the `cap` largest, all
    `cap` of those are at or above it too.
    """
    largest, smallest = extremes
    lowest = list(itertools.accumulate(newest_first, min))
    highest = list(itertools.accumulate(newest_first, max))
    longest = len(newest_first)
    for newest in range(longest, fewest - 1, -1):
        if newest < longest:  # the reference gains the run just before the newest ones
            _keep_extremes(largest, smallest, newest_first[newest], cap)
        yield (
            newest,
            _at_least(largest, lowest[newest - 1]),
            _at_most(smallest, highest[newest - 1]),
        )


def first_flagged_index(
    regime: FloatArray,
    index: int,
    upward: bool,
    settings: TailSettings,
    *,
    window: int,
    horizon: int,
) -> int | None:
    """Where this check first flagged, for good, a change found later at `index` of `regime`.

    Replays the check on the growing prefixes of `regime` that end at most `horizon` runs after
    `index`, and returns the first departure the same way (`upward` or not) within `window` runs
    of `index` that the next prefix flags again at the same run (a flag that the next run
    withdraws or moves does not count). It depends only on those prefixes, so the answer stays
    the same as later runs arrive: the index the operator reported is the one it keeps.
    """
    first_end = max(index - window + 1, settings.min_reference + settings.min_size)
    previous: int | None = None
    centres = _ReferenceCentres(regime, MAX_RIVALS + 1)
    for end in range(first_end, min(regime.size, index + horizon) + 1):
        # departures starting after index + window do not count: fewer newest runs need no trying
        fewest = end - (index + window)
        departing = _departing_newest(regime[:end], settings, MAX_RIVALS, fewest, centres)
        flagged = (
            end - departing[0]
            if departing is not None
            and departing[1] == upward
            and abs(end - departing[0] - index) <= window
            else None
        )
        if flagged is not None and flagged == previous:
            return flagged
        previous = flagged
    return None
