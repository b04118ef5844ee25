"""Where exactly a level shift sits: the split that best fits two segment medians (pure).

A purely computational module with no side effects. A rank scan test says whether a segment
splits, but ranks forget how far values lie apart: right after a large shift, the first runs
at the new level that happen to be low among the new runs pull the rank statistic's peak a few
runs late (or early). A split that minimises the absolute deviations from the medians of the
two parts (found by refining the rank split) uses the magnitudes and is as robust to single
flaky runs as a median. It is trusted only when the two parts are well separated (medians several robust spreads apart): when runs
flip between two modes, magnitudes mislead and the rank split stays.
"""

from __future__ import annotations

import numpy as np

from perftest_operator.analysis.medians import median
from perftest_operator.analysis.series import FloatArray
from perftest_operator.analysis.tail import robust_spread

# Medians of the two parts at least this many robust spreads apart: a clean level shift.
DEFAULT_SEPARATION = 2.0


# Rounds of the two-medians refinement; each round lowers the cost, so it settles quickly.
MAX_ROUNDS = 8


def median_split(values: FloatArray, min_size: int, start: int) -> int:
    """A split (first index of the right part) that locally minimises the absolute deviations.

    Starting from `start`, alternate: take the medians of the two parts, then move the split to
    where the absolute deviations from those two medians are least (an O(n) cumulative sum).
    Neither step raises the total absolute deviation from the parts' medians, so this settles on
    a split no worse than `start`. Both parts hold at least `min_size` values; the earliest of
    equally good splits wins.
    """
    length = values.size
    index = start
    for _ in range(MAX_ROUNDS):
        left, right = median(values[:index]), median(values[index:])
        # cost(k) - constant = sum over the first k values of |x - left| - |x - right|
        excess = np.concatenate(([0.0], (np.abs(values - left) - np.abs(values - right)).cumsum()))
        best = min_size + int(excess[min_size : length - min_size + 1].argmin())
        if best == index or excess[best] >= excess[index]:
            break
        index = best
    return index


def split_cost(values: FloatArray, index: int, medians: tuple[float, float] | None = None) -> float:
    """Total absolute deviation of the two parts of `values` split at `index` from their medians.

    `medians` may give those of the two parts when the caller knows them.
    """
    left, right = values[:index], values[index:]
    left_median, right_median = (median(left), median(right)) if medians is None else medians
    return float(
        np.add.reduce(np.abs(left - left_median)) + np.add.reduce(np.abs(right - right_median))
    )


def _spreads_away(values: FloatArray, centre: float, spread: float) -> FloatArray:
    distance = np.abs(values - centre)
    if spread > 0.0:
        scaled: FloatArray = distance / spread
        return scaled
    return np.where(distance > 0.0, np.inf, 0.0)


def moved_runs_fit(
    before: FloatArray, moved: FloatArray, after: FloatArray, *, to_after: bool, separation: float
) -> bool:
    """Whether the runs that change sides belong with the side they join.

    `before` and `after` are the runs on the same side under both placements; they need two
    values each and medians `separation` robust spreads apart, and the moved runs together
    must lie fewer robust spreads from the median of the side they join than from the other
    one's (summed over the runs: one noisy run among them that looks like the other side does
    not hold the split back, as it would not hold back the least absolute deviations).
    """
    if before.size < 2 or after.size < 2:
        return False
    centres = (median(before), median(after))
    spreads = (robust_spread(before), robust_spread(after))
    gap = abs(centres[1] - centres[0])
    if gap == 0.0 or gap < separation * max(spreads):
        return False
    from_before = _spreads_away(moved, centres[0], spreads[0])
    from_after = _spreads_away(moved, centres[1], spreads[1])
    joined, left = (from_after, from_before) if to_after else (from_before, from_after)
    return bool(np.add.reduce(joined) < np.add.reduce(left))


def place_split(values: FloatArray, rank_index: int, min_size: int, separation: float) -> int:
    """Where the split of `values` found by the rank scan at `rank_index` really sits.

    The median split wins when the runs it moves to the other side fit there (`moved_runs_fit`);
    otherwise (runs flipping between modes, a new level that is itself two modes) the rank
    split stays.
    """
    index = median_split(values, min_size, rank_index)
    if index == rank_index:
        return index
    low, high = sorted((index, rank_index))
    fits = moved_runs_fit(
        values[:low],
        values[low:high],
        values[high:],
        to_after=index < rank_index,
        separation=separation,
    )
    return index if fits else rank_index
