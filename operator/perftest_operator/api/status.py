"""Status of PerfTest and PerfRun: condition types, reasons, and phases derived from conditions (pure)."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.api.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    find_condition,
    is_true,
    set_condition,
)
from perftest_operator.api.errors import (
    JobPermissionsMissing,
    JobServiceAccountMissing,
    NotAllowed,
    PerfTestError,
    PerfTestNotFound,
    PrerequisiteMissing,
    PrometheusUnauthorized,
    PrometheusUnavailable,
    PrometheusUnusable,
    SpecError,
    TargetConfigInvalid,
    TargetSecretMissing,
    TargetUnreachable,
    WorkloadNotForPlatform,
)
from perftest_operator.api.fields import dig, labels, mapping, sequence
from perftest_operator.api.perfrun import RUN_NUMBER_LABEL, PerfRun, parse_perfrun


class PerfTestCondition(str, enum.Enum):
    """Condition types of a PerfTest."""

    # True: the spec is usable and everything a run needs answered: the target, the Job's
    # ServiceAccount on the hub, Prometheus with its token and CA (one probe query). Runs start
    # only while it is True. False: something is missing or refused; the reason says what
    # (InvalidSpec, TargetSecretMissing, TargetConfigInvalid, TargetUnreachable,
    # PrerequisiteMissing, JobServiceAccountMissing, JobPermissionsMissing, PrometheusUnusable,
    # PrometheusUnreachable, PrometheusUnauthorized) and the message names the field. All but InvalidSpec are
    # checked again every PERFTEST_TARGET_RETRY. Unknown: not checked yet.
    READY = "Ready"
    # True: one of its PerfRuns is Pending, Running, Collecting or Analyzing. False: none is.
    RUNNING = "Running"
    # True: the latest verdict found an unacknowledged regression. False: the latest verdict is
    # Pass or Improvement. Unknown: no verdict yet, or InsufficientHistory / Inconclusive.
    REGRESSED = "Regressed"


class RunCondition(str, enum.Enum):
    """Condition types of a PerfRun."""

    # True: kube-burner's Job succeeded. False: the Job failed or could not be created (the reason
    # says why: an exit code reason, InvalidSpec, JobMissing...). Unknown: still running.
    JOB_COMPLETED = "JobCompleted"
    # True: every metric was read for the run window. False: not (yet): reason
    # PrometheusUnavailable or MetricMissing while retrying, or a permanent reason that fails the run.
    METRICS_COLLECTED = "MetricsCollected"
    # True: the verdict was computed from the history (reason = the verdict's result).
    ANALYZED = "Analyzed"


class PerfTestPhase(str, enum.Enum):
    PENDING = "Pending"
    RUNNING = "Running"
    BASELINE = "Baseline"  # runs succeed, but the history is too short for a verdict yet
    PASSED = "Passed"
    REGRESSED = "Regressed"
    FAILED = "Failed"
    INVALID = "Invalid"
    SUSPENDED = "Suspended"


class RunPhase(str, enum.Enum):
    PENDING = "Pending"
    RUNNING = "Running"
    COLLECTING = "Collecting"
    ANALYZING = "Analyzing"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def is_terminal(self) -> bool:
        """Succeeded or Failed: no step moves the run any more."""
        return self in (RunPhase.SUCCEEDED, RunPhase.FAILED)


class Reason(enum.StrEnum):
    """Reasons used in conditions and as Event reasons (the string itself: a StrEnum)."""

    SPEC_VALID = "SpecValid"
    INVALID_SPEC = "InvalidSpec"
    NOT_ALLOWED = "NotAllowed"  # the admin's policy refuses the spec (api.policy)
    RUN_STARTED = "RunStarted"
    RUN_SUCCEEDED = "RunSucceeded"
    RUN_FAILED = "RunFailed"
    RUN_SKIPPED = "RunSkipped"
    REGRESSION_DETECTED = "RegressionDetected"
    IMPROVEMENT = "Improvement"
    CHANGE_POINT_WITHDRAWN = "ChangePointWithdrawn"
    NO_ACTIVE_RUN = "NoActiveRun"
    RUN_ACTIVE = "RunActive"
    NO_VERDICT = "NoVerdict"
    TEST_NOT_FOUND = "TestNotFound"
    JOB_RUNNING = "JobRunning"
    JOB_MISSING = "JobMissing"
    PROMETHEUS_UNAVAILABLE = "PrometheusUnavailable"
    METRIC_MISSING = "MetricMissing"
    INVALID_QUERY = "InvalidQuery"
    NO_METRICS = "NoMetrics"
    COLLECTED = "Collected"
    TARGET_SECRET_MISSING = "TargetSecretMissing"
    TARGET_CONFIG_INVALID = "TargetConfigInvalid"
    TARGET_UNREACHABLE = "TargetUnreachable"
    # The hub's Job ServiceAccount (PERFTEST_JOB_SERVICE_ACCOUNT) is not in the run namespace.
    JOB_SERVICE_ACCOUNT_MISSING = "JobServiceAccountMissing"
    # It is, but RBAC refuses it requests the workload's kube-burner-ocp makes (SubjectAccessReview).
    JOB_PERMISSIONS_MISSING = "JobPermissionsMissing"
    # The target lacks what the workload needs before it creates anything (an image registry
    # with an available replica, an API, worker nodes, OpenShift itself).
    PREREQUISITE_MISSING = "PrerequisiteMissing"
    # A Secret or key named in spec.prometheus, the operator's own token, a token to mint or
    # the thanos-querier Route does not exist (yet).
    PROMETHEUS_UNUSABLE = "PrometheusUnusable"
    # The probe query found no answer: connection refused, timeout, TLS, HTTP 5xx.
    PROMETHEUS_UNREACHABLE = "PrometheusUnreachable"
    # Prometheus answered the probe query with 401 or 403: the token is refused.
    PROMETHEUS_UNAUTHORIZED = "PrometheusUnauthorized"
    # A PerfRun made before its PerfTest turned Ready=False (a retry, a confirmation, one made
    # by hand) waits for it before it starts its Job.
    TEST_NOT_READY = "TestNotReady"
    METRIC_SKIPPED = "MetricSkipped"
    REPLACED = "Replaced"
    RETRYING = "Retrying"
    REGRESSION_NOT_CONFIRMED = "RegressionNotConfirmed"
    AWAITING_CONFIRMATION = "AwaitingConfirmation"
    PRUNED = "Pruned"


def spec_error_reason(exc: SpecError) -> Reason:
    """The condition and Event reason of a spec the operator cannot use."""
    if isinstance(exc, PerfTestNotFound):
        return Reason.TEST_NOT_FOUND
    if isinstance(exc, TargetSecretMissing):
        return Reason.TARGET_SECRET_MISSING
    if isinstance(exc, TargetConfigInvalid):
        return Reason.TARGET_CONFIG_INVALID
    if isinstance(exc, NotAllowed):
        return Reason.NOT_ALLOWED
    return Reason.INVALID_SPEC


# What the check of a PerfTest (controller.perftests) may raise: each makes it Ready=False.
READINESS_FAILURES = (
    SpecError,
    TargetUnreachable,
    PrerequisiteMissing,
    JobServiceAccountMissing,
    JobPermissionsMissing,
    PrometheusUnusable,
    PrometheusUnavailable,
)


# Readiness failures that a fix outside the PerfTest clears, with their reasons; a subclass
# before its base (PrometheusUnauthorized is a PrometheusUnavailable).
_RETRIED_READINESS_FAILURES: tuple[tuple[type[PerfTestError], Reason], ...] = (
    (TargetUnreachable, Reason.TARGET_UNREACHABLE),
    (PrerequisiteMissing, Reason.PREREQUISITE_MISSING),
    (JobServiceAccountMissing, Reason.JOB_SERVICE_ACCOUNT_MISSING),
    (JobPermissionsMissing, Reason.JOB_PERMISSIONS_MISSING),
    (PrometheusUnusable, Reason.PROMETHEUS_UNUSABLE),
    (PrometheusUnauthorized, Reason.PROMETHEUS_UNAUTHORIZED),
    (PrometheusUnavailable, Reason.PROMETHEUS_UNREACHABLE),
)


def not_ready_reason(exc: PerfTestError) -> tuple[Reason, bool]:
    """The Ready=False reason for a failed check of a PerfTest, and whether to check again.

    Again (every PERFTEST_TARGET_RETRY): whatever may be fixed without the PerfTest changing,
    such as a Secret, a ServiceAccount, a network path or a role binding. A spec error waits
    for a new spec. A purely computational function with no side effects.
    """
    if isinstance(exc, SpecError):
        again = TargetSecretMissing | TargetConfigInvalid | WorkloadNotForPlatform
        return spec_error_reason(exc), isinstance(exc, again)
    for kind, reason in _RETRIED_READINESS_FAILURES:
        if isinstance(exc, kind):
            return reason, True
    raise TypeError(f"{type(exc).__name__} is not a readiness failure")


# MetricsCollected=False with one of these reasons fails the run; the others are retried.
PERMANENT_COLLECTION_FAILURES = frozenset(
    {
        Reason.INVALID_QUERY,
        Reason.NO_METRICS,
        Reason.INVALID_SPEC,
        Reason.TEST_NOT_FOUND,
        Reason.TARGET_SECRET_MISSING,
        Reason.TARGET_CONFIG_INVALID,
    }
)


def derive_run_phase(status: Mapping[str, Any]) -> RunPhase:
    """The phase of a PerfRun, derived from its conditions (never stored on its own)."""
    conditions = sequence(status.get("conditions"))
    if is_true(conditions, RunCondition.ANALYZED.value):
        return RunPhase.SUCCEEDED
    job = find_condition(conditions, RunCondition.JOB_COMPLETED.value)
    if job is not None and job.get("status") == FALSE:
        return RunPhase.FAILED
    metrics = find_condition(conditions, RunCondition.METRICS_COLLECTED.value)
    if (
        metrics is not None
        and metrics.get("status") == FALSE
        and metrics.get("reason") in PERMANENT_COLLECTION_FAILURES
    ):
        return RunPhase.FAILED
    if metrics is not None and metrics.get("status") == TRUE:
        return RunPhase.ANALYZING
    if job is not None and job.get("status") == TRUE:
        return RunPhase.COLLECTING
    if status.get("job"):
        return RunPhase.RUNNING
    return RunPhase.PENDING


def derive_test_phase(status: Mapping[str, Any], *, suspended: bool) -> PerfTestPhase:
    """The phase of a PerfTest, derived from its conditions and its last run."""
    conditions = sequence(status.get("conditions"))
    ready = find_condition(conditions, PerfTestCondition.READY.value)
    if ready is not None and ready.get("status") == FALSE:
        return PerfTestPhase.INVALID
    if suspended:
        return PerfTestPhase.SUSPENDED
    if is_true(conditions, PerfTestCondition.RUNNING.value):
        return PerfTestPhase.RUNNING
    if is_true(conditions, PerfTestCondition.REGRESSED.value):
        return PerfTestPhase.REGRESSED
    last_run = mapping(status.get("lastRun"))
    if last_run.get("phase") == RunPhase.FAILED.value:
        return PerfTestPhase.FAILED
    result = dig(status, "verdict", "result")
    if result in ("Pass", "Improvement"):
        return PerfTestPhase.PASSED
    if last_run:
        return PerfTestPhase.BASELINE
    return PerfTestPhase.PENDING


def newest_first(runs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """PerfRuns ordered newest first by run number, then creation time, then name."""

    def key(run: Mapping[str, Any]) -> tuple[int, str, str]:
        number = labels(run).get(RUN_NUMBER_LABEL, "0")
        return (
            int(number) if str(number).isdigit() else 0,
            str(dig(run, "metadata", "creationTimestamp") or ""),
            str(dig(run, "metadata", "name") or ""),
        )

    return sorted(runs, key=key, reverse=True)


# PerfTest status fields that the scheduler writes (controller.triggers).
SCHEDULER_STATUS_KEYS = ("nextRunTime", "lastScheduleTime", "lastSeenVersion")


def build_test_status(
    test: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    *,
    ready: tuple[str, str, str] | None,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The whole status of a PerfTest from its PerfRuns; `ready` = (status, reason, message) if re-checked.

    A purely computational function with no side effects.
    """
    generation = int(dig(test, "metadata", "generation") or 0)
    old = mapping(test.get("status"))
    conditions: list[dict[str, Any]] = [dict(c) for c in sequence(old.get("conditions"))]
    observed = old.get("observedGeneration")
    if ready is not None:
        conditions = set_condition(
            conditions, PerfTestCondition.READY.value, *ready, generation=generation, now=now
        )
        observed = generation

    ordered = [parse_perfrun(run) for run in newest_first(runs)]
    phases = [derive_run_phase(run.status) for run in ordered]
    active = [run for run, phase in zip(ordered, phases, strict=True) if not phase.is_terminal]
    if active:
        running = (
            TRUE,
            Reason.RUN_ACTIVE,
            f"PerfRun {active[0].name} is {derive_run_phase(active[0].status).value}",
        )
    else:
        running = (FALSE, Reason.NO_ACTIVE_RUN, "no PerfRun is active")
    conditions = set_condition(
        conditions, PerfTestCondition.RUNNING.value, *running, generation=generation, now=now
    )

    finished = [run for run, phase in zip(ordered, phases, strict=True) if phase.is_terminal]
    last_run = _last_run_summary(finished[0]) if finished else None
    analysed = [run for run in ordered if is_true(run.conditions, RunCondition.ANALYZED.value)]
    verdict = dict(analysed[0].verdict or {}) if analysed else None
    result = dig(verdict, "result")
    message = dig(verdict, "message")
    regressed: tuple[str, str, str]
    if result == "Regression":
        regressed = (TRUE, Reason.REGRESSION_DETECTED, message or "regression")
    elif result in ("Pass", "Improvement"):
        regressed = (FALSE, str(result), message or "no regression")
    else:
        regressed = (UNKNOWN, str(result or Reason.NO_VERDICT), message or "no verdict yet")
    conditions = set_condition(
        conditions, PerfTestCondition.REGRESSED.value, *regressed, generation=generation, now=now
    )

    status: dict[str, Any] = {
        "observedGeneration": observed,
        "conditions": conditions,
        "lastRun": last_run,
        "verdict": verdict,
        "runs": {
            "total": len(ordered),
            "succeeded": sum(1 for p in phases if p is RunPhase.SUCCEEDED),
            "failed": sum(1 for p in phases if p is RunPhase.FAILED),
        },
    }
    status["platform"] = _platform(test, ordered)
    # Kept by the scheduler, not derived from runs.
    for key in SCHEDULER_STATUS_KEYS:
        if old.get(key) is not None:
            status[key] = old[key]
    suspended = bool(dig(test, "spec", "suspend"))
    status["phase"] = derive_test_phase(status, suspended=suspended).value
    return status


def _platform(test: Mapping[str, Any], newest_first_runs: Sequence[PerfRun]) -> str:
    """The spec's platform when it names one; for Auto, the one detected at the newest run."""
    declared = str(dig(test, "spec", "target", "platform") or "Auto")
    if declared != "Auto":
        return declared
    for run in newest_first_runs:
        detected = run.target.get("platform")
        if detected:
            return str(detected)
    return declared


def _last_run_summary(run: PerfRun) -> dict[str, Any]:
    summary = {
        "name": run.name,
        "phase": derive_run_phase(run.status).value,
        "reason": run.status.get("reason"),
        "startTime": run.status.get("startTime"),
        "completionTime": run.status.get("completionTime"),
        "values": run.status.get("values"),
    }
    return {key: value for key, value in summary.items() if value is not None}
