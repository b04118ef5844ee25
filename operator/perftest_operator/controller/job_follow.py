"""A Running PerfRun's step: look at its Job; once it has finished, freeze the run's window and
map the exit code; retry a failed Job (I/O orchestration)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perftest_operator.api.conditions import FALSE, TRUE, format_time
from perftest_operator.api.durations import format_duration
from perftest_operator.api.errors import SpecError, TargetUnreachable
from perftest_operator.api.fields import mapping
from perftest_operator.api.perfrun import PerfRun
from perftest_operator.api.status import Reason, RunCondition
from perftest_operator.burnerjob.summary import summary_document
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.followups import retry_failed_run
from perftest_operator.controller.run_step import (
    TestOfRun,
    condition,
    fail_before_job,
    spec_reason,
    tell_run_and_test,
    waiting_for_target,
)
from perftest_operator.controller.target_access import reaching_target, target_api
from perftest_operator.runner.outcome import JobOutcome, JobState, OutcomeReason, read_job_outcome


def follow_job(ctx: Context, run: PerfRun, tests: TestOfRun) -> dict[str, Any] | None:
    """Running: look at the Job; when it has finished, freeze the window and map the exit code."""
    name = run.name
    job_ref = run.job
    if job_ref is None:  # Running: status.job is there (api.status.derive_run_phase)
        raise ValueError(f"PerfRun {run.namespace}/{name} is Running without status.job")
    try:
        api = target_api(ctx, run.namespace, job_ref.kubeconfig_secret_ref)
        with reaching_target():
            job = api.get_job(job_ref.namespace, job_ref.name)
            pods = [] if job is None else api.list_job_pods(job_ref.namespace, job_ref.name)
    except SpecError as exc:
        # The Secret went away or broke mid-run: the Job cannot be followed any more.
        tell_run_and_test(ctx, run, tests, announce.run_failed(name, str(exc), spec_reason(exc)))
        return fail_before_job(run, spec_reason(exc), str(exc))
    except TargetUnreachable as exc:
        return waiting_for_target(ctx, run, exc)
    if job is None:
        message = f"Job {job_ref.namespace}/{job_ref.name} disappeared before it finished"
        tell_run_and_test(ctx, run, tests, announce.run_failed(name, message))
        return fail_before_job(run, Reason.JOB_MISSING, message)
    outcome = read_job_outcome(job, pods)
    if not outcome.finished:
        if run.reason == Reason.TARGET_UNREACHABLE:
            return {"reason": Reason.JOB_RUNNING, "message": "the target answers again"}
        return None
    change: dict[str, Any] = {"reason": outcome.reason, "message": outcome.message}
    change.update(_window_fields(outcome, mapping(run.status.get("job"))))
    if outcome.exit_code is not None:
        change["exitCode"] = outcome.exit_code
    if outcome.summary is not None:
        change["kubeBurner"] = summary_document(outcome.summary)
    if outcome.state is JobState.SUCCEEDED:
        change["conditions"] = condition(
            run, RunCondition.JOB_COMPLETED, TRUE, outcome.reason, outcome.message
        )
        if outcome.reason != OutcomeReason.SUCCEEDED.value:
            # Measured and kept in the history, but said out loud: a measurement over its
            # threshold is a regression signal; a late garbage collection may leave objects.
            warning = announce.job_warning(name, outcome.reason, outcome.message)
            tell_run_and_test(ctx, run, tests, warning)
        return change
    change["conditions"] = condition(
        run, RunCondition.JOB_COMPLETED, FALSE, outcome.reason, outcome.message
    )
    tell_run_and_test(ctx, run, tests, announce.run_failed(name, outcome.message, outcome.reason))
    try:
        test, spec = tests.load()
    except SpecError:
        return change  # no PerfTest to say how often to retry
    retry = retry_failed_run(ctx, test, spec, run)
    if retry is not None:
        change["message"] = f"{outcome.message}; retried as {retry}"
    return change


def _window_fields(outcome: JobOutcome, job_ref: Mapping[str, Any]) -> dict[str, Any]:
    """The run's window (kube-burner's measured phase, else the Job's life) and the Job's times."""
    fields: dict[str, Any] = {}
    job_times = {**job_ref}
    if outcome.start_time is not None:
        job_times["startTime"] = format_time(outcome.start_time)
    if outcome.completion_time is not None:
        job_times["completionTime"] = format_time(outcome.completion_time)
    fields["job"] = job_times
    window = outcome.window
    if window is not None:
        start, end = window
        fields["startTime"] = format_time(start)
        fields["completionTime"] = format_time(end)
        fields["duration"] = format_duration((end - start).total_seconds())
        fields["windowSource"] = outcome.window_source.value
    return fields
