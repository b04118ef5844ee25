"""Where exactly a level shift sits: the split that best fits two segment medians (pure).

A purely computational module with no side effects. A rank scan test says whether a segment
splits, but ranks forget how far values lie apart: right after a large shift, the first runs
at the new level that happen to be low among the new runs pull the rank statistic's peak a few
runs late (or early). The split that minimises the absolute deviations from the medians of the
two parts uses the magnitudes and is as robust to single flaky runs as a median. It is trusted
only when the two parts are well separated (medians several robust spreads apart): when runs
flip between two modes, magnitudes mislead and the rank split stays.
"""

from __future__ import annotations

import heapq

import numpy as np

from perftest_operator.analysis.series import FloatArray
from perftest_operator.analysis.tail import robust_spread

# Medians of the two parts at least this many robust spreads apart: a clean level shift.
DEFAULT_SEPARATION = 2.0


def prefix_abs_deviations(values: FloatArray) -> FloatArray:
    """costs[k] = sum of |x - median(values[:k])| over values[:k], for k = 0..n (O(n log n))."""
    costs = np.zeros(values.size + 1)
    lower: list[float] = []  # max-heap (negated) of the smaller half, holds the median when odd
    upper: list[float] = []  # min-heap of the larger half
    lower_sum = upper_sum = 0.0
    for k, value in enumerate(values.tolist(), start=1):
        if lower and value > -lower[0]:
            heapq.heappush(upper, value)
            upper_sum += value
        else:
            heapq.heappush(lower, -value)
            lower_sum += value
        if len(lower) > len(upper) + 1:
            moved = -heapq.heappop(lower)
            lower_sum -= moved
            heapq.heappush(upper, moved)
            upper_sum += moved
        elif len(upper) > len(lower):
            moved = heapq.heappop(upper)
            upper_sum -= moved
            heapq.heappush(lower, -moved)
            lower_sum += moved
        median_term = -lower[0] if k % 2 else 0.0
        costs[k] = upper_sum - lower_sum + median_term
    return costs


def median_split(values: FloatArray, min_size: int) -> int:
    """The split (first index of the right part) with the least total absolute deviation.

    Both parts hold at least `min_size` values; the earliest of equally good splits wins.
    """
    length = values.size
    left = prefix_abs_deviations(values)
    right = prefix_abs_deviations(values[::-1])
    splits = np.arange(min_size, length - min_size + 1)
    totals = left[splits] + right[length - splits]
    return int(splits[int(np.argmin(totals))])


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
    values each and medians `separation` robust spreads apart, and each moved run must lie
    fewer robust spreads from the median of the side it joins than from the other one's.
    """
    if before.size < 2 or after.size < 2:
        return False
    centres = (float(np.median(before)), float(np.median(after)))
    spreads = (robust_spread(before), robust_spread(after))
    gap = abs(centres[1] - centres[0])
    if gap == 0.0 or gap < separation * max(spreads):
        return False
    from_before = _spreads_away(moved, centres[0], spreads[0])
    from_after = _spreads_away(moved, centres[1], spreads[1])
    joined, left = (from_after, from_before) if to_after else (from_before, from_after)
    return bool(np.all(joined < left))


def place_split(values: FloatArray, rank_index: int, min_size: int, separation: float) -> int:
    """Where the split of `values` found by the rank scan at `rank_index` really sits.

    The median split wins when the runs it moves to the other side fit there (`moved_runs_fit`);
    otherwise (runs flipping between modes, a new level that is itself two modes) the rank
    split stays.
    """
    index = median_split(values, min_size)
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
