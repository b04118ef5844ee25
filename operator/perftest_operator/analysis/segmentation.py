"""Binary segmentation of a series at statistically significant splits (pure, seeded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perftest_operator.analysis.modes import MIN_MODE_RUNS, SegmentModes, mix_split
from perftest_operator.analysis.placement import DEFAULT_SEPARATION, place_split
from perftest_operator.analysis.ranktest import (
    Interior,
    centred_ranks,
    interior_of_ranks,
)
from perftest_operator.analysis.series import FloatArray
from perftest_operator.analysis.shortscan import split_of_segment

# The interior test runs only where no single split is significant, in every such segment, so
# it gets a share of alpha: a two-cut change is a stronger claim than a single split.
INTERIOR_ALPHA_SHARE = 0.1


@dataclass(frozen=True)
class SignificantSplit:
    """A position where the series splits with a scan p-value of at most alpha."""

    index: int  # first index of the right part, in the whole series
    p_value: float


def significant_splits(
    values: FloatArray,
    *,
    min_size: int,
    alpha: float,
    permutations: int,
    seed: int,
    separation: float = DEFAULT_SEPARATION,
    modes_of: SegmentModes | None = None,
) -> list[SignificantSplit]:
    """All splits found by splitting segments in two while the split is significant, by index.

    The rank scan decides whether a segment splits (a scan of clipped values for a short
    segment: `shortscan`); `placement.place_split` decides where, when the two parts are
    `separation` robust spreads apart (a clean level shift).

    Each segment's permutations are seeded by (seed, start, end), so a segment gets the same
    answer whatever order the recursion visits it in. Both tests of a segment share its ranks.
    `modes_of` (of `values`) may come from the caller, who then gets each segment's modes too.
    """
    if modes_of is None:
        modes_of = SegmentModes(values)
    found: list[SignificantSplit] = []
    pending = [(0, values.size)]
    while pending:
        start, end = pending.pop()
        rng = _SegmentGenerator(seed, start, end)
        segment = values[start:end]
        modes = modes_of.of(start, end)
        tested = segment if modes is None else modes
        ranks = centred_ranks(tested)
        split = split_of_segment(
            tested, ranks, min_size=min_size, alpha=alpha, permutations=permutations, rng=rng
        )
        if split is None or split.p_value > alpha:
            interior_alpha = alpha * INTERIOR_ALPHA_SHARE
            # a share of modes is not read from fewer than MIN_MODE_RUNS runs: one or two runs
            # after a transient change in the mix are no evidence that the mix returned
            interior_size = min_size if modes is None else max(min_size, MIN_MODE_RUNS)
            interior = interior_of_ranks(
                ranks, min_size=interior_size, alpha=interior_alpha, rng=rng
            )
            if interior is not None and interior.p_value <= interior_alpha:
                pending.extend(_cut_interior(segment, start, interior, min_size, separation, found))
            continue
        index = start + (
            mix_split(modes, min_size)
            if modes is not None
            else place_split(segment, split.index, min_size, separation)
        )
        found.append(SignificantSplit(index=index, p_value=split.p_value))
        pending.extend([(start, index), (index, end)])
    return sorted(found, key=lambda s: s.index)


class _SegmentGenerator:
    """The segment's generator, seeded by (seed, start, end), made on first use only."""

    def __init__(self, seed: int, start: int, end: int) -> None:
        self._words = [seed, start, end]
        self._generator: np.random.Generator | None = None

    def __call__(self) -> np.random.Generator:
        if self._generator is None:
            self._generator = np.random.default_rng(self._words)
        return self._generator


def _cut_interior(
    segment: FloatArray,
    start: int,
    interior: Interior,
    min_size: int,
    separation: float,
    found: list[SignificantSplit],
) -> list[tuple[int, int]]:
    """Add both cuts around a significant interior part to `found`; return the three parts.

    Each cut is placed like a single split within the two parts around it.
    """
    end = start + segment.size
    first = start + place_split(segment[: interior.end], interior.start, min_size, separation)
    second = first + place_split(
        segment[first - start :], interior.end - (first - start), min_size, separation
    )
    found.extend(SignificantSplit(index=i, p_value=interior.p_value) for i in (first, second))
    return [(start, first), (first, second), (second, end)]
