"""Runs that follow a run: retries of a failed Job, confirmation runs of a new regression (I/O orchestration).

- Retry: a run whose Job failed is retried up to `spec.retries` times; each retry is a new
  PerfRun with `spec.retryOf` naming the first run of the chain.
- Confirmation: with `spec.analysis.confirmRuns: N`, a regression whose first bad run is the
  newest one is not announced yet; N confirmation runs (`spec.confirms`) are started one after
  the other (two benchmarks at once would disturb each other), and after the N-th the alarm is
  raised only if the change point still stands at that run. Otherwise the run is recorded as
  an outlier (`status.confirmation.state: NotConfirmed`), left out of later histories, and a
  `RegressionNotConfirmed` Event says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.analysis.verdict import MetricChangePoint, Verdict
from perftest_operator.api.fields import generation
from perftest_operator.api.perfrun import (
    ConfirmationState,
    PerfRun,
    Trigger,
    parse_perfrun,
    trigger_id,
)
from perftest_operator.api.spec import PerfTestSpec
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.perftests import start_run
from perftest_operator.events import post_event

logger = logging.getLogger(__name__)

PENDING = ConfirmationState.PENDING.value
CONFIRMED = ConfirmationState.CONFIRMED.value
NOT_CONFIRMED = ConfirmationState.NOT_CONFIRMED.value


def retry_failed_run(
    ctx: Context, test: Mapping[str, Any], spec: PerfTestSpec, run: PerfRun
) -> str | None:
    """Start the next retry of a run whose Job failed, if `spec.retries` allows; its name."""
    if spec.retries <= 0:
        return None
    first = run.retry_of or run.name
    runs = [parse_perfrun(r) for r in ctx.api.list_perfruns(run.namespace, run.test_name)]
    attempt = 1 + sum(1 for r in runs if r.retry_of == first)
    if attempt > spec.retries:
        return None
    label = trigger_id(
        Trigger.RETRY, generation=generation(test), run_now=None, retry_of=first, attempt=attempt
    )
    name = start_run(
        ctx,
        test,
        Trigger.RETRY,
        label,
        spec=spec,
        retry_of=first,
        finishing=run.name,
    )
    if name is not None:
        event = announce.retrying(run.name, attempt, spec.retries, name, first)
        post_event(ctx.api, test, event)
    return name


def new_regressions_at(verdict: Verdict, run_name: str) -> list[MetricChangePoint]:
    """Regressions (not acknowledged) whose first bad run is `run_name`."""
    return [
        point
        for point in verdict.change_points
        if point.regression and point.run == run_name and not point.acknowledged
    ]


def start_confirmation(
    ctx: Context,
    test: Mapping[str, Any],
    spec: PerfTestSpec,
    suspect: str,
    attempt: int,
    finishing: str,
) -> str | None:
    """Start confirmation run number `attempt` of the suspect run, after the `finishing` one."""
    label = trigger_id(
        Trigger.CONFIRM,
        generation=generation(test),
        run_now=None,
        confirms=suspect,
        attempt=attempt,
    )
    return start_run(
        ctx, test, Trigger.CONFIRM, label, spec=spec, confirms=suspect, finishing=finishing
    )


def settle_confirmation(
    ctx: Context,
    test: Mapping[str, Any],
    spec: PerfTestSpec,
    run: PerfRun,
    verdict: Verdict,
    runs: Sequence[PerfRun],
) -> tuple[str, dict[str, Any]] | None:
    """After a confirmation run's verdict: start the next one, or decide.

    Returns (suspect run name, its new status.confirmation) once decided or advanced, else None.
    The suspect's `confirmation.metrics` (the KPIs that changed at it) are kept.
    """
    suspect = run.confirms
    if suspect is None:
        return None  # not a confirmation run
    recorded = next((r.confirmation for r in runs if r.name == suspect), None)
    metrics = [] if recorded is None else list(recorded.metrics)
    done = [r.name for r in runs if r.confirms == suspect]
    if run.name not in done:
        done.append(run.name)
    if len(done) < spec.analysis.confirm_runs:
        start_confirmation(ctx, test, spec, suspect, len(done) + 1, run.name)
        return suspect, {"state": PENDING, "runs": done, "metrics": metrics}
    holding = [p for p in verdict.change_points if p.regression and p.run == suspect]
    if holding:
        for point in holding:
            ctx.telemetry.regression_detected(test, point.metric)
            post_event(ctx.api, test, announce.regression_confirmed(point, len(done)))
        return suspect, {"state": CONFIRMED, "runs": done, "metrics": metrics}
    post_event(ctx.api, test, announce.regression_not_confirmed(suspect, len(done)))
    return suspect, {"state": NOT_CONFIRMED, "runs": done, "metrics": metrics}
