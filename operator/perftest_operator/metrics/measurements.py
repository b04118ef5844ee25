"""KPIs read from the run itself: quantiles of kube-burner's own measurements (pure).

The run's summary (``burnerjob.summary``, kept in the PerfRun's ``status.kubeBurner``) holds
one quantile document per measurement, job and condition. A KPI names one quantile the way
Orion's configs do (``podLatencyQuantilesMeasurement``, ``Ready``, ``P99``); when several jobs
measured it, the run's value is the largest (the slowest job decides), in milliseconds.
"""

from __future__ import annotations

from perftest_operator.api.errors import MetricMissing
from perftest_operator.api.kpi import MetricSpec
from perftest_operator.burnerjob.summary import RunSummary


def measurement_value(metric: MetricSpec, summary: RunSummary | None) -> float:
    """The KPI's value from the run summary; MetricMissing when the run has none.

    A purely computational function with no side effects.
    """
    quantile = metric.kube_burner
    if quantile is None:
        raise ValueError(f"{metric.name} is not a kube-burner measurement")
    if summary is None:
        raise MetricMissing(metric.name, "the run left no kube-burner summary")
    value = summary.quantile(
        quantile.measurement, quantile.quantile_name, quantile.metric_of_interest
    )
    if value is None:
        raise MetricMissing(
            metric.name,
            f"kube-burner measured no {quantile.metric_name} {quantile.quantile_name} in this run",
        )
    return float(value)
