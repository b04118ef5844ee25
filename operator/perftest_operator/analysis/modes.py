"""Runs that flip between two modes: which mode each run is in, when the modes are clear (pure).

A purely computational module with no side effects. When a KPI flips between two modes (a cache
hit or miss, a fast or a slow node), the change that matters is in the MIX of modes, and the
noise within each mode only dilutes a rank test of it. So a segment whose values fall into two
clearly separated clusters is reduced to its mode-indicator sequence (0 = lower mode, 1 = upper
mode), and the change tests run on that sequence instead. For the same reason the newest runs
of such a history are judged by their modes (`newest_mode_departure`): a run in a known mode is
not a departure, a run of one mode too long for its share is.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from perftest_operator.analysis.series import FloatArray, sorted_copy
from perftest_operator.analysis.tail import (
    IQR_TO_SIGMA,
    Departure,
    TailSettings,
    newest_departure,
    sorted_quantile,
    sorted_spread,
)

# Each mode holds at least this share of the runs (and MIN_MODE_RUNS runs): a few flaky runs
# are outliers, not a mode.
MIN_MODE_SHARE = 0.1
MIN_MODE_RUNS = 3
# The modes' medians lie at least this many within-mode robust spreads apart. A unimodal
# Gaussian sample cut at its median gives about 2.7; two modes of a real flip give far more.
MODE_SEPARATION = 5.0
# Fewest runs for a segment to be read as two modes.
MIN_LENGTH = 12
# A change in the mix of modes is placed where it most likely lies within this many runs.
MIX_TOLERANCE = 2


@functools.lru_cache(maxsize=256)
def _cluster_sizes(length: int, smallest: int) -> tuple[FloatArray, FloatArray]:
    """Sizes of the lower and the upper cluster at each allowed split; read-only, per length."""
    lower = np.arange(smallest, length - smallest + 1, dtype=np.float64)
    upper = length - lower
    lower.flags.writeable = False
    upper.flags.writeable = False
    return lower, upper


def _best_two_clusters(ordered: FloatArray, smallest: int) -> int:
    """Size of the lower cluster of the 2-means split of sorted values (least squared error)."""
    length = ordered.size
    sums = ordered.cumsum()
    squares = (ordered**2).cumsum()
    lower_size, upper_size = _cluster_sizes(length, smallest)
    left_sum, left_sq = (
        sums[smallest - 1 : length - smallest],
        squares[smallest - 1 : length - smallest],
    )
    right_sum, right_sq = sums[-1] - left_sum, squares[-1] - left_sq
    error = (left_sq - left_sum**2 / lower_size) + (right_sq - right_sum**2 / upper_size)
    return smallest + int(error.argmin())


def _within_spreads(gap: float, ordered: FloatArray) -> bool:
    """gap < `MODE_SEPARATION` * `sorted_spread(ordered)`, tried on the spread's IQR half first.

    The spread is the larger of a scaled MAD and a scaled IQR; the IQR needs no further sort.
    """
    iqr = sorted_quantile(ordered, 0.75) - sorted_quantile(ordered, 0.25)
    if gap < MODE_SEPARATION * (iqr / IQR_TO_SIGMA):
        return True
    return gap < MODE_SEPARATION * sorted_spread(ordered)


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
    ordered = sorted_copy(scaled)
    lower_size = _best_two_clusters(ordered, smallest)
    lower, upper = ordered[:lower_size], ordered[lower_size:]
    gap = sorted_quantile(upper, 0.5) - sorted_quantile(lower, 0.5)
    # gap < MODE_SEPARATION * the larger spread; the upper cluster's is not needed when the
    # lower one's already rules the modes out
    if gap <= 0.0 or _within_spreads(gap, lower) or _within_spreads(gap, upper):
        return None
    indicator: FloatArray = (scaled >= upper[0]).astype(np.float64)
    return indicator


class SegmentModes:
    """`mode_indicator` of segments of one series, each segment computed once (read-only arrays).

    The segmentation, the materiality check and the newest-runs check all ask about the same
    segments of a history.
    """

    def __init__(self, series: FloatArray) -> None:
        self._series = series
        self._known: dict[tuple[int, int], FloatArray | None] = {}

    def of(self, start: int, end: int) -> FloatArray | None:
        """`mode_indicator(series[start:end])`."""
        key = (start, end)
        if key not in self._known:
            indicator = mode_indicator(self._series[start:end])
            if indicator is not None:
                indicator.flags.writeable = False
            self._known[key] = indicator
        return self._known[key]


def _log_beta_of_counts(
    ones: FloatArray, zeros: FloatArray, log_factorials: FloatArray
) -> FloatArray:
    """log B(ones + 1, zeros + 1) = log(ones! zeros! / (ones + zeros + 1)!) for whole counts."""
    ones_at, zeros_at = np.rint(ones).astype(np.int64), np.rint(zeros).astype(np.int64)
    terms: FloatArray = (
        log_factorials[ones_at] + log_factorials[zeros_at] - log_factorials[ones_at + zeros_at + 1]
    )
    return terms


def mix_split_posterior(indicator: FloatArray, min_size: int) -> FloatArray:
    """Posterior probability of each split (first index of the right part) of a 0/1 sequence.

    Entry i is for the split at `min_size` + i. Two Bernoulli parts with unknown shares, each
    share uniform on [0, 1] and integrated out (a Beta function of each part's counts), and a
    uniform prior over the splits that leave at least `min_size` runs on each side.
    """
    length = indicator.size
    sizes = np.arange(min_size, length - min_size + 1, dtype=np.float64)
    ones = indicator.cumsum()
    left = ones[min_size - 1 : length - min_size]
    right = ones[-1] - left
    log_factorials = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1.0, length + 2.0)))))
    log_posterior = _log_beta_of_counts(left, sizes - left, log_factorials) + _log_beta_of_counts(
        right, length - sizes - right, log_factorials
    )
    weights = np.exp(log_posterior - log_posterior.max())
    posterior: FloatArray = weights / weights.sum()
    return posterior


def _minority_share(part: FloatArray) -> float:
    """Share of the runs of `part` in its less frequent mode."""
    upper = float(np.add.reduce(part)) / part.size  # as numpy's mean
    return min(upper, 1.0 - upper)


def mix_split(indicator: FloatArray, min_size: int, tolerance: int = MIX_TOLERANCE) -> int:
    """Where the share of upper-mode runs changes (first index of the right part).

    A change in a share cannot be placed to the run: near it, runs of either mode are likely on
    both sides, and the likelihood is flat and ragged over several runs (the most likely split
    jumps to whichever nearby run happens to be in the new majority mode). So the split
    reported is the centre of the window of 2 `tolerance` + 1 splits that holds the most
    posterior mass (`mix_split_posterior`): the Bayes choice when a placement counts if it is
    within `tolerance` runs of the change. A switch from one mode to the other (each part in
    one mode but for fewer than `MIN_MODE_SHARE` of its runs: flaky runs, not a mix) is a
    level shift, not a change in a mix: it is placed at its most likely split, its first run.
    Each part holds at least `min_size` runs; the earliest of equally good splits wins.
    """
    posterior = mix_split_posterior(indicator, min_size)
    likeliest = min_size + int(posterior.argmax())
    if (
        max(_minority_share(indicator[:likeliest]), _minority_share(indicator[likeliest:]))
        < MIN_MODE_SHARE
    ):
        return likeliest
    mass = np.convolve(posterior, np.ones(2 * tolerance + 1), mode="same")
    return min_size + int(mass.argmax())


def trailing_run(indicator: FloatArray) -> int:
    """How many of the newest runs are in the same mode as the newest one."""
    changes = np.flatnonzero(indicator != indicator[-1])
    return int(indicator.size - 1 - changes[-1]) if changes.size else int(indicator.size)


def trailing_run_p_value(indicator: FloatArray, run: int) -> float:
    """Chance that the newest `run` runs all lie in the newest run's mode by luck, either mode.

    Under no change the runs are exchangeable, so given how many runs that mode holds (m of n),
    the newest `run` are a random draw without replacement: C(m, run) / C(n, run)
    (hypergeometric), doubled because a run of either mode would have been tested.
    """
    same = int(np.count_nonzero(indicator == indicator[-1]))
    return min(1.0, 2.0 * math.comb(same, run) / math.comb(indicator.size, run))


def newest_mode_departure(
    series: FloatArray,
    regime_start: int,
    indicator: FloatArray,
    settings: TailSettings,
    alpha: float,
) -> Departure | None:
    """The newest-runs check (`tail.newest_departure`) of the regime `series[regime_start:]`
    when the history flips between two modes (`indicator` = `mode_indicator(series)`).

    A run in a mode the history already knows is not a departure by itself; what departs is
    the mix: the newest runs of the regime all in one mode, a run that long being unlikely (at
    most `alpha`, `trailing_run_p_value`) for the regime's share of that mode. Otherwise the
    newest runs of one mode are checked against the earlier runs of the SAME mode only (a new
    level within a mode): those of the regime, or of the whole history when the regime has
    fewer than `settings.min_reference` of them (too few to compare with: no departure). A
    mode the history holds fewer than `MIN_MODE_RUNS` runs of before the newest ones is not
    known yet: then the regime gets the plain check. The index returned is into the regime and
    leaves at least `settings.min_reference` regime runs before it.
    """
    regime, modes = series[regime_start:], indicator[regime_start:]
    run = min(trailing_run(modes), settings.max_newest)
    upward = bool(modes[-1] == 1.0)
    if run >= settings.min_size and regime.size - run >= settings.min_reference:
        p_value = trailing_run_p_value(modes, run)
        if p_value <= alpha:
            return Departure(index=regime.size - run, upward=upward, p_value=p_value)
    same_mode = np.flatnonzero(indicator == indicator[-1])
    in_regime = same_mode[same_mode >= regime_start]
    if in_regime.size - run >= settings.min_reference:
        same_mode = in_regime
    elif same_mode.size - run < MIN_MODE_RUNS:
        return newest_departure(regime, settings)
    within = newest_departure(series[same_mode], dataclasses.replace(settings, max_newest=run))
    if within is None or same_mode[within.index] - regime_start < settings.min_reference:
        return None
    return dataclasses.replace(within, index=int(same_mode[within.index]) - regime_start)
