"""Drives one PerfRun through its phases: Job, window, metrics, verdict, Events (I/O orchestration).

Each step persists what it learnt in the PerfRun's status before the next one starts, and every
step is safe to repeat: names are derived from the run, creation tolerates 409, so an operator
restart at any point neither loses a run nor launches a second Job.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from perftest_operator import API_VERSION
from perftest_operator.analysis.verdict import (
    RunPoint,
    Verdict,
    VerdictResult,
    describe_change_point,
    evaluate_history,
    inconclusive,
    verdict_to_status,
)
from perftest_operator.api.conditions import (
    FALSE,
    TRUE,
    UNKNOWN,
    format_time,
    parse_time,
    set_condition,
)
from perftest_operator.api.durations import format_duration
from perftest_operator.api.errors import (
    AnalysisError,
    MetricMissing,
    PerfTestNotFound,
    PrometheusUnauthorized,
    PrometheusUnavailable,
    PrometheusUnusable,
    QueryError,
    SpecError,
    TargetUnreachable,
)
from perftest_operator.api.fingerprint import spec_fingerprint
from perftest_operator.api.spec import PerfTestSpec
from perftest_operator.api.status import (
    TERMINAL_RUN_PHASES,
    Reason,
    RunCondition,
    RunPhase,
    derive_run_phase,
    spec_error_reason,
)
from perftest_operator.burnerjob.summary import summary_document, summary_from_document
from perftest_operator.controller.context import Context
from perftest_operator.controller.followups import (
    NOT_CONFIRMED,
    PENDING,
    new_regressions_at,
    retry_failed_run,
    settle_confirmation,
    start_confirmation,
)
from perftest_operator.controller.perftests import (
    not_ready,
    parse_test_spec,
    read_custom_config,
    sync_test_status,
)
from perftest_operator.controller.prometheus import RunTarget, prometheus_client
from perftest_operator.controller.pruning import prune_history
from perftest_operator.controller.stop import job_secret_ref
from perftest_operator.controller.target_access import (
    job_service_account,
    prepare_target,
    reaching_target,
    read_target,
    target_api,
)
from perftest_operator.events import NORMAL, WARNING, post_event
from perftest_operator.history.collected_runs import history_points
from perftest_operator.history.withdrawn import reported_change_points, withdrawn_change_points
from perftest_operator.kube.api import Conflict, KubeApi
from perftest_operator.metrics.measurements import measurement_value
from perftest_operator.metrics.window import RunWindow, collect_run_metrics
from perftest_operator.runner.manifests import (
    RUNNER_UID,
    OwnerRef,
    RunRef,
    build_config_map,
    build_job,
)
from perftest_operator.runner.outcome import JobOutcome, JobState, OutcomeReason, read_job_outcome
from perftest_operator.target.metadata import describe_changes, platform_from_summary
from perftest_operator.target.prerequisites import schedulable_nodes
from perftest_operator.target.profiles import (
    metric_available,
    no_series_note,
    profile_for,
    run_metrics,
)

logger = logging.getLogger(__name__)

Step = Callable[[Context, Mapping[str, Any], dict[str, Any]], dict[str, Any] | None]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _generation(run: Mapping[str, Any]) -> int:
    return int(run["metadata"].get("generation") or 1)


def _condition(
    run: Mapping[str, Any],
    status: Mapping[str, Any],
    type_: RunCondition,
    value: str,
    reason: str,
    message: str,
) -> list[dict[str, Any]]:
    return set_condition(
        status.get("conditions"),
        type_.value,
        value,
        reason,
        message,
        generation=_generation(run),
        now=_now(),
    )


def _fail_before_job(
    run: Mapping[str, Any], status: Mapping[str, Any], reason: str, message: str
) -> dict[str, Any]:
    return {
        "reason": reason,
        "message": message,
        "conditions": _condition(run, status, RunCondition.JOB_COMPLETED, FALSE, reason, message),
    }


def _load_test(
    ctx: Context, run: Mapping[str, Any], *, starting: bool = False
) -> tuple[dict[str, Any], PerfTestSpec]:
    """The run's PerfTest and its typed spec; SpecError when unusable."""
    test = ctx.api.get_perftest(run["metadata"]["namespace"], run["spec"]["testName"])
    if test is None:
        raise PerfTestNotFound(run["spec"]["testName"])
    return test, parse_test_spec(ctx, test, starting=starting)


def _reason(exc: SpecError) -> str:
    return spec_error_reason(exc).value


def _job_namespace(spec: PerfTestSpec, run: Mapping[str, Any]) -> str:
    return spec.target.namespace or str(run["metadata"]["namespace"])


def _waiting_for_target(
    ctx: Context, run: Mapping[str, Any], status: Mapping[str, Any], exc: TargetUnreachable
) -> dict[str, Any]:
    """Keep the phase and say why: a target that does not answer may be back on the next tick."""
    message = f"waiting for the target: {exc}"
    if status.get("reason") != Reason.TARGET_UNREACHABLE.value:
        post_event(ctx.api, run, WARNING, Reason.TARGET_UNREACHABLE.value, message)
    return {"reason": Reason.TARGET_UNREACHABLE.value, "message": message}


def _run_target(ctx: Context, run: Mapping[str, Any], status: Mapping[str, Any]) -> RunTarget:
    """The target a run's Job ran on, as recorded in its status when the Job started."""
    job_ref = status.get("job") or {}
    secret_ref = job_secret_ref(job_ref)
    detected = platform_from_summary(status.get("target"))
    return RunTarget(
        api=target_api(ctx, run["metadata"]["namespace"], secret_ref),
        remote=secret_ref is not None,
        profile=None if detected is None else profile_for(detected),
        namespace=str(job_ref.get("namespace") or run["metadata"]["namespace"]),
    )


def _owned_by_job(api: KubeApi, config_map: Mapping[str, Any], job: Mapping[str, Any]) -> None:
    """On a remote target the ConfigMap goes with its Job (and the Job's TTL): no PerfRun there."""
    meta = job["metadata"]
    stored = api.get_job(meta["namespace"], meta["name"])
    uid = ((stored or {}).get("metadata") or {}).get("uid")
    if uid:
        owner = OwnerRef(api_version="batch/v1", kind="Job", name=meta["name"], uid=uid)
        api.set_owner(config_map["metadata"]["namespace"], config_map["metadata"]["name"], owner)


def _waiting_for_ready(test: Mapping[str, Any]) -> dict[str, Any] | None:
    """Why a Pending run waits: its PerfTest is Ready=False (its Warning says why), so a retry,
    a confirmation or a PerfRun made by hand starts no Job that could not be measured. None:
    it is not, the Job may start."""
    condition = not_ready(test)
    if condition is None:
        return None
    message = (
        f"waiting for PerfTest {test['metadata']['name']} to be Ready: "
        f"{condition.get('reason')}: {condition.get('message')}"
    )
    return {"reason": Reason.TEST_NOT_READY.value, "message": message}


def start_job(
    ctx: Context, run: Mapping[str, Any], status: dict[str, Any]
) -> dict[str, Any] | None:
    """Pending: read the target, render the kube-burner config and create the Job there (once)."""
    meta = run["metadata"]
    test_name = run["spec"]["testName"]
    try:
        test, spec = _load_test(ctx, run, starting=True)
        # The only read of a custom workload's files: the run's ConfigMap keeps its own copy.
        custom_files = read_custom_config(ctx, meta["namespace"], spec)
        secret_ref = spec.target.kubeconfig_secret_ref
        api = target_api(ctx, meta["namespace"], secret_ref)
        facts = read_target(api, spec)
    except SpecError as exc:
        _announce_failure(ctx, run, f"{_reason(exc)}: {exc}")
        return _fail_before_job(run, status, _reason(exc), str(exc))
    except TargetUnreachable as exc:
        return _waiting_for_target(ctx, run, status, exc)
    waiting = _waiting_for_ready(test)
    if waiting is not None:
        unchanged = all(status.get(key) == value for key, value in waiting.items())
        return None if unchanged else waiting

    remote = secret_ref is not None
    profile = profile_for(facts.platform)
    namespace = _job_namespace(spec, run)
    ref = RunRef(
        test=test_name, run=meta["name"], uid=meta.get("uid", ""), namespace=meta["namespace"]
    )
    # A namespaced owner must live in the dependent's namespace (and cluster), or the garbage
    # collector deletes the dependent.
    owner = (
        OwnerRef(api_version=API_VERSION, kind="PerfRun", name=meta["name"], uid=meta["uid"])
        if not remote and namespace == meta["namespace"] and meta.get("uid")
        else None
    )
    image = spec.workload.image or ctx.settings.runner_image
    try:
        config_map = build_config_map(
            spec, ref, image=image, custom_files=custom_files, owner=owner
        )
        job = build_job(
            spec,
            ref,
            image=image,
            owner=owner,
            service_account=job_service_account(ctx, remote=remote),
            placement=profile.scheduling.pod_spec_fields(),
            run_as_user=None if profile.openshift else RUNNER_UID,
            schedulable_nodes=schedulable_nodes(facts.nodes),
        )
    except SpecError as exc:
        _announce_failure(ctx, run, f"{Reason.INVALID_SPEC.value}: {exc}")
        return _fail_before_job(run, status, Reason.INVALID_SPEC.value, str(exc))
    try:
        with reaching_target():
            prepare_target(
                api,
                namespace,
                spec,
                remote=remote,
                openshift=profile.openshift,
                run_namespace=meta["namespace"],
            )
            api.create_config_map(config_map)
            created = api.create_job(job)
            if remote:
                _owned_by_job(api, config_map, job)
    except TargetUnreachable as exc:
        return _waiting_for_target(ctx, run, status, exc)
    job_name = job["metadata"]["name"]
    where = f"{namespace}/{job_name}" + (f" on target {secret_ref.name}" if secret_ref else "")
    message = f"kube-burner Job {where} started ({spec.workload.name or 'custom config'})"
    if created:
        ctx.telemetry.run_started(meta["namespace"], test_name)
    # Also when the Job was there already: the step may be repeated after a restart that came
    # between creating the Job and posting; `once` keeps it to one Event.
    post_event(ctx.api, run, NORMAL, Reason.RUN_STARTED.value, message, once=meta["name"])
    post_event(
        ctx.api,
        test,
        NORMAL,
        Reason.RUN_STARTED.value,
        f"{meta['name']}: {message}",
        once=meta["name"],
    )
    job_status: dict[str, Any] = {"name": job_name, "namespace": namespace}
    if secret_ref is not None:
        job_status["kubeconfigSecretRef"] = {"name": secret_ref.name, "key": secret_ref.key}
    return {
        "testGeneration": int(test["metadata"].get("generation") or 1),
        "job": job_status,
        "configMap": config_map["metadata"]["name"],
        "target": facts.describe(),
        "specFingerprint": spec_fingerprint(test.get("spec") or {}),
        "reason": Reason.JOB_RUNNING.value,
        "message": message,
        "conditions": _condition(
            run, status, RunCondition.JOB_COMPLETED, UNKNOWN, Reason.JOB_RUNNING.value, message
        ),
    }


def follow_job(
    ctx: Context, run: Mapping[str, Any], status: dict[str, Any]
) -> dict[str, Any] | None:
    """Running: look at the Job; when it has finished, freeze the window and map the exit code."""
    job_ref = status["job"]
    try:
        api = target_api(ctx, run["metadata"]["namespace"], job_secret_ref(job_ref))
        with reaching_target():
            job = api.get_job(job_ref["namespace"], job_ref["name"])
            pods = [] if job is None else api.list_job_pods(job_ref["namespace"], job_ref["name"])
    except SpecError as exc:
        # The Secret went away or broke mid-run: the Job cannot be followed any more.
        _announce_failure(ctx, run, f"{_reason(exc)}: {exc}")
        return _fail_before_job(run, status, _reason(exc), str(exc))
    except TargetUnreachable as exc:
        return _waiting_for_target(ctx, run, status, exc)
    if job is None:
        message = f"Job {job_ref['namespace']}/{job_ref['name']} disappeared before it finished"
        _announce_failure(ctx, run, message)
        return _fail_before_job(run, status, Reason.JOB_MISSING.value, message)
    outcome = read_job_outcome(job, pods)
    if not outcome.finished:
        if status.get("reason") == Reason.TARGET_UNREACHABLE.value:
            return {"reason": Reason.JOB_RUNNING.value, "message": "the target answers again"}
        return None
    change: dict[str, Any] = {"reason": outcome.reason, "message": outcome.message}
    change.update(_window_fields(outcome, job_ref))
    if outcome.exit_code is not None:
        change["exitCode"] = outcome.exit_code
    if outcome.summary is not None:
        change["kubeBurner"] = summary_document(outcome.summary)
    if outcome.state is JobState.SUCCEEDED:
        change["conditions"] = _condition(
            run, status, RunCondition.JOB_COMPLETED, TRUE, outcome.reason, outcome.message
        )
        if outcome.reason != OutcomeReason.SUCCEEDED.value:
            # Measured and kept in the history, but said out loud: a measurement over its
            # threshold is a regression signal; a late garbage collection may leave objects.
            _announce_warning(ctx, run, outcome.reason, outcome.message)
        return change
    change["conditions"] = _condition(
        run, status, RunCondition.JOB_COMPLETED, FALSE, outcome.reason, outcome.message
    )
    _announce_failure(ctx, run, f"{outcome.reason}: {outcome.message}")
    try:
        test, spec = _load_test(ctx, run)
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


def _announce_warning(ctx: Context, run: Mapping[str, Any], reason: str, message: str) -> None:
    name = run["metadata"]["name"]
    post_event(ctx.api, run, WARNING, reason, message, once=name)
    test = ctx.api.get_perftest(run["metadata"]["namespace"], run["spec"]["testName"])
    if test is not None:
        post_event(ctx.api, test, WARNING, reason, f"{name}: {message}", once=name)


def _announce_failure(ctx: Context, run: Mapping[str, Any], message: str) -> None:
    post_event(
        ctx.api, run, WARNING, Reason.RUN_FAILED.value, message, once=run["metadata"]["name"]
    )
    test = ctx.api.get_perftest(run["metadata"]["namespace"], run["spec"]["testName"])
    if test is not None:
        post_event(
            ctx.api,
            test,
            WARNING,
            Reason.RUN_FAILED.value,
            f"{run['metadata']['name']}: {message}",
            once=run["metadata"]["name"],
        )


def _retry_later(
    ctx: Context, run: Mapping[str, Any], status: Mapping[str, Any], reason: str, message: str
) -> dict[str, Any]:
    attempts = int(status.get("collectAttempts") or 0) + 1
    delay = min(
        ctx.settings.collect_backoff_seconds * 2 ** (attempts - 1),
        ctx.settings.collect_backoff_max_seconds,
    )
    if attempts == 1:
        post_event(
            ctx.api,
            run,
            WARNING,
            reason,
            f"{message}; retrying with back-off",
            once=f"collect/{reason}",
        )
    return {
        "collectAttempts": attempts,
        "nextCollectTime": format_time(_now() + datetime.timedelta(seconds=delay)),
        "reason": reason,
        "message": f"{message} (attempt {attempts}, next in {format_duration(delay)})",
        "conditions": _condition(
            run, status, RunCondition.METRICS_COLLECTED, FALSE, reason, message
        ),
    }


def collect_metrics(
    ctx: Context, run: Mapping[str, Any], status: dict[str, Any]
) -> dict[str, Any] | None:
    """Collecting: one range query per distinct KPI query over exactly the run's window."""
    next_time = status.get("nextCollectTime")
    if next_time and parse_time(next_time) > _now():
        return None
    meta = run["metadata"]
    try:
        window = RunWindow(
            start=parse_time(status.get("startTime") or ""),
            end=parse_time(status.get("completionTime") or ""),
        )
    except ValueError as exc:
        return _permanent_collection_failure(
            ctx, run, status, Reason.NO_METRICS.value, f"the Job's run window is unusable: {exc}"
        )
    values: dict[str, float] = {}
    missing: list[str] = []
    measured_missing: list[str] = []  # final: the summary will not change
    skipped: list[dict[str, str]] = []
    try:
        _, spec = _load_test(ctx, run)
        # kube-burner's own measurements come from the run's summary: no query, no retry.
        summary = summary_from_document(status.get("kubeBurner"))
        target = _run_target(ctx, run, status)
        metrics = run_metrics(spec, target.profile)
        for metric in metrics:
            if metric.kube_burner is not None:
                try:
                    values[metric.name] = measurement_value(metric, summary)
                except MetricMissing:
                    measured_missing.append(metric.name)
        queried = [metric for metric in metrics if metric.kube_burner is None]
        by_name = {metric.name: metric for metric in queried}
        wanted = []
        for metric in queried:
            available = (
                metric_available(target.profile, metric) if target.profile is not None else None
            )
            if available is not None and not available.available:
                # Not in this platform's Prometheus at all (a hosted control plane):
                # a note, not a failure, and never a zero in the history.
                skipped.append({"metric": metric.name, "reason": available.reason})
            else:
                wanted.append(metric)
        if wanted:
            with prometheus_client(ctx, meta["namespace"], spec, target) as client:
                read = collect_run_metrics(client, wanted, window, spec.prometheus.step_seconds)
            for name, result in read.items():
                if isinstance(result, MetricMissing):
                    missing.append(name)
                else:
                    values[name] = result.value
    except SpecError as exc:
        return _permanent_collection_failure(ctx, run, status, _reason(exc), str(exc))
    except PrometheusUnusable as exc:
        # A Secret or token that went away after the Job started: the benchmark is not lost,
        # the run waits (with back-off) until it is back.
        return _retry_later(ctx, run, status, Reason.PROMETHEUS_UNUSABLE.value, str(exc))
    except PrometheusUnavailable as exc:
        ctx.telemetry.prometheus_query_failed(meta["namespace"], run["spec"]["testName"])
        reason = (
            Reason.PROMETHEUS_UNAUTHORIZED
            if isinstance(exc, PrometheusUnauthorized)
            else Reason.PROMETHEUS_UNAVAILABLE
        )
        return _retry_later(ctx, run, status, reason.value, str(exc))
    except TargetUnreachable as exc:
        return _retry_later(ctx, run, status, Reason.TARGET_UNREACHABLE.value, str(exc))
    except QueryError as exc:
        ctx.telemetry.prometheus_query_failed(meta["namespace"], run["spec"]["testName"])
        return _permanent_collection_failure(ctx, run, status, Reason.INVALID_QUERY.value, str(exc))
    if skipped and not status.get("skippedMetrics"):
        post_event(
            ctx.api,
            run,
            NORMAL,
            Reason.METRIC_SKIPPED.value,
            "; ".join(item["reason"] for item in skipped),
            once="skipped",
        )
    attempts = int(status.get("collectAttempts") or 0) + 1
    if missing and attempts < ctx.settings.missing_metric_attempts:
        # Prometheus may not have ingested the end of the window yet: wait before calling it missing.
        return _retry_later(
            ctx,
            run,
            status,
            Reason.METRIC_MISSING.value,
            "; ".join(no_series_note(by_name[name], target.profile) for name in missing),
        )
    missing += measured_missing
    if not values:
        absent = [*missing, *(item["metric"] for item in skipped)]
        return _permanent_collection_failure(
            ctx,
            run,
            status,
            Reason.NO_METRICS.value,
            f"no metric had samples in the run window ({', '.join(absent)})",
        )
    message = (
        f"{len(values)} metric(s) read for {status['startTime']} .. {status['completionTime']}"
    )
    if missing:
        message += f"; missing: {', '.join(missing)}"
        queried_missing = [by_name[name] for name in missing if name in by_name]
        if queried_missing:
            message += (
                " (" + "; ".join(no_series_note(m, target.profile) for m in queried_missing) + ")"
            )
    if skipped:
        message += (
            f"; skipped: {', '.join(item['metric'] for item in skipped)} (see skippedMetrics)"
        )
    return {
        "values": values,
        "missingMetrics": missing,
        "skippedMetrics": skipped,
        "collectAttempts": attempts,
        "nextCollectTime": None,
        "reason": Reason.COLLECTED.value,
        "message": message,
        "conditions": _condition(
            run, status, RunCondition.METRICS_COLLECTED, TRUE, Reason.COLLECTED.value, message
        ),
    }


def _permanent_collection_failure(
    ctx: Context, run: Mapping[str, Any], status: Mapping[str, Any], reason: str, message: str
) -> dict[str, Any]:
    _announce_failure(ctx, run, f"{reason}: {message}")
    return {
        "reason": reason,
        "message": message,
        "nextCollectTime": None,
        "conditions": _condition(
            run, status, RunCondition.METRICS_COLLECTED, FALSE, reason, message
        ),
    }


def _is_outlier(run: Mapping[str, Any]) -> bool:
    """A run whose regression did not hold in its confirmation runs: out of every history."""
    confirmation = (run.get("status") or {}).get("confirmation") or {}
    return confirmation.get("state") == NOT_CONFIRMED


def _evaluate(
    runs: Sequence[Mapping[str, Any]],
    spec: PerfTestSpec,
    newest: str,
    previous: Mapping[str, Any] | None,
) -> tuple[Verdict, list[RunPoint]]:
    """The verdict on `runs`; change points stay where the `previous` verdict placed them."""
    history = history_points([r for r in runs if not _is_outlier(r)])
    reported = reported_change_points(previous)
    try:
        return evaluate_history(history, spec.metrics, spec.analysis, reported), history
    except AnalysisError as exc:
        return inconclusive(newest, str(exc), evaluated_runs=len(history)), history


def _outliers(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "metric": metric,
            "run": str(r["metadata"]["name"]),
            "reason": "not confirmed by "
            f"{len((r['status'].get('confirmation') or {}).get('runs') or [])} run(s)",
        }
        for r in runs
        if _is_outlier(r)
        for metric in (r["status"].get("confirmation") or {}).get("metrics") or ["*"]
    ]


def _what_changed(
    runs: Sequence[Mapping[str, Any]], history: Sequence[RunPoint], first_bad: str
) -> list[str]:
    """What differs between the last good run and `first_bad` (target metadata and spec)."""
    order = [point.run for point in history]
    if first_bad not in order or order.index(first_bad) == 0:
        return []
    last_good = order[order.index(first_bad) - 1]
    by_name = {str(r["metadata"]["name"]): r.get("status") or {} for r in runs}
    return describe_changes(by_name.get(last_good) or {}, by_name.get(first_bad) or {})


def analyse(ctx: Context, run: Mapping[str, Any], status: dict[str, Any]) -> dict[str, Any] | None:
    """Analyzing: read the history back, find change points, write the verdict, raise Events."""
    meta = run["metadata"]
    name = str(meta["name"])
    try:
        test, spec = _load_test(ctx, run)
    except SpecError as exc:
        return _permanent_collection_failure(ctx, run, status, _reason(exc), str(exc))
    runs = [
        r
        for r in ctx.api.list_perfruns(meta["namespace"], run["spec"]["testName"])
        if r["metadata"]["name"] != name
    ]
    runs.append({**run, "status": status})
    previous = (test.get("status") or {}).get("verdict")
    with ctx.telemetry.analysis_timer():
        verdict, history = _evaluate(runs, spec, name, previous)
    change: dict[str, Any] = {}
    # Change points whose alarm waits for (or was raised by) the confirmation runs.
    deferred: set[str] = set()
    suspect = run["spec"].get("confirms")
    if suspect:
        deferred.add(str(suspect))
        settled = settle_confirmation(ctx, test, spec, run, verdict, runs)
        if settled is not None:
            confirmation = settled[1]
            if confirmation["state"] == NOT_CONFIRMED:
                # The outlier leaves the history now, and so does its change point.
                for r in runs:
                    if r["metadata"]["name"] == suspect:
                        r["status"] = {**(r.get("status") or {}), "confirmation": confirmation}
                verdict, history = _evaluate(runs, spec, name, previous)
            ctx.api.patch_perfrun_status(
                meta["namespace"], str(suspect), {"confirmation": confirmation}
            )
    elif spec.analysis.confirm_runs > 0 and (suspected := new_regressions_at(verdict, name)):
        deferred.add(name)
        start_confirmation(ctx, test, spec, name, 1, name)
        metrics = sorted({point.metric for point in suspected})
        change["confirmation"] = {"state": PENDING, "runs": [], "metrics": metrics}
    withdrawn = withdrawn_change_points(previous, verdict, history)
    what_changed = {
        point.run: _what_changed(runs, history, point.run)
        for point in verdict.change_points
        if point.regression
    }
    _announce_verdict(ctx, test, run, status, verdict, deferred=deferred, changes=what_changed)
    _announce_withdrawn(ctx, test, previous, withdrawn)
    message = verdict.message
    if deferred & {name}:
        message += f" (awaiting {spec.analysis.confirm_runs} confirmation run(s))"
    verdict_status: dict[str, Any] = {
        **verdict_to_status(verdict),
        "withdrawn": withdrawn,
        "outliers": _outliers(runs),
    }
    newest_regression = [p.run for p in verdict.change_points if p.regression]
    if newest_regression:
        verdict_status["whatChanged"] = what_changed[newest_regression[-1]]
        if newest_regression[-1] == name:
            change["whatChanged"] = what_changed[name]
    return {
        **change,
        "verdict": verdict_status,
        "reason": verdict.result.value,
        "message": message,
        "conditions": _condition(
            run, status, RunCondition.ANALYZED, TRUE, verdict.result.value, message
        ),
    }


def _announce_withdrawn(
    ctx: Context,
    test: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    withdrawn: Sequence[Mapping[str, Any]],
) -> None:
    already = {(p.get("metric"), p.get("run")) for p in (previous or {}).get("withdrawn") or []}
    for point in withdrawn:
        if (point["metric"], point["run"]) in already:
            continue
        post_event(
            ctx.api,
            test,
            NORMAL,
            Reason.CHANGE_POINT_WITHDRAWN.value,
            f"{point['metric']} change at run {point['run']} withdrawn: {point['reason']}",
            once=f"{point['metric']}/{point['run']}",
        )


def _announce_verdict(
    ctx: Context,
    test: Mapping[str, Any],
    run: Mapping[str, Any],
    status: Mapping[str, Any],
    verdict: Verdict,
    *,
    deferred: set[str],
    changes: Mapping[str, list[str]],
) -> None:
    """RunSucceeded, then one Event per new change point (none for acknowledged or deferred ones)."""
    name = run["metadata"]["name"]
    values = ", ".join(
        f"{metric}={value:.6g}" for metric, value in sorted((status.get("values") or {}).items())
    )
    post_event(
        ctx.api,
        run,
        NORMAL,
        Reason.RUN_SUCCEEDED.value,
        f"{name} succeeded: {values}; verdict {verdict.result.value}",
        once=name,
    )
    post_event(
        ctx.api,
        test,
        NORMAL,
        Reason.RUN_SUCCEEDED.value,
        f"{name} succeeded: {values}; verdict {verdict.result.value}",
        once=name,
    )
    # Raise an alarm once per change point, not again on every later run that still shows it.
    known = reported_change_points((test.get("status") or {}).get("verdict"))
    for point in verdict.change_points:
        if (point.metric, point.run) in known or point.run in deferred or point.acknowledged:
            continue
        text = f"{describe_change_point(point)}, confidence {point.confidence:.2f}"
        key = f"{point.metric}/{point.run}"
        if point.regression:
            lines = changes.get(point.run) or []
            text += "; what changed: " + (
                "; ".join(lines) if lines else "nothing recorded on the target or in the spec"
            )
            ctx.telemetry.regression_detected(test, point.metric)
            post_event(ctx.api, test, WARNING, Reason.REGRESSION_DETECTED.value, text, once=key)
            post_event(ctx.api, run, WARNING, Reason.REGRESSION_DETECTED.value, text, once=key)
        else:
            post_event(ctx.api, test, NORMAL, Reason.IMPROVEMENT.value, text, once=key)
    if verdict.result is VerdictResult.REGRESSION:
        logger.info("PerfRun %s: %s", name, verdict.message)


STEPS: dict[RunPhase, Step] = {
    RunPhase.PENDING: start_job,
    RunPhase.RUNNING: follow_job,
    RunPhase.COLLECTING: collect_metrics,
    RunPhase.ANALYZING: analyse,
}


# Attempts at a step's write (and re-runs of a step) when the run changed meanwhile; then the
# next tick looks again.
CONFLICT_ATTEMPTS = 3


def advance_run(ctx: Context, namespace: str, name: str) -> RunPhase | None:
    """Take a PerfRun as far as it can go now; returns its phase (None if it is gone).

    When another thread of this process is advancing the run already, returns None at once
    (that thread then advances it once more).
    """
    return ctx.run_locks.run_exclusively(
        namespace, name, lambda: _advance_run(ctx.for_step(), namespace, name)
    )


def _advance_run(ctx: Context, namespace: str, name: str) -> RunPhase | None:
    run = ctx.api.get_perfrun(namespace, name)
    if run is None:
        return None
    stored: dict[str, Any] = dict(run.get("status") or {})  # as the API server holds it
    status = dict(stored)
    phase = derive_run_phase(status)
    moved = False
    reruns = 0
    version = run["metadata"].get("resourceVersion")
    while phase in STEPS:
        change = STEPS[phase](ctx, run, status)
        if change is None:
            break
        status.update(change)
        status["phase"] = derive_run_phase(status).value
        patch = {**change, "phase": status["phase"]}
        written, fresh = write_step(ctx, namespace, name, patch, version, stored)
        if written is None:
            reruns += 1
            if fresh is None or reruns >= CONFLICT_ATTEMPTS:
                break
            # Another writer (a Replace, a second replica) moved the run: start from its status.
            logger.info("PerfRun %s/%s changed during a step; looking again", namespace, name)
            run, stored = fresh, dict(fresh.get("status") or {})
            status, phase = dict(stored), derive_run_phase(stored)
            version = run["metadata"].get("resourceVersion")
            continue
        stored = dict(written.get("status") or {})
        version = written.get("metadata", {}).get("resourceVersion")
        moved = True
        new_phase = derive_run_phase(status)
        if new_phase == phase:
            break  # waiting (a retry is scheduled)
        phase = new_phase
    if moved and phase.value in TERMINAL_RUN_PHASES:
        ctx.telemetry.run_finished(namespace, run["spec"]["testName"], phase, status)
        _prune(ctx, run)
    if moved:
        sync_test_status(ctx, namespace, run["spec"]["testName"])
    return phase


def write_step(
    ctx: Context,
    namespace: str,
    name: str,
    patch: Mapping[str, Any],
    version: str | None,
    stored: Mapping[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Write a step's result over the status it was computed from: (the run written, None),
    or (None, the run as another writer left it), or (None, None) when it is gone.

    Only over that status: a Replace or a second replica that wrote in between wins. A write
    refused only because the metadata changed (kopf's annotations or finalizer on a new run)
    is sent again: the step's result stands, and is not computed twice (no second query).
    """
    for _ in range(CONFLICT_ATTEMPTS):
        try:
            written = ctx.api.patch_perfrun_status(namespace, name, patch, resource_version=version)
            return written, None
        except Conflict:
            fresh = ctx.api.get_perfrun(namespace, name)
            if fresh is None:
                return None, None
            if (fresh.get("status") or {}) != stored:
                return None, fresh
            version = fresh["metadata"].get("resourceVersion")
    return None, None


def _prune(ctx: Context, run: Mapping[str, Any]) -> None:
    try:
        test, spec = _load_test(ctx, run)
    except SpecError:
        return
    prune_history(ctx, test, spec)
