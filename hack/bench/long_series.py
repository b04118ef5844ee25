"""A seeded long single-metric KPI history with known level shifts and flaky runs (pure; stdlib).

Shaped like the development corpus's `step+outliers` kind: a latency around 1,000 ms with 2%
Gaussian noise, a few level shifts of 6-15% up or down at least 80 runs apart, and about 1% of
runs that are single flaky spikes (30-80% high) which are not changes. The same seed always gives
the same series, on any Python, so every detector's virtual environment reads the same file.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

NOISE_FRACTION = 0.02
SHIFT_PERCENT_RANGE = (6.0, 15.0)
MIN_SHIFT_SPACING = 80
FLAKY_RUN_FRACTION = 0.01
FLAKY_FACTOR_RANGE = (1.3, 1.8)


@dataclass(frozen=True)
class LabelledSeries:
    """A series and the 0-based indices of the first run after each true level shift."""

    values: list[float]
    change_indices: list[int]


def _shift_positions(rng: random.Random, runs: int, shifts: int) -> list[int]:
    """`shifts` sorted indices in [MIN_SHIFT_SPACING, runs - MIN_SHIFT_SPACING], spaced apart."""
    low, high = MIN_SHIFT_SPACING, runs - MIN_SHIFT_SPACING
    if high - low < (shifts - 1) * MIN_SHIFT_SPACING:
        raise ValueError(f"{shifts} shifts do not fit in {runs} runs")
    while True:
        positions = sorted(rng.sample(range(low, high + 1), shifts))
        gaps = [b - a for a, b in itertools.pairwise(positions)]
        if all(gap >= MIN_SHIFT_SPACING for gap in gaps):
            return positions


def generate_long_series(runs: int = 1000, shifts: int = 6, seed: int = 20250611) -> LabelledSeries:
    """A purely computational function with no side effects: the seeded labelled series."""
    rng = random.Random(seed)
    positions = _shift_positions(rng, runs, shifts)
    level = 1000.0
    values: list[float] = []
    for index in range(runs):
        if index in positions:
            sign = 1.0 if rng.random() < 0.5 else -1.0
            level *= 1.0 + sign * rng.uniform(*SHIFT_PERCENT_RANGE) / 100.0
        value = level * (1.0 + rng.gauss(0.0, NOISE_FRACTION))
        near_shift = any(index in (p - 1, p) for p in positions)
        if not near_shift and rng.random() < FLAKY_RUN_FRACTION:
            value *= rng.uniform(*FLAKY_FACTOR_RANGE)
        values.append(round(value, 2))
    return LabelledSeries(values=values, change_indices=positions)
