"""metrics.aggregate against hand-computed cases and a slow, obvious reference implementation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perftest_operator.api.errors import MetricMissing
from perftest_operator.api.kpi import Aggregation
from perftest_operator.metrics.aggregate import Series, aggregate, count_finite_samples

NAN = math.nan
INF = math.inf


def series(
    *values: float, start: float = 1_700_000_000.0, step: float = 30.0
) -> list[tuple[float, float]]:
    return [(start + i * step, value) for i, value in enumerate(values)]


# --- a slow, obvious reference ----------------------------------------------------------------


def slow_percentile(values: Sequence[float], percent: float) -> float:
    """The textbook linear-interpolation percentile (numpy's default "linear" method)."""
    ordered = sorted(values)
    position = percent / 100 * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def slow_aggregate(all_series: Sequence[Series], aggregation: Aggregation) -> float:
    kept = [[(t, v) for t, v in one if math.isfinite(v)] for one in all_series]
    kept = [one for one in kept if one]
    values = [v for one in kept for _, v in one]
    if aggregation is Aggregation.LAST:
        latest = []
        for one in kept:
            newest_time = max(t for t, _ in one)
            latest.append(next(v for t, v in one if t == newest_time))
        return max(latest)
    if aggregation is Aggregation.MAX:
        return max(values)
    if aggregation is Aggregation.MIN:
        return min(values)
    if aggregation is Aggregation.AVG:
        return math.fsum(values) / len(values)
    percent = {Aggregation.P50: 50, Aggregation.P95: 95, Aggregation.P99: 99}[aggregation]
    return slow_percentile(values, percent)


# --- hand-computed cases ----------------------------------------------------------------------


FOUR = [series(1.0, 2.0), series(10.0, 3.0)]  # pooled values 1, 2, 3, 10


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        (Aggregation.MAX, 10.0),
        (Aggregation.MIN, 1.0),
        (Aggregation.AVG, 4.0),
        (Aggregation.P50, 2.5),  # position 1.5 between 2 and 3
        (Aggregation.P95, 8.95),  # position 2.85: 3 + 0.85 * (10 - 3)
        (Aggregation.P99, 9.79),  # position 2.97: 3 + 0.97 * (10 - 3)
        (Aggregation.LAST, 3.0),  # last samples are 2 and 3; the larger wins
    ],
)
def test_every_aggregation_on_a_hand_computed_case(
    aggregation: Aggregation, expected: float
) -> None:
    assert aggregate(FOUR, aggregation, metric="m") == pytest.approx(expected, rel=1e-12)


def test_percentiles_interpolate_between_samples() -> None:
    values = series(10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0)
    # eleven samples: position = percent / 10, so p95 is halfway between 100 and 110.
    assert aggregate([values], Aggregation.P95, metric="m") == pytest.approx(105.0)
    assert aggregate([values], Aggregation.P50, metric="m") == pytest.approx(60.0)
    assert aggregate([values], Aggregation.P99, metric="m") == pytest.approx(109.0)


def test_last_takes_each_series_newest_sample_by_timestamp_not_by_position() -> None:
    shuffled = [(300.0, 7.0), (100.0, 50.0), (200.0, 9.0)]  # newest is t=300 with 7
    other = [(100.0, 1.0), (250.0, 5.0)]
    assert aggregate([shuffled, other], Aggregation.LAST, metric="m") == 7.0


def test_last_is_the_max_over_series_of_their_last_values() -> None:
    # series end at different times; the one that ended earlier but higher still counts
    early_high = series(1.0, 8.0, start=0.0)
    late_low = series(2.0, 3.0, 4.0, start=0.0)
    assert aggregate([early_high, late_low], Aggregation.LAST, metric="m") == 8.0


def test_last_skips_a_trailing_non_finite_sample() -> None:
    trailing_nan = series(1.0, 6.0, NAN)
    assert aggregate([trailing_nan], Aggregation.LAST, metric="m") == 6.0


@pytest.mark.parametrize("aggregation", list(Aggregation))
def test_non_finite_samples_are_dropped_before_aggregating(aggregation: Aggregation) -> None:
    dirty = [series(NAN, 2.0, INF, 4.0, -INF), series(NAN, NAN), series(1.0, NAN)]
    clean = [series(2.0, 4.0, start=1_700_000_030.0, step=60.0), series(1.0)]
    assert aggregate(dirty, aggregation, metric="m") == pytest.approx(
        aggregate(clean, aggregation, metric="m")
    )
    assert math.isfinite(aggregate(dirty, aggregation, metric="m"))


def test_infinite_values_do_not_win_max_or_min() -> None:
    assert aggregate([series(INF, 3.0, -INF)], Aggregation.MAX, metric="m") == 3.0
    assert aggregate([series(INF, 3.0, -INF)], Aggregation.MIN, metric="m") == 3.0


@pytest.mark.parametrize("aggregation", list(Aggregation))
def test_no_series_is_missing_never_zero(aggregation: Aggregation) -> None:
    with pytest.raises(MetricMissing) as caught:
        aggregate([], aggregation, metric="readOnlyAPICallsLatency")
    assert caught.value.metric == "readOnlyAPICallsLatency"
    assert "readOnlyAPICallsLatency" in str(caught.value)


def test_series_without_samples_are_missing() -> None:
    with pytest.raises(MetricMissing, match="no samples"):
        aggregate([[], []], Aggregation.MAX, metric="m")


@pytest.mark.parametrize("aggregation", list(Aggregation))
def test_only_non_finite_samples_are_missing_and_say_why(aggregation: Aggregation) -> None:
    with pytest.raises(MetricMissing, match="NaN or infinite") as caught:
        aggregate([series(NAN, INF), series(-INF)], aggregation, metric="p99")
    assert caught.value.metric == "p99"


def test_numpy_arrays_are_accepted_as_series() -> None:
    samples = np.array([[0.0, 1.5], [30.0, np.nan], [60.0, 2.5]])
    assert aggregate([samples], Aggregation.AVG, metric="m") == pytest.approx(2.0)  # type: ignore[list-item]


def test_a_series_of_the_wrong_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="timestamp, value"):
        aggregate([[(0.0, 1.0, 2.0)]], Aggregation.MAX, metric="m")  # type: ignore[list-item]


def test_count_finite_samples_counts_what_aggregate_uses() -> None:
    assert count_finite_samples([series(NAN, 2.0, INF, 4.0), [], series(1.0)]) == 3
    assert count_finite_samples([]) == 0


def test_the_input_is_not_modified() -> None:
    data = [series(NAN, 3.0, 1.0)]
    before = [list(one) for one in data]
    aggregate(data, Aggregation.P50, metric="m")
    assert [list(one) for one in data] == before


# --- against the slow reference ---------------------------------------------------------------

value = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([NAN, INF, -INF]),
)
one_series = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10_000).map(float), value),
    max_size=12,
    unique_by=lambda sample: sample[0],  # Prometheus never repeats a timestamp within a series
)


@given(all_series=st.lists(one_series, max_size=5), aggregation=st.sampled_from(list(Aggregation)))
def test_matches_the_slow_reference(
    all_series: list[list[tuple[float, float]]], aggregation: Aggregation
) -> None:
    has_finite = any(math.isfinite(v) for one in all_series for _, v in one)
    if not has_finite:
        with pytest.raises(MetricMissing):
            aggregate(all_series, aggregation, metric="m")
        return
    expected = slow_aggregate(all_series, aggregation)
    assert aggregate(all_series, aggregation, metric="m") == pytest.approx(
        expected, rel=1e-9, abs=1e-9
    )
