"""The controller's Event texts, word for word: users' alerts and the e2e tests read them."""

from __future__ import annotations

from perftest_operator.analysis.verdict import MetricChangePoint
from perftest_operator.api.kpi import Direction
from perftest_operator.api.status import Reason
from perftest_operator.controller import announce
from perftest_operator.events import NORMAL, WARNING, EventText


def point(*, regression: bool, acknowledged: str | None = None) -> MetricChangePoint:
    return MetricChangePoint(
        metric="readOnlyAPICallsLatency",
        run="nightly-8",
        time="2025-01-08T02:00:00Z",
        index=7,
        before=0.984,
        after=3.98 if regression else 0.5,
        change_percent=304.5 if regression else -49.2,
        direction=Direction.LOWER_IS_BETTER,
        regression=regression,
        confidence=0.987,
        acknowledged=acknowledged,
    )


def test_a_runs_event_on_its_perftest_names_the_run_first() -> None:
    failed = announce.run_failed("nightly-3", "exit code 2", "JobFailed")
    assert failed == EventText(WARNING, "RunFailed", "JobFailed: exit code 2", once="nightly-3")
    assert announce.on_test("nightly-3", failed) == EventText(
        WARNING, "RunFailed", "nightly-3: JobFailed: exit code 2", once="nightly-3"
    )


def test_a_failure_without_a_reason_is_told_as_it_is() -> None:
    missing = announce.run_failed("nightly-3", "Job bench/nightly-3 disappeared before it finished")
    assert missing.message == "Job bench/nightly-3 disappeared before it finished"


def test_the_reason_of_an_event_is_the_plain_string_of_its_reason() -> None:
    started = announce.run_started("nightly-3", "bench", "nightly-3", None, "node-density")
    assert type(started.reason) is str and started.reason == "RunStarted"
    assert started == EventText(
        NORMAL,
        "RunStarted",
        "kube-burner Job bench/nightly-3 started (node-density)",
        once="nightly-3",
    )


def test_a_started_job_on_a_remote_target_with_a_custom_config() -> None:
    started = announce.run_started("n-1", "bench", "n-1", "prod-kubeconfig", None)
    assert (
        started.message
        == "kube-burner Job bench/n-1 on target prod-kubeconfig started (custom config)"
    )


def test_a_regression_says_what_changed_or_that_nothing_was_recorded() -> None:
    text = "readOnlyAPICallsLatency +304.5% at run nightly-8 (0.984 → 3.98), confidence 0.99"
    changed = announce.change_point(point(regression=True), ["version 4.16.3 -> 4.16.4"])
    assert changed == EventText(
        WARNING,
        Reason.REGRESSION_DETECTED.value,
        f"{text}; what changed: version 4.16.3 -> 4.16.4",
        once="readOnlyAPICallsLatency/nightly-8",
    )
    unchanged = announce.change_point(point(regression=True), [])
    assert unchanged.message == (
        f"{text}; what changed: nothing recorded on the target or in the spec"
    )


def test_an_improvement_is_a_normal_event_without_what_changed() -> None:
    improvement = announce.change_point(point(regression=False), ["version 1 -> 2"])
    assert (improvement.type, improvement.reason) == (NORMAL, "Improvement")
    assert improvement.message == (
        "readOnlyAPICallsLatency -49.2% at run nightly-8 (0.984 → 0.5), confidence 0.99"
    )


def test_a_confirmed_regression_counts_its_confirmation_runs() -> None:
    confirmed = announce.regression_confirmed(point(regression=True), 2)
    assert confirmed == EventText(
        WARNING,
        "RegressionDetected",
        "readOnlyAPICallsLatency +304.5% at run nightly-8 (0.984 → 3.98), confirmed by 2 run(s), "
        "confidence 0.99",
        once="readOnlyAPICallsLatency/nightly-8",
    )
    refuted = announce.regression_not_confirmed("nightly-8", 2)
    assert refuted == EventText(
        NORMAL,
        "RegressionNotConfirmed",
        "the change at nightly-8 did not hold in 2 confirmation run(s): nightly-8 is recorded "
        "as an outlier and left out of the history",
        once="nightly-8",
    )


def test_run_succeeded_lists_the_values_sorted_with_six_significant_digits() -> None:
    succeeded = announce.run_succeeded("nightly-9", {"b": 0.123456789, "a": 2.0}, "Pass")
    assert succeeded == EventText(
        NORMAL,
        "RunSucceeded",
        "nightly-9 succeeded: a=2, b=0.123457; verdict Pass",
        once="nightly-9",
    )


def test_collection_and_target_waits() -> None:
    assert announce.collection_retried("PrometheusUnavailable", "HTTP 503") == EventText(
        WARNING,
        "PrometheusUnavailable",
        "HTTP 503; retrying with back-off",
        once="collect/PrometheusUnavailable",
    )
    assert announce.target_unreachable("connection refused") == EventText(
        WARNING, "TargetUnreachable", "waiting for the target: connection refused"
    )
    assert announce.metrics_skipped(["no etcd on HyperShift", "no kubelet"]) == EventText(
        NORMAL, "MetricSkipped", "no etcd on HyperShift; no kubelet", once="skipped"
    )
    assert announce.job_warning("n-1", "MeasurementOverThreshold", "p99 over 1s") == EventText(
        WARNING, "MeasurementOverThreshold", "p99 over 1s", once="n-1"
    )


def test_the_perftest_side_events() -> None:
    assert announce.run_skipped_suspended("Scheduled").message == (
        "Scheduled: the PerfTest is suspended"
    )
    assert announce.run_skipped_active("RunNow", "nightly-4").message == (
        "RunNow: not started because PerfRun nightly-4 is still active (concurrencyPolicy Forbid)"
    )
    assert announce.run_skipped_unchanged("Scheduled", "version 4.16 unchanged") == EventText(
        NORMAL, "RunSkipped", "Scheduled: version 4.16 unchanged"
    )
    assert announce.not_ready("TargetUnreachable", "timed out") == EventText(
        WARNING, "TargetUnreachable", "timed out"
    )
    assert announce.retrying("nightly-3", 1, 2, "nightly-4", "nightly-3") == EventText(
        NORMAL, "Retrying", "nightly-3 failed: retry 1 of 2 is nightly-4", once="nightly-3/1"
    )
    assert announce.replaced("nightly-3", "replaced by PerfRun nightly-4 (RunNow)") == EventText(
        WARNING, "Replaced", "replaced by PerfRun nightly-4 (RunNow)", once="nightly-3"
    )
    assert announce.pruned(["n-1", "n-2"], 5) == EventText(
        NORMAL, "Pruned", "2 old PerfRun(s) removed (history.keep 5): n-1, n-2"
    )
    assert announce.change_point_withdrawn("x", "n-4", "flaky") == EventText(
        NORMAL, "ChangePointWithdrawn", "x change at run n-4 withdrawn: flaky", once="x/n-4"
    )
