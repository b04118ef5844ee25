"""A Collecting PerfRun's step: its KPIs over exactly the run's window, from kube-burner's
summary and one Prometheus range query per distinct query; back-off while Prometheus or the
target does not answer (I/O orchestration)."""

from __future__ import annotations

import datetime
from typing import Any

from perftest_operator.api.conditions import FALSE, TRUE, format_time, parse_time
from perftest_operator.api.durations import format_duration
from perftest_operator.api.errors import (
    MetricMissing,
    PrometheusUnauthorized,
    PrometheusUnavailable,
    PrometheusUnusable,
    QueryError,
    SpecError,
    TargetUnreachable,
)
from perftest_operator.api.perfrun import PerfRun
from perftest_operator.api.status import Reason, RunCondition
from perftest_operator.burnerjob.summary import summary_from_document
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.prometheus import RunTarget, prometheus_client
from perftest_operator.controller.run_step import (
    TestOfRun,
    condition,
    now,
    permanent_collection_failure,
    spec_reason,
)
from perftest_operator.controller.target_access import target_api
from perftest_operator.events import post_event
from perftest_operator.metrics.measurements import measurement_value
from perftest_operator.metrics.window import RunWindow, collect_run_metrics
from perftest_operator.target.metadata import platform_from_summary
from perftest_operator.target.profiles import (
    metric_available,
    no_series_note,
    profile_for,
    run_metrics,
)


def run_target(ctx: Context, run: PerfRun) -> RunTarget:
    """The target a run's Job ran on, as recorded in its status when the Job started."""
    secret_ref = None if run.job is None else run.job.kubeconfig_secret_ref
    detected = platform_from_summary(run.status.get("target"))
    return RunTarget(
        api=target_api(ctx, run.namespace, secret_ref),
        remote=secret_ref is not None,
        profile=None if detected is None else profile_for(detected),
        namespace=run.namespace if run.job is None else run.job.namespace,
    )


def retry_later(ctx: Context, run: PerfRun, reason: str, message: str) -> dict[str, Any]:
    """Collect again after a back-off (doubling up to its maximum); the first retry is told."""
    attempts = run.collect_attempts + 1
    delay = min(
        ctx.settings.collect_backoff_seconds * 2 ** (attempts - 1),
        ctx.settings.collect_backoff_max_seconds,
    )
    if attempts == 1:
        post_event(ctx.api, run.obj, announce.collection_retried(reason, message))
    return {
        "collectAttempts": attempts,
        "nextCollectTime": format_time(now() + datetime.timedelta(seconds=delay)),
        "reason": reason,
        "message": f"{message} (attempt {attempts}, next in {format_duration(delay)})",
        "conditions": condition(run, RunCondition.METRICS_COLLECTED, FALSE, reason, message),
    }


def collect_metrics(ctx: Context, run: PerfRun, tests: TestOfRun) -> dict[str, Any] | None:
    """Collecting: one range query per distinct KPI query over exactly the run's window."""
    if run.next_collect_time and parse_time(run.next_collect_time) > now():
        return None
    try:
        window = RunWindow(
            start=parse_time(run.start_time or ""), end=parse_time(run.completion_time or "")
        )
    except ValueError as exc:
        return permanent_collection_failure(
            ctx, run, tests, Reason.NO_METRICS, f"the Job's run window is unusable: {exc}"
        )
    values: dict[str, float] = {}
    missing: list[str] = []
    measured_missing: list[str] = []  # final: the summary will not change
    skipped: list[dict[str, str]] = []
    try:
        _, spec = tests.load()
        # kube-burner's own measurements come from the run's summary: no query, no retry.
        summary = summary_from_document(run.kube_burner)
        target = run_target(ctx, run)
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
            with prometheus_client(ctx, run.namespace, spec, target) as client:
                read = collect_run_metrics(client, wanted, window, spec.prometheus.step_seconds)
            for name, result in read.items():
                if isinstance(result, MetricMissing):
                    missing.append(name)
                else:
                    values[name] = result.value
    except SpecError as exc:
        return permanent_collection_failure(ctx, run, tests, spec_reason(exc), str(exc))
    except PrometheusUnusable as exc:
        # A Secret or token that went away after the Job started: the benchmark is not lost,
        # the run waits (with back-off) until it is back.
        return retry_later(ctx, run, Reason.PROMETHEUS_UNUSABLE, str(exc))
    except PrometheusUnavailable as exc:
        ctx.telemetry.prometheus_query_failed(run.namespace, run.test_name)
        reason = (
            Reason.PROMETHEUS_UNAUTHORIZED
            if isinstance(exc, PrometheusUnauthorized)
            else Reason.PROMETHEUS_UNAVAILABLE
        )
        return retry_later(ctx, run, reason, str(exc))
    except TargetUnreachable as exc:
        return retry_later(ctx, run, Reason.TARGET_UNREACHABLE, str(exc))
    except QueryError as exc:
        ctx.telemetry.prometheus_query_failed(run.namespace, run.test_name)
        return permanent_collection_failure(ctx, run, tests, Reason.INVALID_QUERY, str(exc))
    if skipped and not run.skipped_metrics:
        post_event(ctx.api, run.obj, announce.metrics_skipped([item["reason"] for item in skipped]))
    attempts = run.collect_attempts + 1
    if missing and attempts < ctx.settings.missing_metric_attempts:
        # Prometheus may not have ingested the end of the window yet: wait before calling it missing.
        return retry_later(
            ctx,
            run,
            Reason.METRIC_MISSING,
            "; ".join(no_series_note(by_name[name], target.profile) for name in missing),
        )
    missing += measured_missing
    if not values:
        absent = [*missing, *(item["metric"] for item in skipped)]
        return permanent_collection_failure(
            ctx,
            run,
            tests,
            Reason.NO_METRICS,
            f"no metric had samples in the run window ({', '.join(absent)})",
        )
    message = f"{len(values)} metric(s) read for {run.start_time} .. {run.completion_time}"
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
        "reason": Reason.COLLECTED,
        "message": message,
        "conditions": condition(
            run, RunCondition.METRICS_COLLECTED, TRUE, Reason.COLLECTED, message
        ),
    }
