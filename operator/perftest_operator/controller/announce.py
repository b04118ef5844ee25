"""Every Event text of the controller: type, reason and message of what it tells (pure).

`events.post_event` posts them. A run's Events that its PerfTest also shows go there through
`on_test` (the run's name first). The wording is checked by the e2e tests and by users' alerts:
change it here only on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from perftest_operator.analysis.verdict import MetricChangePoint, describe_change_point
from perftest_operator.api.status import Reason
from perftest_operator.events import NORMAL, WARNING, EventText


def on_test(run_name: str, event: EventText) -> EventText:
    """The copy of a run's Event on its PerfTest: the same, with the run's name first."""
    return replace(event, message=f"{run_name}: {event.message}")


# A PerfRun's life (controller.perfruns and its steps)


def target_unreachable(error: object) -> EventText:
    """The target does not answer: the run keeps its phase (the message is also its status's)."""
    return EventText(WARNING, Reason.TARGET_UNREACHABLE, f"waiting for the target: {error}")


def run_started(
    run_name: str, namespace: str, job_name: str, target_secret: str | None, workload: str | None
) -> EventText:
    """The run's Job was created (or found, after a restart): once per run."""
    where = f"{namespace}/{job_name}" + (f" on target {target_secret}" if target_secret else "")
    message = f"kube-burner Job {where} started ({workload or 'custom config'})"
    return EventText(NORMAL, Reason.RUN_STARTED, message, once=run_name)


def run_failed(run_name: str, message: str, reason: str | None = None) -> EventText:
    """The run failed; `reason` (the status's) goes first when the message does not say it."""
    text = message if reason is None else f"{reason}: {message}"
    return EventText(WARNING, Reason.RUN_FAILED, text, once=run_name)


def job_warning(run_name: str, reason: str, message: str) -> EventText:
    """The Job succeeded with something to say (a measurement over its threshold, ...)."""
    return EventText(WARNING, reason, message, once=run_name)


def collection_retried(reason: str, message: str) -> EventText:
    """The first of a run's collection retries for `reason` (the later ones are not told)."""
    return EventText(
        WARNING, reason, f"{message}; retrying with back-off", once=f"collect/{reason}"
    )


def metrics_skipped(reasons: Sequence[str]) -> EventText:
    """KPIs this platform's Prometheus does not have: left out, not failed."""
    return EventText(NORMAL, Reason.METRIC_SKIPPED, "; ".join(reasons), once="skipped")


def run_succeeded(run_name: str, values: Mapping[str, float], result: str) -> EventText:
    """The run's verdict is written (the same text on the run and on its PerfTest)."""
    shown = ", ".join(f"{metric}={value:.6g}" for metric, value in sorted(values.items()))
    return EventText(
        NORMAL,
        Reason.RUN_SUCCEEDED,
        f"{run_name} succeeded: {shown}; verdict {result}",
        once=run_name,
    )


def change_point(point: MetricChangePoint, what_changed: Sequence[str]) -> EventText:
    """A new change point: a regression (with what changed before it) or an improvement."""
    text = f"{describe_change_point(point)}, confidence {point.confidence:.2f}"
    once = f"{point.metric}/{point.run}"
    if not point.regression:
        return EventText(NORMAL, Reason.IMPROVEMENT, text, once=once)
    text += "; what changed: " + (
        "; ".join(what_changed) if what_changed else "nothing recorded on the target or in the spec"
    )
    return EventText(WARNING, Reason.REGRESSION_DETECTED, text, once=once)


def change_point_withdrawn(metric: str, run: str, reason: str) -> EventText:
    """A change point an earlier verdict reported that the newer history no longer shows."""
    return EventText(
        NORMAL,
        Reason.CHANGE_POINT_WITHDRAWN,
        f"{metric} change at run {run} withdrawn: {reason}",
        once=f"{metric}/{run}",
    )


# Runs that follow a run (controller.followups)


def retrying(failed: str, attempt: int, retries: int, retry: str, first: str) -> EventText:
    """A failed run's Job is run again as `retry` (`first`: the first run of the chain)."""
    return EventText(
        NORMAL,
        Reason.RETRYING,
        f"{failed} failed: retry {attempt} of {retries} is {retry}",
        once=f"{first}/{attempt}",
    )


def regression_confirmed(point: MetricChangePoint, runs: int) -> EventText:
    """A regression that held in its `runs` confirmation runs: the alarm, raised now."""
    text = (
        f"{describe_change_point(point)}, confirmed by {runs} run(s), "
        f"confidence {point.confidence:.2f}"
    )
    return EventText(WARNING, Reason.REGRESSION_DETECTED, text, once=f"{point.metric}/{point.run}")


def regression_not_confirmed(suspect: str, runs: int) -> EventText:
    """A regression that did not hold: its run is an outlier from now on."""
    return EventText(
        NORMAL,
        Reason.REGRESSION_NOT_CONFIRMED,
        f"the change at {suspect} did not hold in {runs} confirmation run(s): "
        f"{suspect} is recorded as an outlier and left out of the history",
        once=suspect,
    )


# A PerfTest's check and its triggers (controller.perftests), stops and pruning


def not_ready(reason: str, message: str) -> EventText:
    """The PerfTest's check failed (Ready=False with this reason)."""
    return EventText(WARNING, reason, message)


def run_skipped_suspended(trigger: str) -> EventText:
    return EventText(NORMAL, Reason.RUN_SKIPPED, f"{trigger}: the PerfTest is suspended")


def run_skipped_active(trigger: str, active: str) -> EventText:
    """concurrencyPolicy Forbid: a run is active already."""
    return EventText(
        NORMAL,
        Reason.RUN_SKIPPED,
        f"{trigger}: not started because PerfRun {active} is still active "
        "(concurrencyPolicy Forbid)",
    )


def run_skipped_unchanged(trigger: str, unchanged: str) -> EventText:
    """skipUnchanged: the run would measure what the last succeeded one measured."""
    return EventText(NORMAL, Reason.RUN_SKIPPED, f"{trigger}: {unchanged}")


def replaced(run_name: str, message: str) -> EventText:
    """An active run stopped for the run that replaces it (concurrencyPolicy Replace)."""
    return EventText(WARNING, Reason.REPLACED, message, once=run_name)


def pruned(names: Sequence[str], keep: int) -> EventText:
    """Old finished runs deleted beyond history.keep."""
    return EventText(
        NORMAL,
        Reason.PRUNED,
        f"{len(names)} old PerfRun(s) removed (history.keep {keep}): " + ", ".join(names),
    )
