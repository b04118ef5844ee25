"""KPIs read from the run itself: kube-burner's quantiles from the run summary the Job left."""

from __future__ import annotations

import pytest

from perftest_operator.api.errors import MetricMissing
from perftest_operator.api.spec import parse_metric
from perftest_operator.burnerjob.summary import (
    summarize_run,
    summary_document,
    summary_from_document,
)
from perftest_operator.metrics.measurements import measurement_value

JOB = {
    "timestamp": "2025-01-15T02:00:00Z",
    "endTimestamp": "2025-01-15T02:20:00Z",
    "jobConfig": {"name": "node-density"},
    "passed": True,
}


def quantile(job: str, condition: str, p99: int) -> dict[str, object]:
    return {"quantileName": condition, "jobName": job, "P99": p99, "P50": p99 // 2, "max": p99 + 1}


SUMMARY = summarize_run(
    0,
    job_summaries=[JOB, {**JOB, "jobConfig": {"name": "garbage-collection"}}],
    quantile_files={
        "podLatencyQuantilesMeasurement-node-density": [
            quantile("node-density", "Ready", 3100),
            quantile("node-density", "PodScheduled", 40),
        ],
        # kube-burner's garbage-collection pseudo-job is not the benchmark
        "podLatencyQuantilesMeasurement-garbage-collection": [
            quantile("garbage-collection", "Ready", 99999)
        ],
    },
    log_lines=[],
)


def kpi(
    condition: str = "Ready", field: str = "P99", metric: str = "podLatencyQuantilesMeasurement"
):  # type: ignore[no-untyped-def]
    raw = {
        "name": "k",
        "kubeBurner": {"metricName": metric, "quantileName": condition, "metricOfInterest": field},
    }
    return parse_metric(raw, "spec.metrics[0]")


def test_the_value_is_the_quantile_of_the_benchmarks_jobs_in_ms() -> None:
    # As stored in the PerfRun's status and read back.
    summary = summary_from_document(summary_document(SUMMARY))
    assert measurement_value(kpi(), summary) == 3100.0
    assert measurement_value(kpi(field="P50"), summary) == 1550.0
    assert measurement_value(kpi("PodScheduled", "max"), summary) == 41.0


@pytest.mark.parametrize(
    ("metric", "summary"),
    [
        (kpi("ContainersReady"), SUMMARY),  # not measured in this run
        (kpi(metric="svcLatencyQuantilesMeasurement"), SUMMARY),  # no such measurement
        (kpi(), None),  # the run left no summary (an image without the entry point)
    ],
)
def test_a_quantile_the_run_lacks_is_missing_never_zero(metric, summary) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MetricMissing):
        measurement_value(metric, summary)
