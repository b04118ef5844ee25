"""Reduce the series of one run's range query to one number per KPI, in two stages (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from perftest_operator.api.errors import MetricMissing
from perftest_operator.api.kpi import Aggregation, MetricSpec, OverTime

Sample = tuple[float, float]
"""One sample: (unix time in seconds, value)."""

Series = Sequence[Sample]
"""The samples of one time series, as a range query returns them."""


@dataclass(frozen=True)
class LabelledSeries:
    """One series of a range query's answer: its labels and its samples."""

    labels: Mapping[str, str]
    samples: Series


@dataclass(frozen=True)
class MetricValue:
    """One KPI's number for one run, with how much data it came from."""

    name: str
    value: float
    series_count: int  # series that carry the KPI's labels (all the query returned, without labels)
    sample_count: int  # finite samples of those series: what the reduction used


_PERCENTILES = {"p50": 50.0, "p95": 95.0, "p99": 99.0}


def _finite_samples(series: Series) -> npt.NDArray[np.float64]:
    """The samples of one series with a finite value, as an (n, 2) array of (time, value)."""
    samples = np.asarray(series, dtype=np.float64)
    if samples.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(
            f"a series must be a sequence of (timestamp, value), got shape {samples.shape}"
        )
    return samples[np.isfinite(samples[:, 1])]


def _statistic(values: npt.NDArray[np.float64], name: str) -> float:
    """max, min, avg or a percentile (p50/p95/p99, numpy's linear interpolation) of finite values."""
    if name == "max":
        return float(np.max(values))
    if name == "min":
        return float(np.min(values))
    # A sum or a difference of finite values near the float limit overflows (the mean of two
    # samples of 1e308 is not inf): work on values scaled into [-1, 1] and scale back.
    scale = float(np.max(np.abs(values))) or 1.0
    if name == "avg":
        return float(np.mean(values / scale)) * scale
    if name in _PERCENTILES:
        scaled = np.percentile(values / scale, _PERCENTILES[name], method="linear")
        return float(scaled) * scale
    raise ValueError(f"unknown reduction {name!r}")


def count_finite_samples(series: Sequence[Series]) -> int:
    """How many samples of all series have a finite value: the ones ``aggregate`` uses (pure)."""
    return sum(len(_finite_samples(one)) for one in series)


def reduce_over_time(series: Series, over_time: OverTime) -> float | None:
    """The first stage: one series' finite samples over the window to one number, a pure function.

    NaN and infinite samples are dropped first (PromQL yields them, e.g. ``histogram_quantile``
    over buckets that did not move); ``last`` is the newest finite sample by timestamp. None when
    the series has no finite sample: it then takes no part in the second stage.
    """
    samples = _finite_samples(series)
    if not len(samples):
        return None
    if over_time is OverTime.LAST:
        return float(samples[np.argmax(samples[:, 0]), 1])
    return _statistic(samples[:, 1], over_time.value)


def reduce_across(values: Sequence[float], aggregation: Aggregation) -> float:
    """The second stage: the per-series numbers (finite, at least one) to one, a pure function."""
    if not values:
        raise ValueError("nothing to reduce across series")
    return _statistic(np.asarray(values, dtype=np.float64), aggregation.value)


def aggregate(
    series: Sequence[Series], over_time: OverTime, aggregation: Aggregation, *, metric: str
) -> float:
    """One number for a run from the series its KPI query returned: a pure function.

    Each series is reduced over the window by ``over_time`` (``reduce_over_time``), then the
    per-series numbers by ``aggregation`` (``reduce_across``). ``max`` then ``max`` (and ``min``
    then ``min``) is the extreme of all samples of all series; ``avg`` then ``avg`` weighs each
    series the same, however many samples it has, as ``avg(avg_over_time(...))`` does.

    Raises ``MetricMissing`` naming ``metric`` when there is no finite sample at all: an absent
    metric is never reported as zero.
    """
    per_series = [reduce_over_time(one, over_time) for one in series]
    kept = [value for value in per_series if value is not None]
    if not kept:
        if any(len(one) for one in series):
            raise MetricMissing(metric, "every sample in the run window is NaN or infinite")
        raise MetricMissing(metric)
    return reduce_across(kept, aggregation)


def carries(series: LabelledSeries, labels: Sequence[tuple[str, str]]) -> bool:
    """Whether ``series`` has every one of the (name, value) ``labels``. Pure.

    An empty value matches a series without that label: Prometheus treats a label with an
    empty value as absent (prometheus.io/docs/concepts/data_model).
    """
    return all(series.labels.get(name, "") == value for name, value in labels)


def _describe(labels: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in labels)


def reduce_metric(metric: MetricSpec, series: Sequence[LabelledSeries]) -> MetricValue:
    """A KPI's value from its query's answer: the series with its labels, reduced in two stages.

    A purely computational function with no side effects. Several KPIs that share a query are
    each reduced from the same answer. Raises ``MetricMissing`` when no series carries the
    KPI's labels or none of those has a finite sample.
    """
    chosen = [one for one in series if carries(one, metric.labels)]
    if series and not chosen:
        raise MetricMissing(
            metric.name,
            f"none of the {len(series)} series in the run window carries "
            f"{_describe(metric.labels)}",
        )
    samples = [one.samples for one in chosen]
    value = aggregate(samples, metric.over_time, metric.aggregation, metric=metric.name)
    return MetricValue(
        name=metric.name,
        value=value,
        series_count=len(chosen),
        sample_count=count_finite_samples(samples),
    )
