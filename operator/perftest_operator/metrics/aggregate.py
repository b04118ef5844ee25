"""Reduce the samples of one run's range query to one number per KPI (pure)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from perftest_operator.api.errors import MetricMissing
from perftest_operator.api.kpi import Aggregation

Sample = tuple[float, float]
"""One sample: (unix time in seconds, value)."""

Series = Sequence[Sample]
"""The samples of one time series, as a range query returns them."""

_PERCENTILES: dict[Aggregation, float] = {
    Aggregation.P50: 50.0,
    Aggregation.P95: 95.0,
    Aggregation.P99: 99.0,
}


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


def count_finite_samples(series: Sequence[Series]) -> int:
    """How many samples of all series have a finite value: the ones ``aggregate`` uses (pure)."""
    return sum(len(_finite_samples(one)) for one in series)


def aggregate(series: Sequence[Series], aggregation: Aggregation, *, metric: str) -> float:
    """One number for a run from the series its KPI query returned: a pure function.

    Samples whose value is NaN or infinite (PromQL yields them, e.g. ``histogram_quantile``
    over empty buckets) are dropped first. ``max``, ``min``, ``avg`` and the percentiles
    ``p50``/``p95``/``p99`` (numpy, linear interpolation) pool the remaining samples of all
    series. ``last`` takes each series' latest finite sample (by timestamp) and returns the
    largest of these, so a KPI split over several series (one per resource, say) reports its
    worst final value; a series with no finite sample takes no part.

    Raises ``MetricMissing`` naming ``metric`` when there is no finite sample at all: an absent
    metric is never reported as zero.
    """
    kept = [samples for samples in map(_finite_samples, series) if len(samples)]
    if not kept:
        if any(len(one) for one in series):
            raise MetricMissing(metric, "every sample in the run window is NaN or infinite")
        raise MetricMissing(metric)
    if aggregation is Aggregation.LAST:
        return float(max(samples[np.argmax(samples[:, 0]), 1] for samples in kept))
    values = np.concatenate([samples[:, 1] for samples in kept])
    if aggregation is Aggregation.MAX:
        return float(np.max(values))
    if aggregation is Aggregation.MIN:
        return float(np.min(values))
    # A sum or a difference of finite values near the float limit overflows (the mean of two
    # samples of 1e308 is not inf): work on values scaled into [-1, 1] and scale back.
    scale = float(np.max(np.abs(values))) or 1.0
    if aggregation is Aggregation.AVG:
        return float(np.mean(values / scale)) * scale
    if aggregation in _PERCENTILES:
        scaled = np.percentile(values / scale, _PERCENTILES[aggregation], method="linear")
        return float(scaled) * scale
    raise ValueError(f"unknown aggregation {aggregation!r}")
