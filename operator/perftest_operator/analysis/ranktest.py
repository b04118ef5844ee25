"""Rank-based scan test: where a segment most likely splits in two and how surprising that split is.

A purely computational module with no side effects; its permutations come from a generator seeded
by the caller, so the same input always gives the same answer. Ranks make the test blind to the
scale of the values and robust to outliers and to runs that flip between two modes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perftest_operator.analysis.series import FloatArray

PERMUTATION_BATCH = 100


@dataclass(frozen=True)
class Split:
    """The most likely split of a segment: `index` is the first position of the right part."""

    index: int
    z: float  # standardised Mann-Whitney statistic; > 0 when the right part ranks higher
    p_value: float  # chance of a split at least this strong anywhere in the segment by luck


def midranks(values: FloatArray) -> FloatArray:
    """Ranks 1..n of `values`; tied values share the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts).astype(np.float64)
    group_rank = upper - (counts - 1) / 2.0
    ranks: FloatArray = group_rank[inverse]
    return ranks


def _split_scales(length: int, centered_ranks: FloatArray, min_size: int) -> FloatArray:
    """Standard deviation, under exchangeability, of the left part's rank sum at each split."""
    left = np.arange(min_size, length - min_size + 1, dtype=np.float64)
    spread = float(np.sum(centered_ranks**2)) / (length * (length - 1))
    scales: FloatArray = np.sqrt(left * (length - left) * spread)
    return scales


def _max_abs_z(centered: FloatArray, scales: FloatArray, min_size: int) -> FloatArray:
    """Largest |z| over the allowed splits, for each row of `centered` (one ordering per row)."""
    length = centered.shape[-1]
    sums = np.cumsum(centered, axis=-1)[..., min_size - 1 : length - min_size]
    strongest: FloatArray = np.max(np.abs(sums) / scales, axis=-1)
    return strongest


def hoeffding_bound(
    centered_ranks: FloatArray, scales: FloatArray, z: float, min_size: int
) -> float:
    """An upper bound on the scan p-value that holds for any ties (no normal approximation).

    The left part's rank sum at a split is a sum drawn without replacement from the centred
    ranks, so Hoeffding's inequality bounds each split's two-sided tail; a union bound adds the
    splits up. Loose, but tiny for the obvious changes of long series.
    """
    length = centered_ranks.size
    spread = float(np.max(centered_ranks) - np.min(centered_ranks))
    left = np.arange(min_size, length - min_size + 1, dtype=np.float64)
    smaller_side = np.minimum(left, length - left)
    exponents = 2.0 * (z * scales) ** 2 / (smaller_side * spread**2)
    return min(1.0, float(np.sum(2.0 * np.exp(-exponents))))


def best_split(
    values: FloatArray,
    *,
    min_size: int,
    alpha: float,
    permutations: int,
    rng: np.random.Generator,
) -> Split | None:
    """The strongest split of `values` with at least `min_size` values on each side, or None.

    The p-value is a permutation p-value of the largest standardised rank statistic over all
    allowed splits, so scanning many split positions is already paid for. Permuting stops early
    once the p-value cannot fall to `alpha` or below (the split is then reported with the p-value
    seen so far, which is above `alpha`). When `hoeffding_bound` is already smaller than the
    smallest p-value the permutations could show, that bound is the p-value and no permutation
    is drawn: an obvious change in a long series costs O(n).
    """
    length = values.size
    if length < 2 * min_size:
        return None
    centered = midranks(values) - (length + 1) / 2.0
    if not np.any(centered):
        return None  # all values equal
    scales = _split_scales(length, centered, min_size)
    sums = np.cumsum(centered)[min_size - 1 : length - min_size]
    z_all = sums / scales
    best = int(np.argmax(np.abs(z_all)))
    # cumsum of the left part ranks: z > 0 means the left ranks high, so flip the sign
    z = -float(z_all[best])
    bound = hoeffding_bound(centered, scales, abs(z), min_size)
    if bound <= 1.0 / (permutations + 1):
        return Split(index=best + min_size, z=z, p_value=bound)

    observed = abs(z) * (1.0 - 1e-12)  # ties with the observed value count as "at least as strong"

    exceed = 0
    done = 0
    while done < permutations:
        batch = min(PERMUTATION_BATCH, permutations - done)
        shuffled = rng.permuted(np.broadcast_to(centered, (batch, length)), axis=1)
        exceed += int(np.count_nonzero(_max_abs_z(shuffled, scales, min_size) >= observed))
        done += batch
        if (exceed + 1) / (permutations + 1) > alpha:
            break
    return Split(index=best + min_size, z=z, p_value=(exceed + 1) / (done + 1))
