"""metrics.aggregate: the two-stage reduction against hand-computed cases and a slow reference."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perftest_operator.api.errors import MetricMissing
from perftest_operator.api.kpi import Aggregation, MetricSpec, OverTime
from perftest_operator.metrics.aggregate import (
    LabelledSeries,
    Series,
    aggregate,
    count_finite_samples,
    reduce_across,
    reduce_metric,
    reduce_over_time,
)

NAN = math.nan
INF = math.inf
REDUCTIONS = list(itertools.product(OverTime, Aggregation))


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


def slow_statistic(values: Sequence[float], name: str) -> float:
    if name == "max":
        return max(values)
    if name == "min":
        return min(values)
    if name == "avg":
        return math.fsum(values) / len(values)
    return slow_percentile(values, {"p50": 50, "p95": 95, "p99": 99}[name])


def slow_aggregate(
    all_series: Sequence[Series], over_time: OverTime, aggregation: Aggregation
) -> float:
    per_series = []
    for one in all_series:
        kept = [(t, v) for t, v in one if math.isfinite(v)]
        if not kept:
            continue
        if over_time is OverTime.LAST:
            newest_time = max(t for t, _ in kept)
            per_series.append(next(v for t, v in kept if t == newest_time))
        else:
            per_series.append(slow_statistic([v for _, v in kept], over_time.value))
    return slow_statistic(per_series, aggregation.value)


# --- hand-computed cases ----------------------------------------------------------------------

# A has two samples, B three. Per series: max 2 | 10, min 1 | 3, avg 1.5 | 6, last 2 | 5,
# p50 1.5 | 5, p95 1.95 | 9.5 (position 1.9 of 3, 5, 10), p99 1.99 | 9.9.
A = series(1.0, 2.0)
B = series(10.0, 3.0, 5.0)


@pytest.mark.parametrize(
    ("over_time", "aggregation", "expected"),
    [
        (OverTime.AVG, Aggregation.AVG, 3.75),  # (1.5 + 6) / 2; all samples pooled: 4.2
        (OverTime.MAX, Aggregation.AVG, 6.0),  # (2 + 10) / 2: Orion's max-* KPIs
        (OverTime.MAX, Aggregation.MAX, 10.0),  # the largest sample of all
        (OverTime.MIN, Aggregation.MIN, 1.0),  # the smallest sample of all
        (OverTime.MIN, Aggregation.MAX, 3.0),
        (OverTime.AVG, Aggregation.MAX, 6.0),
        (OverTime.AVG, Aggregation.MIN, 1.5),
        (OverTime.LAST, Aggregation.MAX, 5.0),  # what `aggregation: last` always meant
        (OverTime.LAST, Aggregation.AVG, 3.5),
        (OverTime.P50, Aggregation.AVG, 3.25),  # (1.5 + 5) / 2
        (OverTime.P95, Aggregation.MAX, 9.5),
        (OverTime.MAX, Aggregation.P50, 6.0),  # halfway between 2 and 10
        (OverTime.MAX, Aggregation.P95, 9.6),  # 2 + 0.95 * 8
        (OverTime.AVG, Aggregation.P99, 5.955),  # 1.5 + 0.99 * 4.5
    ],
)
def test_two_stages_on_a_hand_computed_case(
    over_time: OverTime, aggregation: Aggregation, expected: float
) -> None:
    assert aggregate([A, B], over_time, aggregation, metric="m") == pytest.approx(
        expected, rel=1e-12
    )


def test_avg_then_avg_weighs_every_series_the_same() -> None:
    # one busy series of 1.0 (ten samples), one quiet series of 3.0 (one sample): the pooled
    # mean would be 13 / 11; per series first, each counts once
    busy, quiet = series(*[1.0] * 10), series(3.0)
    assert aggregate([busy, quiet], OverTime.AVG, Aggregation.AVG, metric="m") == 2.0


def test_percentiles_interpolate_between_samples() -> None:
    values = series(10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0)
    # eleven samples: position = percent / 10, so p95 is halfway between 100 and 110.
    assert reduce_over_time(values, OverTime.P95) == pytest.approx(105.0)
    assert reduce_over_time(values, OverTime.P50) == pytest.approx(60.0)
    assert reduce_over_time(values, OverTime.P99) == pytest.approx(109.0)
    assert reduce_across([v for _, v in values], Aggregation.P95) == pytest.approx(105.0)


def test_last_takes_each_series_newest_sample_by_timestamp_not_by_position() -> None:
    shuffled = [(300.0, 7.0), (100.0, 50.0), (200.0, 9.0)]  # newest is t=300 with 7
    other = [(100.0, 1.0), (250.0, 5.0)]
    assert aggregate([shuffled, other], OverTime.LAST, Aggregation.MAX, metric="m") == 7.0


def test_last_then_max_is_the_max_over_series_of_their_last_values() -> None:
    # series end at different times; the one that ended earlier but higher still counts
    early_high = series(1.0, 8.0, start=0.0)
    late_low = series(2.0, 3.0, 4.0, start=0.0)
    assert aggregate([early_high, late_low], OverTime.LAST, Aggregation.MAX, metric="m") == 8.0


def test_last_skips_a_trailing_non_finite_sample() -> None:
    assert reduce_over_time(series(1.0, 6.0, NAN), OverTime.LAST) == 6.0


@pytest.mark.parametrize(("over_time", "aggregation"), REDUCTIONS)
def test_non_finite_samples_are_dropped_before_reducing(
    over_time: OverTime, aggregation: Aggregation
) -> None:
    dirty = [series(NAN, 2.0, INF, 4.0, -INF), series(NAN, NAN), series(1.0, NAN)]
    clean = [series(2.0, 4.0, start=1_700_000_030.0, step=60.0), series(1.0)]
    assert aggregate(dirty, over_time, aggregation, metric="m") == pytest.approx(
        aggregate(clean, over_time, aggregation, metric="m")
    )
    assert math.isfinite(aggregate(dirty, over_time, aggregation, metric="m"))


def test_a_series_without_finite_samples_takes_no_part_across_series() -> None:
    # an average across series is not pulled towards zero (or NaN) by a series with no value
    idle = series(NAN, NAN, NAN)
    assert reduce_over_time(idle, OverTime.AVG) is None
    assert aggregate([A, idle], OverTime.AVG, Aggregation.AVG, metric="m") == 1.5


def test_infinite_values_do_not_win_max_or_min() -> None:
    assert aggregate([series(INF, 3.0, -INF)], OverTime.MAX, Aggregation.MAX, metric="m") == 3.0
    assert aggregate([series(INF, 3.0, -INF)], OverTime.MIN, Aggregation.MIN, metric="m") == 3.0


@pytest.mark.parametrize(("over_time", "aggregation"), REDUCTIONS)
def test_no_series_is_missing_never_zero(over_time: OverTime, aggregation: Aggregation) -> None:
    with pytest.raises(MetricMissing) as caught:
        aggregate([], over_time, aggregation, metric="max-ro-apicalls-latency-namespace")
    assert caught.value.metric == "max-ro-apicalls-latency-namespace"
    assert "max-ro-apicalls-latency-namespace" in str(caught.value)


def test_series_without_samples_are_missing() -> None:
    with pytest.raises(MetricMissing, match="no samples"):
        aggregate([[], []], OverTime.MAX, Aggregation.MAX, metric="m")


@pytest.mark.parametrize(("over_time", "aggregation"), REDUCTIONS)
def test_only_non_finite_samples_are_missing_and_say_why(
    over_time: OverTime, aggregation: Aggregation
) -> None:
    with pytest.raises(MetricMissing, match="NaN or infinite") as caught:
        aggregate([series(NAN, INF), series(-INF)], over_time, aggregation, metric="p99")
    assert caught.value.metric == "p99"


def test_numpy_arrays_are_accepted_as_series() -> None:
    samples = np.array([[0.0, 1.5], [30.0, np.nan], [60.0, 2.5]])
    value = aggregate([samples], OverTime.AVG, Aggregation.AVG, metric="m")  # type: ignore[list-item]
    assert value == pytest.approx(2.0)


def test_a_series_of_the_wrong_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="timestamp, value"):
        aggregate([[(0.0, 1.0, 2.0)]], OverTime.MAX, Aggregation.MAX, metric="m")  # type: ignore[list-item]


def test_nothing_to_reduce_across_is_an_error_not_a_number() -> None:
    with pytest.raises(ValueError, match="nothing to reduce"):
        reduce_across([], Aggregation.AVG)


def test_count_finite_samples_counts_what_aggregate_uses() -> None:
    assert count_finite_samples([series(NAN, 2.0, INF, 4.0), [], series(1.0)]) == 3
    assert count_finite_samples([]) == 0


def test_the_input_is_not_modified() -> None:
    data = [series(NAN, 3.0, 1.0)]
    before = [list(one) for one in data]
    aggregate(data, OverTime.P50, Aggregation.P50, metric="m")
    assert [list(one) for one in data] == before


# --- a KPI from a labelled answer ---------------------------------------------------------------

# kube-burner's p99 by (resource, verb, scope): two namespace-scoped series, one cluster-scoped.
ANSWER = [
    LabelledSeries({"resource": "pods", "verb": "GET", "scope": "namespace"}, series(1.0, 3.0)),
    LabelledSeries({"resource": "secrets", "verb": "LIST", "scope": "namespace"}, series(5.0)),
    LabelledSeries({"resource": "nodes", "verb": "LIST", "scope": "cluster"}, series(9.0, NAN)),
]


def kpi(over_time: OverTime, **labels: str) -> MetricSpec:
    return MetricSpec(
        name="k",
        query="q",
        over_time=over_time,
        aggregation=Aggregation.AVG,
        labels=tuple(labels.items()),
    )


def test_only_series_with_all_the_labels_take_part() -> None:
    namespace = reduce_metric(kpi(OverTime.AVG, scope="namespace"), ANSWER)
    assert namespace.value == 3.5  # (avg 2 of pods + 5 of secrets) / 2
    assert (namespace.series_count, namespace.sample_count) == (2, 3)
    assert reduce_metric(kpi(OverTime.MAX, scope="namespace"), ANSWER).value == 4.0  # (3 + 5) / 2
    cluster = reduce_metric(kpi(OverTime.MAX, scope="cluster"), ANSWER)
    assert (cluster.value, cluster.series_count, cluster.sample_count) == (9.0, 1, 1)
    pods = reduce_metric(kpi(OverTime.MAX, scope="namespace", resource="pods"), ANSWER)
    assert pods.value == 3.0


def test_without_labels_every_series_takes_part() -> None:
    everything = reduce_metric(kpi(OverTime.AVG), ANSWER)
    assert everything.value == pytest.approx((2.0 + 5.0 + 9.0) / 3)
    assert everything.series_count == 3


def test_an_empty_label_value_matches_series_without_the_label() -> None:
    answer = [*ANSWER, LabelledSeries({"resource": "apis", "verb": "GET"}, series(7.0))]
    unscoped = reduce_metric(kpi(OverTime.MAX, scope=""), answer)
    assert (unscoped.value, unscoped.series_count) == (7.0, 1)


def test_no_series_with_the_labels_is_missing_and_says_which_labels() -> None:
    with pytest.raises(MetricMissing, match=r"none of the 3 series.*scope='resource'") as caught:
        reduce_metric(kpi(OverTime.AVG, scope="resource"), ANSWER)
    assert caught.value.metric == "k"


def test_an_empty_answer_is_missing_whatever_the_labels() -> None:
    with pytest.raises(MetricMissing, match="no samples in the run window"):
        reduce_metric(kpi(OverTime.AVG, scope="namespace"), [])


def test_chosen_series_with_only_nan_are_missing() -> None:
    only_nan = [LabelledSeries({"scope": "cluster"}, series(NAN, NAN)), *ANSWER[:2]]
    with pytest.raises(MetricMissing, match="NaN or infinite"):
        reduce_metric(kpi(OverTime.AVG, scope="cluster"), only_nan)


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


@given(all_series=st.lists(one_series, max_size=5), reduction=st.sampled_from(REDUCTIONS))
def test_matches_the_slow_reference(
    all_series: list[list[tuple[float, float]]], reduction: tuple[OverTime, Aggregation]
) -> None:
    over_time, aggregation = reduction
    has_finite = any(math.isfinite(v) for one in all_series for _, v in one)
    if not has_finite:
        with pytest.raises(MetricMissing):
            aggregate(all_series, over_time, aggregation, metric="m")
        return
    expected = slow_aggregate(all_series, over_time, aggregation)
    assert aggregate(all_series, over_time, aggregation, metric="m") == pytest.approx(
        expected, rel=1e-9, abs=1e-9
    )
