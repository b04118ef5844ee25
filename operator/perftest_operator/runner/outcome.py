"""What a kube-burner Job came to: state, time window, exit code and what it means (pure).

Read from a batch/v1 Job and its pods, as returned by the API (plain mappings). The Job is
finished only when it has a ``Complete`` or ``Failed`` condition: ``FailureTarget`` and
``SuccessCriteriaMet`` (Kubernetes 1.31+) say the outcome is decided while pods may still be
terminating, so the run is still ``Running`` then and its window is not frozen yet.

The runner image's entry point leaves kube-burner's run summary in the container's termination
message (``burnerjob.summary``): the measured window (kube-burner's job, not the pod's life), the
measurement quantiles, and what an exit code meant. A benchmark that ran to its end is measured
even when kube-burner did not exit 0: exit 4 is a measurement over its threshold (a regression
signal, kept in the history and flagged), and exit 2 after a finished benchmark is only the
garbage collection's timeout (kube-burner ``pkg/burner/job.go:193-198,286-297`` at v1.17.2).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from perftest_operator.api.fields import mapping, sequence
from perftest_operator.burnerjob.summary import RunSummary, decode_summary
from perftest_operator.runner.manifests import KUBE_BURNER_CONTAINER

CONTROLLER_UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
MAX_LOG_LINE = 300


class JobState(str, enum.Enum):
    PENDING = "Pending"  # kube-burner has not started (no pod yet, scheduling, pulling the image)
    RUNNING = "Running"  # kube-burner started and the Job has no terminal condition yet
    SUCCEEDED = "Succeeded"  # Complete=True
    FAILED = "Failed"  # Failed=True


class WindowSource(str, enum.Enum):
    """Where a run's window comes from."""

    KUBE_BURNER = "KubeBurner"  # the measured phase of kube-burner's jobs (its job summary)
    JOB = "Job"  # the Job's whole life: the image left no run summary


class OutcomeReason(str, enum.Enum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"  # exit code 0
    KUBE_BURNER_ERROR = "KubeBurnerError"  # exit code 1
    KUBE_BURNER_TIMEOUT = "KubeBurnerTimeout"  # exit code 2
    ALERT_TRIGGERED = "AlertTriggered"  # exit code 3
    MEASUREMENT_THRESHOLD_EXCEEDED = "MeasurementThresholdExceeded"  # exit code 4
    GARBAGE_COLLECTION_TIMEOUT = "GarbageCollectionTimeout"  # exit code 2 after the benchmark
    UNKNOWN_EXIT_CODE = "UnknownExitCode"
    OOM_KILLED = "OOMKilled"
    DEADLINE_EXCEEDED = "DeadlineExceeded"  # the Job's activeDeadlineSeconds fired first
    POD_FAILURE_POLICY = "PodFailurePolicy"
    POD_FAILED = "PodFailed"  # the pod failed without a kube-burner exit code (e.g. evicted)
    JOB_FAILED = "JobFailed"  # Failed with nothing more specific known


# kube-burner's documented exit codes (docs/cli: "Exit codes").
_EXIT_CODES: dict[int, tuple[OutcomeReason, str]] = {
    0: (OutcomeReason.SUCCEEDED, "kube-burner finished normally"),
    1: (
        OutcomeReason.KUBE_BURNER_ERROR,
        "kube-burner stopped on an unrecoverable error (exit code 1), "
        "e.g. an API authorization or configuration error",
    ),
    2: (
        OutcomeReason.KUBE_BURNER_TIMEOUT,
        "kube-burner timed out (exit code 2): the benchmark ran longer than its --timeout, or "
        "its garbage collection longer than gcTimeout (no run summary tells which)",
    ),
    3: (
        OutcomeReason.ALERT_TRIGGERED,
        "an error or critical kube-burner alert fired during the run (exit code 3)",
    ),
    4: (
        OutcomeReason.MEASUREMENT_THRESHOLD_EXCEEDED,
        "a kube-burner measurement exceeded its threshold (exit code 4)",
    ),
}


def exit_code_reason(code: int) -> tuple[str, str]:
    """A CamelCase reason and a human message for a kube-burner exit code.

    A purely computational function with no side effects.
    """
    known = _EXIT_CODES.get(code)
    if known is not None:
        return known[0].value, known[1]
    if code > 128:
        detail = f"kube-burner was killed by signal {code - 128} (exit code {code})"
    else:
        detail = f"kube-burner exited with unexpected code {code}"
    return OutcomeReason.UNKNOWN_EXIT_CODE.value, detail


@dataclass(frozen=True)
class JobOutcome:
    """Where a kube-burner Job stands, and the window of the run's Prometheus queries."""

    state: JobState  # SUCCEEDED: the benchmark ran to its end and is measured
    start_time: datetime | None  # the Job's status.startTime
    completion_time: datetime | None  # Complete: completionTime; Failed: the condition's time
    exit_code: int | None  # of the kube-burner container, when a pod shows it
    reason: str  # an OutcomeReason value
    message: str
    summary: RunSummary | None = None  # what the runner image's entry point left

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)

    @property
    def window(self) -> tuple[datetime, datetime] | None:
        """kube-burner's measured phase when the summary has it, else the Job's whole life."""
        if self.summary is not None and self.summary.window is not None:
            return self.summary.window
        if self.start_time is not None and self.completion_time is not None:
            return self.start_time, self.completion_time
        return None

    @property
    def window_source(self) -> WindowSource:
        measured = self.summary is not None and self.summary.window is not None
        return WindowSource.KUBE_BURNER if measured else WindowSource.JOB


@dataclass(frozen=True)
class _Termination:
    exit_code: int
    reason: str
    message: str
    finished_at: datetime | None
    summary: RunSummary | None = None


def _time(value: Any, field: str) -> datetime | None:
    """An RFC 3339 API timestamp (or a datetime from a typed client) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{field}: not an RFC 3339 timestamp: {value!r}") from None
    else:
        raise ValueError(f"{field}: not a timestamp: {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _condition(conditions: Sequence[Any], kind: str) -> Mapping[str, Any] | None:
    for condition in conditions:
        fields = mapping(condition)
        if fields.get("type") == kind and fields.get("status") == "True":
            return fields
    return None


def _job_pods(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pods that belong to this Job (pods labelled with another Job's uid are dropped)."""
    uid = mapping(job.get("metadata")).get("uid")
    mine = []
    for pod in pods:
        labels = mapping(mapping(pod.get("metadata")).get("labels"))
        owners = {labels[key] for key in CONTROLLER_UID_LABELS if key in labels}
        if uid and owners and uid not in owners:
            continue
        mine.append(pod)
    return mine


def _kube_burner_status(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    statuses = [mapping(s) for s in sequence(mapping(pod.get("status")).get("containerStatuses"))]
    for status in statuses:
        if status.get("name") == KUBE_BURNER_CONTAINER:
            return status
    return statuses[0] if len(statuses) == 1 else None


_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)\S+"),
    re.compile(r"(?i)((?:token|password|passwd|secret)[\"']?\s*[=:]\s*[\"']?)[^\s\"',]+"),
    re.compile(r"()eyJ[\w-]+\.[\w-]+\.[\w-]+"),  # a JWT, e.g. a service account token
)


def _last_log_line(text: str) -> str:
    """The last non-empty line of a termination message, with anything token-like redacted."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    for pattern in _SECRET_PATTERNS:
        line = pattern.sub(r"\1<redacted>", line)
    return line if len(line) <= MAX_LOG_LINE else line[: MAX_LOG_LINE - 3] + "..."


def _termination(pods: Sequence[Mapping[str, Any]]) -> _Termination | None:
    """The kube-burner container's termination; the latest one if several pods ran."""
    found: list[_Termination] = []
    for pod in pods:
        status = _kube_burner_status(pod)
        terminated = mapping(mapping(status.get("state")).get("terminated")) if status else {}
        code = terminated.get("exitCode")
        if isinstance(code, int) and not isinstance(code, bool):
            text = str(terminated.get("message") or "")
            summary = decode_summary(text)
            found.append(
                _Termination(
                    exit_code=code,
                    reason=str(terminated.get("reason") or ""),
                    message=_last_log_line(text if summary is None else summary.last_log_line),
                    finished_at=_time(terminated.get("finishedAt"), "terminated.finishedAt"),
                    summary=summary,
                )
            )
    if not found:
        return None
    epoch = datetime.min.replace(tzinfo=UTC)
    return max(found, key=lambda t: t.finished_at or epoch)


def _with_log(message: str, termination: _Termination | None) -> str:
    if termination is None or not termination.message:
        return message
    return f"{message}; last log line: {termination.message}"


def _failure(
    failed: Mapping[str, Any], termination: _Termination | None, pods: Sequence[Mapping[str, Any]]
) -> tuple[str, str]:
    job_reason = str(failed.get("reason") or "")
    job_message = str(failed.get("message") or "")
    if job_reason == "DeadlineExceeded":
        message = "the Job's activeDeadlineSeconds passed before kube-burner exited"
        if termination is not None:
            message += f" (its container ended with exit code {termination.exit_code})"
        return OutcomeReason.DEADLINE_EXCEEDED.value, message
    if termination is not None and termination.reason == "OOMKilled":
        return OutcomeReason.OOM_KILLED.value, _with_log(
            "kube-burner's container was killed for exceeding its memory limit", termination
        )
    if termination is not None and termination.exit_code != 0:
        reason, message = exit_code_reason(termination.exit_code)
        return reason, _with_log(message, termination)
    if job_reason == "PodFailurePolicy":
        return OutcomeReason.POD_FAILURE_POLICY.value, job_message or "a pod failure policy fired"
    for pod in pods:
        status = mapping(pod.get("status"))
        if status.get("phase") == "Failed":
            detail = ": ".join(str(s) for s in (status.get("reason"), status.get("message")) if s)
            return OutcomeReason.POD_FAILED.value, (
                f"the kube-burner pod failed without an exit code ({detail or 'no reason given'})"
            )
    message = job_message or "the Job failed and no pod tells why (the pod may be gone)"
    if job_reason:
        message = f"{job_reason}: {message}"
    return OutcomeReason.JOB_FAILED.value, message


def _measured_exit(termination: _Termination | None) -> tuple[str, str] | None:
    """(reason, message) when a non-zero exit still ended a benchmark that ran to its end."""
    if termination is None:
        return None
    summary = termination.summary
    if termination.exit_code == 4 and (summary is None or summary.benchmark_completed):
        exceeded = "; ".join(summary.thresholds_exceeded) if summary is not None else ""
        return OutcomeReason.MEASUREMENT_THRESHOLD_EXCEEDED.value, (
            "the benchmark finished, but a kube-burner measurement is over its threshold "
            f"(exit code 4){': ' + exceeded if exceeded else ''}; the run is measured and kept "
            "in the history"
        )
    if termination.exit_code == 2 and summary is not None and summary.benchmark_completed:
        return OutcomeReason.GARBAGE_COLLECTION_TIMEOUT.value, (
            "the benchmark finished, but deleting what it created outlasted kube-burner's "
            "gcTimeout (exit code 2); objects of the run may be left on the target"
        )
    return None


def _waiting_detail(pods: Sequence[Mapping[str, Any]]) -> str:
    for pod in pods:
        status = _kube_burner_status(pod)
        waiting = mapping(mapping(status.get("state")).get("waiting")) if status else {}
        if waiting.get("reason"):
            return ": ".join(str(s) for s in (waiting.get("reason"), waiting.get("message")) if s)
    return ""


def _started(pods: Sequence[Mapping[str, Any]]) -> bool:
    for pod in pods:
        status = _kube_burner_status(pod)
        state = mapping(status.get("state")) if status else {}
        if "running" in state or "terminated" in state:
            return True
    return False


def read_job_outcome(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> JobOutcome:
    """The outcome of a kube-burner Job from its status and its pods' container statuses.

    A purely computational function with no side effects. ``pods`` are the Job's pods (pods
    labelled with another Job's controller uid are ignored); they may be empty, e.g. after
    the pods were garbage-collected, in which case the exit code is unknown (None).
    """
    status = mapping(job.get("status"))
    conditions = sequence(status.get("conditions"))
    start = _time(status.get("startTime"), "status.startTime")
    own_pods = _job_pods(job, pods)
    termination = _termination(own_pods)
    exit_code = termination.exit_code if termination else None
    summary = termination.summary if termination else None

    complete = _condition(conditions, "Complete")
    if complete is not None:
        end = _time(status.get("completionTime"), "status.completionTime") or _time(
            complete.get("lastTransitionTime"), "Complete.lastTransitionTime"
        )
        reason, message = exit_code_reason(0)
        return JobOutcome(JobState.SUCCEEDED, start, end, exit_code, reason, message, summary)

    failed = _condition(conditions, "Failed")
    if failed is not None:
        end = _time(failed.get("lastTransitionTime"), "Failed.lastTransitionTime")
        measured = _measured_exit(termination)
        if measured is not None and failed.get("reason") != "DeadlineExceeded":
            return JobOutcome(JobState.SUCCEEDED, start, end, exit_code, *measured, summary)
        reason, message = _failure(failed, termination, own_pods)
        return JobOutcome(JobState.FAILED, start, end, exit_code, reason, message, summary)

    decided = _condition(conditions, "FailureTarget") or _condition(
        conditions, "SuccessCriteriaMet"
    )
    if decided is not None:
        detail = decided.get("reason") or decided.get("type")
        message = f"the Job's outcome is decided ({detail}); waiting for its pods to terminate"
        running = OutcomeReason.RUNNING.value
        return JobOutcome(JobState.RUNNING, start, None, exit_code, running, message)

    ready = status.get("ready")
    if _started(own_pods) or (isinstance(ready, int) and ready > 0):
        return JobOutcome(
            JobState.RUNNING,
            start,
            None,
            exit_code,
            OutcomeReason.RUNNING.value,
            "kube-burner is running",
        )

    if _condition(conditions, "Suspended") is not None:
        message = "the Job is suspended"
    else:
        waiting = _waiting_detail(own_pods)
        message = (
            f"kube-burner has not started ({waiting})"
            if waiting
            else ("kube-burner has not started yet")
        )
    return JobOutcome(JobState.PENDING, start, None, None, OutcomeReason.PENDING.value, message)
