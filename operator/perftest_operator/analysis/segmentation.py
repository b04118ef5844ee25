"""Binary segmentation of a series at statistically significant rank splits (pure, seeded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perftest_operator.analysis.placement import DEFAULT_SEPARATION, place_split
from perftest_operator.analysis.ranktest import best_split
from perftest_operator.analysis.series import FloatArray


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
) -> list[SignificantSplit]:
    """All splits found by splitting segments in two while the split is significant, by index.

    The rank scan decides whether a segment splits; `placement.place_split` decides where, when
    the two parts are `separation` robust spreads apart (a clean level shift).

    Each segment's permutations are seeded by (seed, start, end), so a segment gets the same
    answer whatever order the recursion visits it in.
    """
    found: list[SignificantSplit] = []
    pending = [(0, values.size)]
    while pending:
        start, end = pending.pop()
        rng = np.random.default_rng([seed, start, end])
        split = best_split(
            values[start:end], min_size=min_size, alpha=alpha, permutations=permutations, rng=rng
        )
        if split is None or split.p_value > alpha:
            continue
        segment = values[start:end]
        index = start + place_split(segment, split.index, min_size, separation)
        found.append(SignificantSplit(index=index, p_value=split.p_value))
        pending.extend([(start, index), (index, end)])
    return sorted(found, key=lambda s: s.index)
