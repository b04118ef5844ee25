"""Reading a kube-burner Job's outcome: state, window, exit code and the reason it maps to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from perftest_operator.burnerjob.summary import encode_summary, summarize_run
from perftest_operator.runner.outcome import (
    JobOutcome,
    JobState,
    WindowSource,
    exit_code_reason,
    read_job_outcome,
)

JOB_UID = "0b5d2e3c-1111-4c1e-8a7f-6f1c2a4e9d3b"
STARTED = "2025-01-10T03:00:05Z"  # Job status.startTime
CONTAINER_STARTED = "2025-01-10T03:01:40Z"
CONTAINER_FINISHED = "2025-01-10T03:41:10Z"
COMPLETED = "2025-01-10T03:41:12Z"  # Job status.completionTime
FAILED_AT = "2025-01-10T03:41:15Z"  # the Failed condition's lastTransitionTime
TARGET_AT = "2025-01-10T03:41:11Z"  # FailureTarget, set before the pods are gone


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def job(*conditions: dict[str, Any], start: str | None = STARTED, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"conditions": list(conditions), **status}
    if start is not None:
        body["startTime"] = start
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "api-latency-1", "namespace": "perftest-runs", "uid": JOB_UID},
        "status": body,
    }


def condition(kind: str, reason: str, when: str, message: str = "") -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": when,
    }


def pod(
    state: dict[str, Any] | None,
    *,
    phase: str = "Running",
    controller_uid: str = JOB_UID,
    container: str = "kube-burner",
    **status: Any,
) -> dict[str, Any]:
    statuses = [] if state is None else [{"name": container, "state": state}]
    return {
        "metadata": {
            "name": "api-latency-1-x7k2p",
            "labels": {"batch.kubernetes.io/controller-uid": controller_uid},
        },
        "status": {"phase": phase, "containerStatuses": statuses, **status},
    }


def terminated(code: int, reason: str = "Error", message: str = "") -> dict[str, Any]:
    return {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "message": message,
            "startedAt": CONTAINER_STARTED,
            "finishedAt": CONTAINER_FINISHED,
        }
    }


def failed_job() -> dict[str, Any]:
    return job(
        condition("FailureTarget", "BackoffLimitExceeded", TARGET_AT),
        condition("Failed", "BackoffLimitExceeded", FAILED_AT, "Job has reached the backoff limit"),
    )


# --- exit codes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (0, "Succeeded"),
        (1, "KubeBurnerError"),
        (2, "KubeBurnerTimeout"),
        (3, "AlertTriggered"),
        (4, "MeasurementThresholdExceeded"),
        (5, "UnknownExitCode"),
        (255, "UnknownExitCode"),
    ],
)
def test_exit_code_reason(code: int, reason: str) -> None:
    got_reason, message = exit_code_reason(code)
    assert got_reason == reason
    assert message


def test_exit_code_messages_say_what_happened() -> None:
    assert "--timeout" in exit_code_reason(2)[1]
    assert "alert" in exit_code_reason(3)[1]
    assert "threshold" in exit_code_reason(4)[1]
    assert "signal 9" in exit_code_reason(137)[1]
    assert "unexpected code 7" in exit_code_reason(7)[1]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1, "KubeBurnerError"),
        (2, "KubeBurnerTimeout"),
        (3, "AlertTriggered"),
        (7, "UnknownExitCode"),
    ],
)
def test_failed_job_takes_its_reason_from_kube_burners_exit_code(code: int, reason: str) -> None:
    outcome = read_job_outcome(failed_job(), [pod(terminated(code), phase="Failed")])
    assert outcome == JobOutcome(
        state=JobState.FAILED,
        start_time=at(STARTED),
        completion_time=at(FAILED_AT),  # the Failed condition's time, not FailureTarget's
        exit_code=code,
        reason=reason,
        message=exit_code_reason(code)[1],
    )
    assert outcome.finished


# --- terminal states ---------------------------------------------------------------------------


def test_succeeded() -> None:
    status = job(
        condition("SuccessCriteriaMet", "CompletionsReached", COMPLETED),
        condition("Complete", "CompletionsReached", COMPLETED),
        completionTime=COMPLETED,
        succeeded=1,
    )
    outcome = read_job_outcome(status, [pod(terminated(0, "Completed"), phase="Succeeded")])
    assert outcome == JobOutcome(
        JobState.SUCCEEDED,
        at(STARTED),
        at(COMPLETED),
        0,
        "Succeeded",
        "kube-burner finished normally",
    )


def test_succeeded_without_pods_still_has_its_window() -> None:
    status = job(condition("Complete", "CompletionsReached", COMPLETED), completionTime=COMPLETED)
    outcome = read_job_outcome(status, [])
    assert outcome.state == JobState.SUCCEEDED
    assert (outcome.start_time, outcome.completion_time) == (at(STARTED), at(COMPLETED))
    assert outcome.exit_code is None


def test_deadline_exceeded_without_pod() -> None:
    status = job(
        condition("FailureTarget", "DeadlineExceeded", TARGET_AT),
        condition("Failed", "DeadlineExceeded", FAILED_AT, "Job was active longer than specified"),
    )
    outcome = read_job_outcome(status, [])
    assert outcome.state == JobState.FAILED
    assert outcome.reason == "DeadlineExceeded"
    assert outcome.exit_code is None
    assert outcome.completion_time == at(FAILED_AT)
    assert "activeDeadlineSeconds" in outcome.message


def test_deadline_exceeded_wins_over_the_killed_containers_exit_code() -> None:
    status = job(condition("Failed", "DeadlineExceeded", FAILED_AT))
    outcome = read_job_outcome(status, [pod(terminated(137), phase="Failed")])
    assert outcome.reason == "DeadlineExceeded"
    assert outcome.exit_code == 137
    assert "exit code 137" in outcome.message


def test_oom_killed() -> None:
    outcome = read_job_outcome(failed_job(), [pod(terminated(137, "OOMKilled"), phase="Failed")])
    assert (outcome.state, outcome.reason, outcome.exit_code) == (JobState.FAILED, "OOMKilled", 137)
    assert "memory limit" in outcome.message


def test_pod_failure_policy() -> None:
    status = job(
        condition(
            "Failed", "PodFailurePolicy", FAILED_AT, "Container kube-burner exited with code 42"
        )
    )
    outcome = read_job_outcome(status, [])
    assert outcome.reason == "PodFailurePolicy"
    assert outcome.message == "Container kube-burner exited with code 42"


def test_evicted_pod_without_exit_code() -> None:
    evicted = pod(None, phase="Failed", reason="Evicted", message="The node was low on memory.")
    outcome = read_job_outcome(failed_job(), [evicted])
    assert outcome.reason == "PodFailed"
    assert "Evicted: The node was low on memory." in outcome.message
    assert outcome.exit_code is None


def test_failed_with_no_pod_left() -> None:
    outcome = read_job_outcome(failed_job(), [])
    assert outcome.state == JobState.FAILED
    assert outcome.reason == "JobFailed"
    assert outcome.message == "BackoffLimitExceeded: Job has reached the backoff limit"


def test_last_log_line_is_added_with_tokens_redacted() -> None:
    log = (
        'time="2025-01-10 03:40:00" level=info msg="Indexing metrics"\n'
        'time="2025-01-10 03:41:09" level=fatal msg="prometheus query failed, '
        'Authorization: Bearer sha256~AbCdEf123 token=eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"\n'
    )
    outcome = read_job_outcome(failed_job(), [pod(terminated(1, message=log), phase="Failed")])
    assert outcome.reason == "KubeBurnerError"
    assert "last log line:" in outcome.message
    assert "prometheus query failed" in outcome.message
    assert "Indexing metrics" not in outcome.message
    assert "sha256~AbCdEf123" not in outcome.message
    assert "eyJhbGciOi" not in outcome.message
    assert "<redacted>" in outcome.message


def test_long_log_line_is_cut() -> None:
    log = "level=fatal msg=" + "x" * 5000
    outcome = read_job_outcome(failed_job(), [pod(terminated(1, message=log), phase="Failed")])
    assert len(outcome.message) < 500
    assert outcome.message.endswith("...")


def test_pods_of_another_job_are_ignored() -> None:
    stranger = pod(terminated(3), phase="Failed", controller_uid="some-other-job")
    mine = pod(terminated(2), phase="Failed")
    outcome = read_job_outcome(failed_job(), [stranger, mine])
    assert (outcome.exit_code, outcome.reason) == (2, "KubeBurnerTimeout")
    outcome = read_job_outcome(failed_job(), [stranger])
    assert outcome.exit_code is None


def test_the_latest_terminated_pod_is_the_one_that_counts() -> None:
    earlier = pod(terminated(1), phase="Failed")
    earlier["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"] = STARTED
    later = pod(terminated(4), phase="Failed")
    for pods in ([earlier, later], [later, earlier]):
        assert read_job_outcome(failed_job(), pods).exit_code == 4


def test_timestamps_from_a_typed_client_are_accepted() -> None:
    status = job(condition("Complete", "CompletionsReached", COMPLETED), start=None)
    status["status"]["startTime"] = datetime(2025, 1, 10, 3, 0, 5, tzinfo=UTC)
    status["status"]["completionTime"] = datetime(2025, 1, 10, 3, 41, 12)  # naive = UTC
    outcome = read_job_outcome(status, [])
    assert (outcome.start_time, outcome.completion_time) == (at(STARTED), at(COMPLETED))


def test_malformed_timestamp_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"status\.startTime"):
        read_job_outcome(job(start="yesterday"), [])


# --- not finished yet --------------------------------------------------------------------------


def test_pending_without_status() -> None:
    body = {"metadata": {"name": "api-latency-1", "uid": JOB_UID}}
    outcome = read_job_outcome(body, [])
    assert outcome == JobOutcome(
        JobState.PENDING, None, None, None, "Pending", "kube-burner has not started yet"
    )
    assert not outcome.finished


def test_pending_while_the_image_cannot_be_pulled() -> None:
    waiting = {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
    outcome = read_job_outcome(job(active=1), [pod(waiting, phase="Pending")])
    assert outcome.state == JobState.PENDING
    assert outcome.start_time == at(STARTED)
    assert "ImagePullBackOff: Back-off pulling image" in outcome.message


def test_pending_when_suspended() -> None:
    outcome = read_job_outcome(job(condition("Suspended", "JobSuspended", STARTED)), [])
    assert outcome.state == JobState.PENDING
    assert "suspended" in outcome.message


def test_running() -> None:
    running = {"running": {"startedAt": CONTAINER_STARTED}}
    outcome = read_job_outcome(job(active=1, ready=1), [pod(running)])
    assert outcome == JobOutcome(
        JobState.RUNNING, at(STARTED), None, None, "Running", "kube-burner is running"
    )


def test_running_from_the_ready_count_when_pods_are_not_listed() -> None:
    assert read_job_outcome(job(active=1, ready=1), []).state == JobState.RUNNING
    assert read_job_outcome(job(active=1, ready=0), []).state == JobState.PENDING


def test_failure_decided_but_pods_terminating_is_still_running() -> None:
    status = job(condition("FailureTarget", "DeadlineExceeded", TARGET_AT), active=1)
    outcome = read_job_outcome(status, [pod({"running": {"startedAt": CONTAINER_STARTED}})])
    assert outcome.state == JobState.RUNNING
    assert outcome.completion_time is None
    assert not outcome.finished
    assert "DeadlineExceeded" in outcome.message


def test_false_conditions_do_not_count() -> None:
    status = job({"type": "Failed", "status": "False", "lastTransitionTime": FAILED_AT})
    assert read_job_outcome(status, []).state == JobState.PENDING


# --- the run summary the runner image leaves in the termination message ------------------------

MEASURED_START, MEASURED_END = "2025-01-10T03:02:30Z", "2025-01-10T03:30:00Z"


def summary_message(code: int, *, passed: bool = True, errors: str = "", log: str = "") -> str:
    """The termination message the entry point writes (documents as kube-burner writes them)."""
    job_summary = {
        "timestamp": MEASURED_START,
        "endTimestamp": MEASURED_END,
        "jobConfig": {"name": "cluster-density-v2"},
        "passed": passed,
        "executionErrors": errors,
    }
    ready = {"quantileName": "Ready", "P99": 3100, "jobName": "cluster-density-v2"}
    return encode_summary(
        summarize_run(
            code,
            job_summaries=[job_summary],
            quantile_files={"podLatencyQuantilesMeasurement-cluster-density-v2": [ready]},
            log_lines=[log] if log else [],
        )
    )


def test_the_window_is_kube_burners_measured_phase_not_the_pods_life() -> None:
    done = job(condition("Complete", "CompletionsReached", COMPLETED), completionTime=COMPLETED)
    outcome = read_job_outcome(done, [pod(terminated(0, "Completed", summary_message(0)))])
    assert outcome.state is JobState.SUCCEEDED
    assert outcome.window == (at(MEASURED_START), at(MEASURED_END))
    assert outcome.window_source is WindowSource.KUBE_BURNER
    assert outcome.summary is not None
    assert outcome.summary.quantile("podLatency", "Ready", "P99") == 3100
    # Without a summary (an image without the entry point): the Job's whole life.
    bare = read_job_outcome(done, [pod(terminated(0, "Completed"))])
    assert bare.window == (at(STARTED), at(COMPLETED)) and bare.window_source is WindowSource.JOB


def test_exit_4_is_a_measured_run_flagged_with_its_threshold() -> None:
    text = "podLatency: P99 Ready latency (3.10s) higher than configured threshold: 2s"
    message = summary_message(4, passed=False, log=f'level=error msg="{text}"')
    outcome = read_job_outcome(failed_job(), [pod(terminated(4, "Error", message))])
    assert outcome.state is JobState.SUCCEEDED
    assert outcome.reason == "MeasurementThresholdExceeded"
    assert text in outcome.message
    assert outcome.window == (at(MEASURED_START), at(MEASURED_END))
    # kube-burner's exit 4 without a summary is still a finished benchmark, measured over the Job.
    bare = read_job_outcome(failed_job(), [pod(terminated(4))])
    assert (bare.state, bare.reason, bare.window_source) == (
        JobState.SUCCEEDED,
        "MeasurementThresholdExceeded",
        WindowSource.JOB,
    )


def test_exit_2_of_the_garbage_collection_is_told_apart_from_a_timed_out_benchmark() -> None:
    gc = summary_message(2, log='level=error msg="garbage collection timeout reached"')
    outcome = read_job_outcome(failed_job(), [pod(terminated(2, "Error", gc))])
    assert (outcome.state, outcome.reason) == (JobState.SUCCEEDED, "GarbageCollectionTimeout")
    assert "may be left" in outcome.message
    timed_out = summary_message(2, passed=False, errors="1h0m0s timeout reached")
    outcome = read_job_outcome(failed_job(), [pod(terminated(2, "Error", timed_out))])
    assert (outcome.state, outcome.reason) == (JobState.FAILED, "KubeBurnerTimeout")


def test_a_deadline_is_a_failure_whatever_the_container_said() -> None:
    killed = job(condition("Failed", "DeadlineExceeded", FAILED_AT, "Job was active longer"))
    outcome = read_job_outcome(killed, [pod(terminated(4, "Error", summary_message(4)))])
    assert (outcome.state, outcome.reason) == (JobState.FAILED, "DeadlineExceeded")
