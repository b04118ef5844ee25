"""Change points of one KPI history: where the level moved, by how much, and whether it got worse.

A purely computational module with no side effects; all randomness is seeded, so the same history
always gives the same answer. The method, step by step:

1. Binary segmentation with a rank scan test (`ranktest`): split the series where the
   standardised Mann-Whitney statistic is largest, keep the split if its scan p-value (which
   accounts for scanning every position: Siegmund's analytic approximation for the maximum of a
   standardised Brownian bridge, or seeded permutations for segments under 40 runs or heavily
   tied ones, drawn until their count settles which side of `alpha` the p-value lies on) is at
   most `alpha`, and recurse into both parts. Where no single split is significant, an
   interior part that returns to the old level (a transient change) is looked for by the range
   of the rank CUSUM (Kuiper's statistic, at a tenth of `alpha`) and cut out at both ends.
   Ranks make it scale-free and robust to single flaky runs and to runs flipping between modes.
   A segment under 40 runs is scanned on its values clipped at 1.5 robust spreads from its
   median instead (Huber's scores, permuted: `shortscan`): on few runs ranks lose the power to
   see a step of two or three noise spreads, and the clipping still bounds a flaky run.
   Where a segment's values fall into two clearly separated modes (`modes`), both tests run on
   the segment's mode-indicator sequence instead (the change is in the mix of modes, and the
   noise within each mode only dilutes it), and a split is placed where the change of the
   share of upper-mode runs most likely lies within two runs (the posterior of its position,
   `modes.mix_split`; a clean switch from one mode to the other at its first run). A
   transient change in the mix leaves at least `modes.MIN_MODE_RUNS` runs in each of its three
   parts: a share is not read from one or two runs.
   Ranks forget magnitudes, so where the two parts are clearly apart (medians at least
   `separation` robust spreads apart) the split is placed where the absolute deviations from
   the two medians are least (`placement`): a large shift is then placed at its first run.
2. Materiality: while some change moves the segment median by less than one run-to-run noise
   spread pooled over the history (`effect`: a scan on long segments calls even smaller shifts
   significant), and then while some change moves it by less than `threshold_percent`, drop
   the smallest such change and merge its segments (medians are recomputed each time).
3. The newest runs (`tail`): a scan test cannot call a change on one or two new runs, so the
   newest k runs of the last segment are also compared with the runs before them (all beyond
   max(`tail_z` / sqrt(k), 2.5) spreads from their median (the standard deviation, or the
   larger of MAD and IQR where that is smaller: flaky runs do not widen it), and at most one
   earlier run as extreme); a reference of fewer than ten runs estimates its spread poorly, so
   its spread is at least the relative spread of the segment before it (the noise of a KPI
   does not shrink because its level moved). Where the history flips between two clear modes
   (`modes`), a run in a mode the history already knows is no departure: the newest runs
   depart when they are a run of one mode too long for the segment's share of that mode
   (hypergeometric p-value at most `alpha`), or when they depart from the earlier runs of
   their own mode. A departure found here is provisional: step 1 later confirms it, or it is
   withdrawn when the next runs return to the old level.
4. Stability as the history grows: each change point is moved to the run where the newest-runs
   check first flagged it for good (the check replayed on the prefixes up to `ANCHOR_HORIZON`
   runs after it, a flag counting once the next prefix flags the same run), when that run is
   at most `ANCHOR_WINDOW` runs away, the change goes the same way and the split fits about as
   well there. This depends only on those prefixes, so the index reported first is kept.
5. What the caller reported before: the replay cannot always tell which run a shorter history
   reported (the scan may have placed the change a run away there), so a caller that keeps its
   earlier answers (the operator, in the PerfTest's status) passes their indices as
   `reported`; a change found at most `REPORTED_WINDOW` runs from one of them, going the same
   way and still material there, is reported at that index.

`confidence` is 1 - p-value: the scan test's p-value for step 1, and for step 3 the one-sided
rank-sum p-value of the newest runs within their segment (one run above seven earlier ones gives
1 - 1/8 = 0.875: a single run is never strong evidence), or the p-value of the run of one mode.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from perftest_operator.analysis.effect import distinct_indices
from perftest_operator.analysis.medians import median
from perftest_operator.analysis.modes import SegmentModes, newest_mode_departure
from perftest_operator.analysis.placement import DEFAULT_SEPARATION, split_cost
from perftest_operator.analysis.segmentation import significant_splits
from perftest_operator.analysis.series import FloatArray, as_finite_series
from perftest_operator.analysis.tail import (
    SHORT_REFERENCE,
    TailSettings,
    first_flagged_index,
    newest_departure,
    noise_spread,
    robust_spread,
)
from perftest_operator.api.kpi import Direction

DEFAULT_ALPHA = 0.01
DEFAULT_PERMUTATIONS = 499
DEFAULT_SEED = 20250101
DEFAULT_MIN_REFERENCE = 5
DEFAULT_TAIL_Z = 5.0
DEFAULT_MAX_NEWEST = 10
# A change the newest-runs check flagged first keeps the index it was flagged at when the scan
# later places it at most ANCHOR_WINDOW runs away; the replay looks ANCHOR_HORIZON runs past it.
ANCHOR_WINDOW = 3
ANCHOR_HORIZON = 9
# ... and only when the fit is about as good there: each run moved across the split may add at
# most this many robust spreads to the total absolute deviation from the segment medians.
ANCHOR_COST_SPREADS = 1.0
# A change found at most REPORTED_WINDOW runs from where the caller reported one is kept there
# (the scorer's margin: farther away, the earlier report was wrong, not a run early or late).
REPORTED_WINDOW = 2
# A change exactly at the threshold counts even if float rounding puts it a hair below.
_THRESHOLD_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ChangePoint:
    """A shift in the level of a KPI history."""

    index: int  # 0-based index of the FIRST run after the change
    before: float  # median of the segment before
    after: float  # median of the segment after
    change_percent: float  # (after - before) / |before| * 100; ±inf when before is 0
    regression: bool  # worse according to the KPI's direction
    confidence: float  # 0..1: 1 - p-value (see the module docstring)


def change_percent(before: float, after: float) -> float:
    """Relative change from `before` to `after` in percent; ±inf from zero, 0 for no change."""
    if after == before:
        return 0.0
    if before == 0.0:
        return math.copysign(math.inf, after)
    return (after - before) / abs(before) * 100.0


def is_regression(before: float, after: float, direction: Direction) -> bool:
    """Whether moving from `before` to `after` is worse for a KPI with this direction."""
    if direction is Direction.LOWER_IS_BETTER:
        return after > before
    return after < before


def _is_material(percent: float, threshold_percent: float) -> bool:
    """At least the threshold, and never a change that leaves the median where it was."""
    return percent != 0.0 and abs(percent) >= threshold_percent * (1.0 - _THRESHOLD_TOLERANCE)


class _SegmentMedians:
    """Medians of segments of one series, each computed once (the materiality check, the
    anchoring and the result ask about the same segments)."""

    def __init__(self, series: FloatArray) -> None:
        self._series = series
        self._known: dict[tuple[int, int], float] = {}

    @property
    def size(self) -> int:
        """How many runs the series has."""
        return int(self._series.size)

    def of(self, start: int, end: int) -> float:
        """The median of `series[start:end]`."""
        known = self._known.get((start, end))
        if known is None:
            known = self._known[start, end] = median(self._series[start:end])
        return known

    def around(self, start: int, index: int, end: int) -> tuple[float, float]:
        """The medians of `series[start:index]` and `series[index:end]`."""
        return self.of(start, index), self.of(index, end)

    def between(self, indices: Sequence[int]) -> list[float]:
        """Median of each segment when the series is cut before each of `indices`."""
        bounds = [0, *indices, self._series.size]
        return [self.of(start, end) for start, end in itertools.pairwise(bounds)]


def _percents(medians: _SegmentMedians, indices: Sequence[int]) -> list[float]:
    pairs = itertools.pairwise(medians.between(indices))
    return [change_percent(before, after) for before, after in pairs]


def _material_indices(
    medians: _SegmentMedians, indices: list[int], threshold_percent: float
) -> list[int]:
    """`indices` without the changes below threshold, dropping the smallest one at a time."""
    kept = list(indices)
    while kept:
        percents = [abs(p) for p in _percents(medians, kept)]
        weakest = int(np.argmin(percents))
        if _is_material(percents[weakest], threshold_percent):
            break
        del kept[weakest]
    return kept


def _anchored(
    series: FloatArray,
    indices: list[int],
    p_values: dict[int, float],
    settings: TailSettings,
    medians: _SegmentMedians,
) -> list[int]:
    """`indices` moved to where the newest-runs check first flagged them (`first_flagged_index`).

    An index moves at most `ANCHOR_WINDOW` runs and never past its neighbours; `p_values` gets
    an entry for each moved index.
    """
    anchored: list[int] = []
    bounds = [0, *indices, series.size]
    centres = medians.between(indices)
    for position, index in enumerate(indices):
        start, end = bounds[position], bounds[position + 2]
        first = first_flagged_index(
            series[start:end],
            index - start,
            centres[position + 1] > centres[position],
            settings,
            window=ANCHOR_WINDOW,
            horizon=ANCHOR_HORIZON,
        )
        moved = index if first is None else start + first
        if not (anchored[-1] if anchored else 0) < moved < end or not _fits_about_as_well(
            series, (start, end), index, moved, medians
        ):
            moved = index
        p_values[moved] = p_values[index]
        anchored.append(moved)
    return anchored


def _fits_about_as_well(
    series: FloatArray, bounds: tuple[int, int], index: int, other: int, medians: _SegmentMedians
) -> bool:
    """Whether splitting `series[start:end]` at `other` fits nearly as well as at `index` (see
    above); `bounds` is (start, end), and the indices are into the whole series."""
    if other == index:
        return True
    start, end = bounds
    segment = series[start:end]
    allowance = ANCHOR_COST_SPREADS * robust_spread(series[start:index]) * abs(other - index)
    moved_cost = split_cost(segment, other - start, medians.around(start, other, end))
    cost = split_cost(segment, index - start, medians.around(start, index, end))
    return moved_cost <= cost + allowance


def _kept_where_reported(
    indices: list[int],
    reported: Sequence[int],
    p_values: dict[int, float],
    medians: _SegmentMedians,
    threshold_percent: float,
) -> list[int]:
    """`indices` moved to the nearest `reported` index at most `REPORTED_WINDOW` runs away where
    the change goes the same way and is material (step 5); `p_values` gets each moved index."""
    if not reported:
        return indices
    earlier = set(reported)
    kept: list[int] = []
    for position, index in enumerate(indices):
        start = kept[-1] if kept else 0
        end = indices[position + 1] if position + 1 < len(indices) else medians.size
        rise = _rises(medians.around(start, index, end))
        near = sorted(
            (r for r in earlier if abs(r - index) <= REPORTED_WINDOW and start < r < end),
            key=lambda r: (abs(r - index), r),
        )
        moved = index
        for candidate in near:
            before, after = medians.around(start, candidate, end)
            if _rises((before, after)) == rise and _is_material(
                change_percent(before, after), threshold_percent
            ):
                moved = candidate
                break
        p_values[moved] = p_values[index]
        kept.append(moved)
    return kept


def _rises(medians: tuple[float, float]) -> bool:
    before, after = medians
    return after > before


def _with_borrowed_noise(
    settings: TailSettings, series: FloatArray, indices: list[int], medians: _SegmentMedians
) -> TailSettings:
    """`settings` with the relative noise of the segment before the newest one (see `tail`)."""
    if not indices:
        return settings
    start = indices[-2] if len(indices) > 1 else 0
    before = series[start : indices[-1]]
    centre = medians.of(start, indices[-1])
    if before.size < SHORT_REFERENCE or centre == 0.0:
        return settings
    relative = noise_spread(before) / abs(centre)
    return dataclasses.replace(settings, relative_spread_floor=relative)


def _validate(
    min_size: int, alpha: float, permutations: int, threshold_percent: float, min_reference: int
) -> None:
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1, got {min_size}")
    if min_reference < 1:
        raise ValueError(f"min_reference must be at least 1, got {min_reference}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if permutations < 1:
        raise ValueError(f"permutations must be at least 1, got {permutations}")
    if not threshold_percent >= 0.0:
        raise ValueError(f"threshold_percent must be at least 0, got {threshold_percent}")


def detect_change_points(
    values: Sequence[float] | npt.NDArray[np.floating],
    *,
    direction: Direction,
    threshold_percent: float,
    min_size: int = 1,
    alpha: float = DEFAULT_ALPHA,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    min_reference: int = DEFAULT_MIN_REFERENCE,
    tail_z: float = DEFAULT_TAIL_Z,
    max_newest: int = DEFAULT_MAX_NEWEST,
    separation: float = DEFAULT_SEPARATION,
    reported: Sequence[int] = (),
) -> list[ChangePoint]:
    """The material change points of a KPI history (oldest value first), by index.

    `threshold_percent`: smallest |change_percent| reported. `min_size`: fewest runs a segment
    may have; 1 lets the newest run alone raise a (provisional) change. `alpha`: largest scan
    p-value that counts; `permutations` and `seed` drive the permutation test. `min_reference`:
    fewest runs the newest runs are compared with; `tail_z`: how many spreads away the
    newest runs must be; `max_newest`: the most newest runs that test looks at. `separation`:
    how many robust spreads apart the two parts of a split must be for the split to be placed
    by their medians rather than by the rank scan. `reported`: indices of the change points an
    earlier call reported on a shorter history of the same runs (step 5 above).
    Raises AnalysisError naming the index of a NaN or infinite value; ValueError on bad settings.
    """
    _validate(min_size, alpha, permutations, threshold_percent, min_reference)
    series = as_finite_series(values)
    if series.size < 2:
        return []
    modes_of = SegmentModes(series)
    splits = significant_splits(
        series,
        min_size=min_size,
        alpha=alpha,
        permutations=permutations,
        seed=seed,
        separation=separation,
        modes_of=modes_of,
    )
    p_values = {split.index: split.p_value for split in splits}
    medians = _SegmentMedians(series)
    indices = _material_indices(
        medians,
        distinct_indices(series, [s.index for s in splits], modes_of=modes_of),
        threshold_percent,
    )

    tail = TailSettings(
        min_size=min_size,
        min_reference=min_reference,
        z_limit=tail_z,
        max_newest=max_newest,
        permutations=permutations,
        seed=seed,
    )
    regime_start = indices[-1] if indices else 0
    modes = modes_of.of(0, series.size)
    newest = _with_borrowed_noise(tail, series, indices, medians)
    departure = (
        newest_departure(series[regime_start:], newest)
        if modes is None
        else newest_mode_departure(series, regime_start, modes, newest, alpha)
    )
    if departure is not None:
        index = regime_start + departure.index
        candidate = [*indices, index]
        if _is_material(_percents(medians, candidate)[-1], threshold_percent):
            indices = candidate
            p_values[index] = departure.p_value
    indices = _anchored(series, indices, p_values, tail, medians)
    indices = _kept_where_reported(indices, reported, p_values, medians, threshold_percent)

    return [
        ChangePoint(
            index=index,
            before=before,
            after=after,
            change_percent=change_percent(before, after),
            regression=is_regression(before, after, direction),
            confidence=1.0 - p_values[index],
        )
        for index, (before, after) in zip(
            indices, itertools.pairwise(medians.between(indices)), strict=True
        )
    ]
