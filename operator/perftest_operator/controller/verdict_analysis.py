"""An Analyzing PerfRun's step: read the history back, find change points, write the verdict,
start or settle confirmation runs, raise the Events (I/O orchestration)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.analysis.verdict import Verdict, VerdictResult, verdict_to_status
from perftest_operator.api.conditions import TRUE
from perftest_operator.api.errors import SpecError
from perftest_operator.api.fields import dig, sequence
from perftest_operator.api.perfrun import PerfRun, parse_perfrun
from perftest_operator.api.status import RunCondition
from perftest_operator.controller import announce
from perftest_operator.controller.context import Context
from perftest_operator.controller.followups import (
    NOT_CONFIRMED,
    PENDING,
    new_regressions_at,
    settle_confirmation,
    start_confirmation,
)
from perftest_operator.controller.run_step import (
    TestOfRun,
    condition,
    permanent_collection_failure,
    spec_reason,
)
from perftest_operator.events import post_event
from perftest_operator.history.evaluation import around_change, evaluate, outliers
from perftest_operator.history.withdrawn import reported_change_points, withdrawn_change_points
from perftest_operator.target.metadata import describe_changes

logger = logging.getLogger(__name__)


def analyse(ctx: Context, run: PerfRun, tests: TestOfRun) -> dict[str, Any] | None:
    """Analyzing: read the history back, find change points, write the verdict, raise Events."""
    name = run.name
    try:
        test, spec = tests.load()
    except SpecError as exc:
        return permanent_collection_failure(ctx, run, tests, spec_reason(exc), str(exc))
    runs = [
        parse_perfrun(r)
        for r in ctx.api.list_perfruns(run.namespace, run.test_name)
        if r["metadata"]["name"] != name
    ]
    runs.append(run)
    previous = parse_verdict_of(test)
    with ctx.telemetry.analysis_timer():
        verdict, history = evaluate(runs, spec.metrics, spec.analysis, name, previous)
    change: dict[str, Any] = {}
    # Change points whose alarm waits for (or was raised by) the confirmation runs.
    deferred: set[str] = set()
    suspect = run.confirms
    if suspect:
        deferred.add(suspect)
        settled = settle_confirmation(ctx, test, spec, run, verdict, runs)
        if settled is not None:
            confirmation = settled[1]
            if confirmation["state"] == NOT_CONFIRMED:
                # The outlier leaves the history now, and so does its change point.
                runs = [
                    r.with_status({**r.status, "confirmation": confirmation})
                    if r.name == suspect
                    else r
                    for r in runs
                ]
                verdict, history = evaluate(runs, spec.metrics, spec.analysis, name, previous)
            ctx.api.patch_perfrun_status(run.namespace, suspect, {"confirmation": confirmation})
    elif spec.analysis.confirm_runs > 0 and (suspected := new_regressions_at(verdict, name)):
        deferred.add(name)
        start_confirmation(ctx, test, spec, name, 1, name)
        metrics = sorted({point.metric for point in suspected})
        change["confirmation"] = {"state": PENDING, "runs": [], "metrics": metrics}
    withdrawn = withdrawn_change_points(previous, verdict, history)
    what_changed: dict[str, list[str]] = {}
    for point in verdict.change_points:
        if point.regression:
            around = around_change(runs, history, point.run)
            what_changed[point.run] = [] if around is None else describe_changes(*around)
    _announce_verdict(ctx, test, run, verdict, deferred=deferred, changes=what_changed)
    _announce_withdrawn(ctx, test, previous, withdrawn)
    message = verdict.message
    if deferred & {name}:
        message += f" (awaiting {spec.analysis.confirm_runs} confirmation run(s))"
    verdict_status: dict[str, Any] = {
        **verdict_to_status(verdict),
        "withdrawn": withdrawn,
        "outliers": outliers(runs),
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
        "conditions": condition(run, RunCondition.ANALYZED, TRUE, verdict.result.value, message),
    }


def parse_verdict_of(test: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The PerfTest's verdict (status form) from the last analysis, None before the first."""
    verdict = dig(test, "status", "verdict")
    return verdict if isinstance(verdict, Mapping) else None


def _announce_withdrawn(
    ctx: Context,
    test: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    withdrawn: Sequence[Mapping[str, Any]],
) -> None:
    already = {(dig(p, "metric"), dig(p, "run")) for p in sequence(dig(previous, "withdrawn"))}
    for point in withdrawn:
        if (point["metric"], point["run"]) in already:
            continue
        event = announce.change_point_withdrawn(point["metric"], point["run"], point["reason"])
        post_event(ctx.api, test, event)


def _announce_verdict(
    ctx: Context,
    test: Mapping[str, Any],
    run: PerfRun,
    verdict: Verdict,
    *,
    deferred: set[str],
    changes: Mapping[str, list[str]],
) -> None:
    """RunSucceeded, then one Event per new change point (none for acknowledged or deferred ones)."""
    name = run.name
    succeeded = announce.run_succeeded(name, run.values, verdict.result.value)
    post_event(ctx.api, run.obj, succeeded)
    post_event(ctx.api, test, succeeded)
    # Raise an alarm once per change point, not again on every later run that still shows it.
    known = reported_change_points(parse_verdict_of(test))
    for point in verdict.change_points:
        if (point.metric, point.run) in known or point.run in deferred or point.acknowledged:
            continue
        event = announce.change_point(point, changes.get(point.run, []))
        if point.regression:
            ctx.telemetry.regression_detected(test, point.metric)
            post_event(ctx.api, test, event)
            post_event(ctx.api, run.obj, event)
        else:
            post_event(ctx.api, test, event)
    if verdict.result is VerdictResult.REGRESSION:
        logger.info("PerfRun %s: %s", name, verdict.message)
