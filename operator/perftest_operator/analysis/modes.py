"""Runs that flip between two modes: which mode each run is in, when the modes are clear (pure).

A purely computational module with no side effects. When a KPI flips between two modes (a cache
hit or miss, a fast or a slow node), the change that matters is in the MIX of modes, and the
noise within each mode only dilutes a rank test of it. So a segment whose values fall into two
clearly separated clusters is reduced to its mode-indicator sequence (0 = lower mode, 1 = upper
mode), and the change tests run on that sequence instead.
"""

from __future__ import annotations

import math

import numpy as np

from perftest_operator.analysis.series import FloatArray
from perftest_operator.analysis.tail import sorted_quantile, sorted_spread

# Each mode holds at least this share of the runs (and MIN_MODE_RUNS runs): a few flaky runs
# are outliers, not a mode.
MIN_MODE_SHARE = 0.1
MIN_MODE_RUNS = 3
# The modes' medians lie at least this many within-mode robust spreads apart. A unimodal
# Gaussian sample cut at its median gives about 2.7; two modes of a real flip give far more.
MODE_SEPARATION = 5.0
# Fewest runs for a segment to be read as two modes.
MIN_LENGTH = 12


def _best_two_clusters(ordered: FloatArray, smallest: int) -> int:
    """Size of the lower cluster of the 2-means split of sorted values (least squared error)."""
    length = ordered.size
    sums = ordered.cumsum()
    squares = (ordered**2).cumsum()
    sizes = np.arange(smallest, length - smallest + 1)
    left_sum, left_sq = (
        sums[smallest - 1 : length - smallest],
        squares[smallest - 1 : length - smallest],
    )
    right_sum, right_sq = sums[-1] - left_sum, squares[-1] - left_sq
    error = (left_sq - left_sum**2 / sizes) + (right_sq - right_sum**2 / (length - sizes))
    return smallest + int(error.argmin())


def mode_indicator(values: FloatArray) -> FloatArray | None:
    """1.0 for runs in the upper mode, 0.0 for the lower one; None unless two modes are clear.

    Values are compared on a log scale when all are positive (modes of latencies are ratios
    apart). The two clusters are the 2-means split of the sorted values; they count as modes
    when each holds at least `MIN_MODE_SHARE` of the runs and their medians are at least
    `MODE_SEPARATION` times the larger within-cluster robust spread apart (so a cluster that is
    itself two modes, or plain noise, is not read as one mode).
    """
    length = values.size
    smallest = max(MIN_MODE_RUNS, math.ceil(MIN_MODE_SHARE * length))
    if length < max(MIN_LENGTH, 2 * smallest):
        return None
    scaled = np.log(values) if values.min() > 0.0 else values
    ordered = np.sort(scaled)
    lower_size = _best_two_clusters(ordered, smallest)
    lower, upper = ordered[:lower_size], ordered[lower_size:]
    gap = sorted_quantile(upper, 0.5) - sorted_quantile(lower, 0.5)
    # gap < MODE_SEPARATION * the larger spread; the upper cluster's is not needed when the
    # lower one's already rules the modes out
    if (
        gap <= 0.0
        or gap < MODE_SEPARATION * sorted_spread(lower)
        or gap < MODE_SEPARATION * sorted_spread(upper)
    ):
        return None
    indicator: FloatArray = (scaled >= upper[0]).astype(np.float64)
    return indicator


def _count_log_share(count: FloatArray, size: FloatArray) -> FloatArray:
    """count * log(count / size), 0 where count is 0 (the Bernoulli log-likelihood terms)."""
    safe = np.where(count > 0.0, count, 1.0)
    terms: FloatArray = np.where(count > 0.0, count * np.log(safe / size), 0.0)
    return terms


def mix_split(indicator: FloatArray, min_size: int) -> int:
    """Where the share of upper-mode runs most likely changes (first index of the right part).

    The maximum-likelihood split of a 0/1 sequence into two Bernoulli parts, each holding at
    least `min_size` runs; the earliest of equally likely splits wins.
    """
    length = indicator.size
    sizes = np.arange(min_size, length - min_size + 1, dtype=np.float64)
    ones = np.cumsum(indicator)
    left = ones[min_size - 1 : length - min_size]
    right = ones[-1] - left
    rest = length - sizes
    likelihood = (
        _count_log_share(left, sizes)
        + _count_log_share(sizes - left, sizes)
        + _count_log_share(right, rest)
        + _count_log_share(rest - right, rest)
    )
    return min_size + int(np.argmax(likelihood))
