"""The run summary the Job leaves: built from kube-burner's outputs, encoded within 4096 bytes."""

from __future__ import annotations

import datetime

import pytest

from perftest_operator.burnerjob.summary import (
    TERMINATION_MESSAGE_LIMIT,
    decode_summary,
    encode_summary,
    summarize_run,
)

# Documents in the shape kube-burner v1.17.2's local indexer writes them (pkg/burner/metadata.go
# JobSummary, pkg/measurements/metrics/metrics.go LatencyQuantiles): Go's RFC 3339 with
# nanoseconds, latencies in integer milliseconds.
JOB = {
    "timestamp": "2025-01-15T02:00:12.123456789Z",
    "endTimestamp": "2025-01-15T02:14:40.5Z",
    "elapsedTime": 868,
    "uuid": "0d6c3c53",
    "metricName": "jobSummary",
    "jobConfig": {"name": "cluster-density-v2", "jobIterations": 9},
    "passed": True,
    "version": "1.7.3@3ae6efe",
}
GC_JOB = {
    **JOB,
    "timestamp": "2025-01-15T02:15:00Z",
    "endTimestamp": "2025-01-15T02:19:00Z",
    "jobConfig": {"name": "garbage-collection"},
}
READY = {
    "quantileName": "Ready",
    "uuid": "0d6c3c53",
    "P99": 3100,
    "P95": 2500,
    "P50": 1200,
    "min": 800,
    "max": 4200,
    "avg": 1400,
    "timestamp": "2025-01-15T02:14:41Z",
    "metricName": "podLatencyQuantilesMeasurement",
    "jobName": "cluster-density-v2",
}
SCHEDULED = {**READY, "quantileName": "PodScheduled", "P99": 40, "max": 55}
QUANTILES = {"podLatencyQuantilesMeasurement-cluster-density-v2": [READY, SCHEDULED]}


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def test_the_measured_window_is_the_jobs_phase_without_garbage_collection() -> None:
    summary = summarize_run(0, job_summaries=[JOB, GC_JOB], quantile_files=QUANTILES, log_lines=[])
    assert summary.window == (
        utc("2025-01-15T02:00:12.123456+00:00"),
        utc("2025-01-15T02:14:40.5+00:00"),
    )
    assert summary.benchmark_completed
    assert summary.quantile("podLatency", "Ready", "P99") == 3100
    assert summary.quantile("podLatency", "PodScheduled", "max") == 55
    assert summary.quantile("podLatency", "Ready", "P90") is None
    assert summary.quantile("serviceLatency", "Ready", "P99") is None


def test_exit_4_is_a_completed_benchmark_with_its_thresholds() -> None:
    line = (
        'time="2025-01-15 02:14:41" level=error msg="podLatency: P99 Ready latency (3.10s) '
        'higher than configured threshold: 2s" file="helpers.go:102"'
    )
    failed = {**JOB, "passed": False}
    summary = summarize_run(4, job_summaries=[failed], quantile_files=QUANTILES, log_lines=[line])
    assert summary.benchmark_completed
    assert summary.thresholds_exceeded == (
        "podLatency: P99 Ready latency (3.10s) higher than configured threshold: 2s",
    )
    assert not summary.gc_timeout and not summary.benchmark_timeout


def test_exit_2_after_a_passed_benchmark_is_the_garbage_collections_timeout() -> None:
    lines = ['time="2025-01-15 03:15:00" level=error msg="garbage collection timeout reached"']
    summary = summarize_run(2, job_summaries=[JOB], quantile_files=QUANTILES, log_lines=lines)
    assert summary.gc_timeout and not summary.benchmark_timeout
    assert summary.benchmark_completed
    # Even without the log line: every job passed, and none says its timer fired.
    quiet = summarize_run(2, job_summaries=[JOB], quantile_files=QUANTILES, log_lines=[])
    assert quiet.gc_timeout and quiet.benchmark_completed


def test_exit_2_of_a_benchmark_over_its_timeout_is_not_completed() -> None:
    timed_out = {**JOB, "passed": False, "executionErrors": "1h0m0s timeout reached"}
    lines = ['time="2025-01-15 03:00:12" level=error msg="1h0m0s timeout reached"']
    summary = summarize_run(2, job_summaries=[timed_out], quantile_files={}, log_lines=lines)
    assert summary.benchmark_timeout and not summary.gc_timeout
    assert not summary.benchmark_completed
    # Both timers: the benchmark's decides.
    both = summarize_run(
        2,
        job_summaries=[timed_out],
        quantile_files={},
        log_lines=[*lines, 'level=error msg="garbage collection timeout reached"'],
    )
    assert both.benchmark_timeout and not both.benchmark_completed


@pytest.mark.parametrize("exit_code", [1, 3, 137])
def test_other_exits_are_not_completed_benchmarks(exit_code: int) -> None:
    summary = summarize_run(exit_code, job_summaries=[JOB], quantile_files={}, log_lines=[])
    assert not summary.benchmark_completed


def test_no_outputs_no_window() -> None:
    summary = summarize_run(
        1, job_summaries=[], quantile_files={}, log_lines=["Error: unknown flag: --x"]
    )
    assert summary.window is None and not summary.benchmark_completed
    assert summary.last_log_line == "Error: unknown flag: --x"


def test_encoding_round_trips() -> None:
    summary = summarize_run(
        4,
        job_summaries=[
            {
                **JOB,
                "churnStartTimestamp": "2025-01-15T02:10:00Z",
                "churnEndTimestamp": "2025-01-15T02:14:00Z",
            }
        ],
        quantile_files=QUANTILES,
        log_lines=["podLatency: P99 Ready latency (3.10s) higher than configured threshold: 2s"],
    )
    assert decode_summary(encode_summary(summary)) == summary


def test_a_large_summary_drops_detail_but_keeps_the_window() -> None:
    many = {
        f"podLatencyQuantilesMeasurement-job-{i}": [{**READY, "jobName": f"job-{i}"}]
        for i in range(60)
    }
    long_error = {**JOB, "passed": False, "executionErrors": "x" * 280}
    summary = summarize_run(
        4, job_summaries=[long_error] * 8, quantile_files=many, log_lines=["y" * 5000]
    )
    text = encode_summary(summary)
    assert len(text.encode()) <= TERMINATION_MESSAGE_LIMIT
    decoded = decode_summary(text)
    assert decoded is not None
    assert decoded.window == summary.window
    assert decoded.exit_code == 4


@pytest.mark.parametrize(
    "text",
    [
        "",
        "the last lines of a log",
        '{"kind": "something else", "exitCode": 0}',
        '{"kind": "perftest.dev/kube-burner-summary", "exitCode": "0"}',
        '{"kind": "perftest.dev/kube-burner-summary", "exitCode": 0, "jobs": [{"name": "x"}]}',
        '{"kind": "perftest.dev/kube-burner-summary", "exitCode": 0, "jobs": [',
    ],
)
def test_anything_else_in_a_termination_message_is_no_summary(text: str) -> None:
    assert decode_summary(text) is None
