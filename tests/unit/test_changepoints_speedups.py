"""The detector's fast paths give exactly what the slow, obvious computations give."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perftest_operator.analysis.medians import median
from perftest_operator.analysis.modes import SegmentModes, mode_indicator
from perftest_operator.analysis.ranktest import (
    OVERSHOOT_SCALE,
    _overshoot,
    analytic_scan_p_value,
    midranks,
)
from perftest_operator.analysis.tail import _PrefixExtremes, _rivals

# small integers as floats give many ties; signed zeros compare equal but differ in their bits
tied_floats = st.lists(st.sampled_from([-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0]), min_size=1)
any_floats = st.lists(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
    min_size=1,
)


@settings(max_examples=300)
@given(st.one_of(tied_floats, any_floats))
def test_median_is_numpys_median_bit_for_bit(values: list[float]) -> None:
    array = np.array(values)

    expected = float(np.median(array))
    got = median(array)

    assert got == expected
    assert math.copysign(1.0, got) == math.copysign(1.0, expected)  # the sign of a zero too


@settings(max_examples=300)
@given(st.one_of(tied_floats, any_floats))
def test_midranks_are_the_mean_positions_of_equal_values(values: list[float]) -> None:
    array = np.array(values)
    below = (array[np.newaxis, :] < array[:, np.newaxis]).sum(axis=1)
    equal = (array[np.newaxis, :] == array[:, np.newaxis]).sum(axis=1)

    # ranks below + 1 .. below + equal, averaged
    assert np.array_equal(midranks(array), below + (equal + 1) / 2.0)


@pytest.mark.parametrize("length", [20, 21, 57, 250, 1000])
@pytest.mark.parametrize("min_size", [1, 3])
@pytest.mark.parametrize("z", [0.8, 2.9, 4.4, 7.5])
def test_the_analytic_scan_p_value_equals_the_sum_over_every_split(
    length: int, min_size: int, z: float
) -> None:
    left = np.arange(min_size, length - min_size + 1, dtype=np.float64)
    weights = length / (left * (length - left))
    density = math.exp(-(z**2) / 2.0) / math.sqrt(2.0 * math.pi)
    terms = weights * _overshoot(OVERSHOOT_SCALE * z * np.sqrt(weights))
    expected = min(1.0, z * density * float(np.sum(terms)))

    assert analytic_scan_p_value(z, length, min_size) == expected


@settings(max_examples=300)
@given(
    st.lists(st.integers(0, 6).map(float), min_size=3, max_size=40),
    st.integers(1, 10),
    st.integers(1, 10),
    st.integers(1, 3),
)
def test_rival_counts_match_a_loop_over_each_count_of_newest_runs(
    values: list[float], longest: int, fewest: int, cap: int
) -> None:
    regime = np.array(values)
    longest = min(longest, regime.size - 1)
    fewest = min(fewest, longest)
    expected = []
    for newest in range(longest, fewest - 1, -1):
        reference, latest = regime[:-newest], regime[-newest:]
        above = int(np.count_nonzero(reference >= latest.min()))
        below = int(np.count_nonzero(reference <= latest.max()))
        expected.append((newest, min(above, cap), min(below, cap)))
    ordered = sorted(values[: regime.size - longest])
    extremes = (ordered[-cap:], ordered[:cap])
    newest_first = values[regime.size - longest :][::-1]

    assert list(_rivals(newest_first, fewest, extremes, cap)) == expected


@settings(max_examples=200)
@given(
    st.lists(st.integers(0, 6).map(float), min_size=1, max_size=60),
    st.lists(st.integers(0, 60), min_size=1, max_size=12),
    st.integers(1, 3),
)
def test_prefix_extremes_are_the_largest_and_smallest_of_each_prefix(
    values: list[float], counts: list[int], size: int
) -> None:
    extremes = _PrefixExtremes(np.array(values), size)
    for count in counts:  # growing, shrinking and jumping counts
        count = min(count, len(values))
        ordered = sorted(values[:count])

        largest, smallest = extremes.of_first(count)

        assert (largest, smallest) == (ordered[max(0, count - size) :], ordered[:size])


@pytest.mark.parametrize("x", [1e-3, 0.05, 0.7, 2.0, 9.5, 40.0])
def test_the_overshoot_factor_follows_siegmunds_formula(x: float) -> None:
    half = x / 2.0
    cdf = 0.5 * (1.0 + math.erf(half / math.sqrt(2.0)))
    density = math.exp(-(half**2) / 2.0) / math.sqrt(2.0 * math.pi)
    expected = (2.0 / x) * (cdf - 0.5) / (half * cdf + density)

    got = float(_overshoot(np.array([x]))[0])

    # Abramowitz and Stegun's erf is within 1.5e-7, which the difference cdf - 1/2 magnifies
    assert got == pytest.approx(expected, rel=2e-4)


def test_segment_modes_are_the_mode_indicators_of_each_segment_and_read_only() -> None:
    rng = np.random.default_rng(7)
    flips = np.where(rng.random(60) < 0.4, 200.0, 100.0) * (1.0 + 0.01 * rng.standard_normal(60))
    series = np.concatenate((100.0 * (1.0 + 0.01 * rng.standard_normal(40)), flips))
    modes_of = SegmentModes(series)

    for start, end in [(0, 100), (0, 40), (40, 100), (40, 100)]:
        expected = mode_indicator(series[start:end])
        got = modes_of.of(start, end)

        if expected is None:
            assert got is None
        else:
            assert got is not None and np.array_equal(got, expected)
            assert not got.flags.writeable
    assert modes_of.of(40, 100) is not None  # the flipping part is two modes
