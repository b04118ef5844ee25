"""Whether a level shift stands out from the run-to-run noise of its history (pure).

A purely computational module with no side effects. A scan test on long segments calls even a
shift smaller than the noise of a single run significant, and two short stretches of a long
segment that happen to lie close together look like two levels: their own spreads are small
by chance. The noise of a KPI does not change because its level moved, so the noise a shift
is measured against is pooled over the whole history: the robust spread of every run's
deviation from the median of its own segment (relative deviations, on a log scale, when all
values are positive: the noise of a latency scales with it). A shift of less than
`MIN_EFFECT` such spreads is not a distinct level. Segments whose runs flip between two modes
(`modes`) are left out of the pool (a mode flip is not noise), and a shift next to such a
segment is a change of the mix of modes, which its median does not measure: it is kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from perftest_operator.analysis.medians import median
from perftest_operator.analysis.modes import SegmentModes
from perftest_operator.analysis.series import FloatArray
from perftest_operator.analysis.tail import robust_spread

# A level shift must move the median by at least this many pooled noise spreads of one run.
MIN_EFFECT = 1.0


def _segments(series: FloatArray, indices: Sequence[int]) -> list[FloatArray]:
    bounds = [0, *indices, series.size]
    return [series[start:end] for start, end in itertools.pairwise(bounds)]


def _effects(series: FloatArray, indices: Sequence[int], modes_of: SegmentModes) -> list[float]:
    """Each change's shift in pooled noise spreads; inf where it cannot be measured so."""
    scaled = np.log(series) if series.min() > 0.0 else series
    segments = _segments(scaled, indices)
    centres = [median(segment) for segment in segments]
    bounds = [0, *indices, series.size]
    two_modes = [modes_of.of(start, end) is not None for start, end in itertools.pairwise(bounds)]
    one_mode = [
        segment - centre
        for segment, centre, flips in zip(segments, centres, two_modes, strict=True)
        if not flips
    ]
    noise = robust_spread(np.concatenate(one_mode)) if one_mode else 0.0
    effects: list[float] = []
    for position, (before, after) in enumerate(itertools.pairwise(centres)):
        mix_change = two_modes[position] or two_modes[position + 1]
        effects.append(np.inf if mix_change or noise == 0.0 else abs(after - before) / noise)
    return effects


def distinct_indices(
    series: FloatArray,
    indices: list[int],
    min_effect: float = MIN_EFFECT,
    modes_of: SegmentModes | None = None,
) -> list[int]:
    """`indices` without the shifts of less than `min_effect` pooled noise spreads.

    The smallest such shift is dropped first and its segments merged; the noise and the
    medians are recomputed each time (a dropped false split no longer shrinks the noise).
    `modes_of` (of `series`) may come from the caller, who has asked about these segments.
    """
    if modes_of is None:
        modes_of = SegmentModes(series)
    kept = list(indices)
    while kept:
        effects = _effects(series, kept, modes_of)
        weakest = int(np.argmin(effects))
        if effects[weakest] >= min_effect:
            break
        del kept[weakest]
    return kept
