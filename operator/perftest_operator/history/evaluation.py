"""A test's verdict from its PerfRuns: outliers left out, change points kept where an earlier
verdict placed them; the runs either side of a change point (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.analysis.verdict import (
    RunPoint,
    Verdict,
    evaluate_history,
    inconclusive,
)
from perftest_operator.api.errors import AnalysisError
from perftest_operator.api.kpi import MetricSpec
from perftest_operator.api.perfrun import ConfirmationState, PerfRun
from perftest_operator.api.spec import AnalysisSettings
from perftest_operator.history.collected_runs import history_points
from perftest_operator.history.withdrawn import reported_change_points


def is_outlier(run: PerfRun) -> bool:
    """A run whose regression did not hold in its confirmation runs: out of every history."""
    confirmation = run.confirmation
    return confirmation is not None and confirmation.state == ConfirmationState.NOT_CONFIRMED


def evaluate(
    runs: Sequence[PerfRun],
    metrics: Sequence[MetricSpec],
    analysis: AnalysisSettings,
    newest: str,
    previous: Mapping[str, Any] | None,
) -> tuple[Verdict, list[RunPoint]]:
    """The verdict on `runs` (newest: `newest`) and the history it was found in; change points
    stay where the `previous` verdict (status form) placed them. Inconclusive when the analysis
    cannot decide."""
    history = history_points([r for r in runs if not is_outlier(r)])
    reported = reported_change_points(previous)
    try:
        return evaluate_history(history, metrics, analysis, reported), history
    except AnalysisError as exc:
        return inconclusive(newest, str(exc), evaluated_runs=len(history)), history


def outliers(runs: Sequence[PerfRun]) -> list[dict[str, str]]:
    """status.verdict.outliers: each metric of each outlier run ("*": all of them)."""
    return [
        {
            "metric": metric,
            "run": r.name,
            "reason": f"not confirmed by {len(r.confirmation.runs)} run(s)",
        }
        for r in runs
        if r.confirmation is not None and is_outlier(r)
        for metric in r.confirmation.metrics or ("*",)
    ]


def around_change(
    runs: Sequence[PerfRun], history: Sequence[RunPoint], first_bad: str
) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """The statuses of the last good run and of `first_bad`, to tell what changed between them
    (target.metadata.describe_changes); None when `first_bad` has no run before it."""
    order = [point.run for point in history]
    if first_bad not in order or order.index(first_bad) == 0:
        return None
    last_good = order[order.index(first_bad) - 1]
    by_name = {r.name: r.status for r in runs}
    return by_name.get(last_good, {}), by_name.get(first_bad, {})
