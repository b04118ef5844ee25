"""What a KPI is: its query, how a run's series reduce to one number, and which way is worse (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_THRESHOLD_PERCENT = 10.0


class OverTime(str, enum.Enum):
    """How the samples of ONE series over the run window reduce to one number (first stage)."""

    MAX = "max"
    AVG = "avg"
    MIN = "min"
    P50 = "p50"
    P95 = "p95"
    P99 = "p99"
    LAST = "last"  # the series' newest finite sample


class Aggregation(str, enum.Enum):
    """How the per-series numbers of the first stage reduce to the KPI's number (across series)."""

    MAX = "max"
    AVG = "avg"
    MIN = "min"
    P50 = "p50"
    P95 = "p95"
    P99 = "p99"


# `aggregation: last` predates `overTime`: each series' newest sample, then the largest of them.
# The spec still accepts it and reads it as overTime last, aggregation max.
LEGACY_LAST = "last"


class Direction(str, enum.Enum):
    """Which way a KPI gets worse."""

    LOWER_IS_BETTER = "LowerIsBetter"  # latencies: a rise is a regression
    HIGHER_IS_BETTER = "HigherIsBetter"  # throughputs: a fall is a regression


class QuantileField(str, enum.Enum):
    """The fields of a kube-burner quantile document (kube-burner v1.17.2
    pkg/measurements/metrics/metrics.go:29-42), Orion's metric_of_interest; integer ms."""

    P99 = "P99"
    P95 = "P95"
    P50 = "P50"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


QUANTILE_FIELDS = tuple(field.value for field in QuantileField)
QUANTILES_METRIC_SUFFIX = "QuantilesMeasurement"


@dataclass(frozen=True)
class KubeBurnerQuantile:
    """A KPI read from the run itself: one quantile of one of kube-burner's measurements.

    Named as Orion's configs name it (``metricName.keyword: podLatencyQuantilesMeasurement``,
    ``quantileName: Ready``, ``metric_of_interest: P99``): the document kube-burner's indexer
    writes for each condition at the end of each job, in milliseconds.
    """

    metric_name: str  # e.g. podLatencyQuantilesMeasurement
    quantile_name: str  # e.g. Ready
    metric_of_interest: str  # one of QUANTILE_FIELDS

    @property
    def measurement(self) -> str:
        """kube-burner's measurement, e.g. podLatency."""
        return self.metric_name.removesuffix(QUANTILES_METRIC_SUFFIX)


@dataclass(frozen=True)
class MetricSpec:
    """One KPI: a PromQL range query over the run window, reduced to one number per run, or
    (``kube_burner``, with an empty ``query``) a quantile of kube-burner's own measurements.

    The reduction of a query has two stages, as kube-burner-ocp's report profile and Orion have them:
    each series the query returns (and that carries every one of ``labels``) is reduced over
    the window by ``over_time``, then the per-series numbers are reduced by ``aggregation``.
    ``labels`` is kept as sorted (name, value) pairs, so that equal KPIs compare equal.
    """

    name: str
    query: str
    aggregation: Aggregation = Aggregation.MAX
    direction: Direction = Direction.LOWER_IS_BETTER
    threshold_percent: float = DEFAULT_THRESHOLD_PERCENT
    unit: str = ""
    over_time: OverTime = OverTime.MAX
    labels: tuple[tuple[str, str], ...] = ()
    kube_burner: KubeBurnerQuantile | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(sorted(dict(self.labels).items())))
