"""Change points an earlier verdict reported, and those the newer history no longer shows (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.analysis.verdict import RunPoint, Verdict
from perftest_operator.api.fields import dig, sequence

WITHDRAWN_REASON = (
    "the runs after it returned to the earlier level: it was a flaky run, not a change"
)
# A change point that disappears while a new one of the same metric, the same way, shows up at
# most this many runs from it was moved by the later runs, not withdrawn as a flaky run.
MOVED_WITHIN = 5


def reported_change_points(previous_verdict: Mapping[str, Any] | None) -> set[tuple[str, str]]:
    """(metric, run) of each change point a verdict (status form) shows."""
    return {
        (str(point.get("metric")), str(point.get("run")))
        for point in sequence(dig(previous_verdict, "changePoints"))
    }


def withdrawn_change_points(
    previous_verdict: Mapping[str, Any] | None, verdict: Verdict, history: Sequence[RunPoint]
) -> list[dict[str, Any]]:
    """Change points of the previous verdict (status form) that `verdict` no longer shows.

    A purely computational function with no side effects. Earlier withdrawals are carried on
    while their run is still in the analysed history, unless the change point came back. A change
    point whose run has left the history (lookback) is not withdrawn: it is only out of sight.
    The reason is a flaky run, or the run the change moved to when `verdict` newly shows one of
    the same metric, the same way, at most `MOVED_WITHIN` runs away.
    """
    previous = previous_verdict or {}
    shown = {(point.metric, point.run) for point in verdict.change_points}
    analysed = history[-verdict.evaluated_runs :] if verdict.evaluated_runs else []
    positions = {point.run: position for position, point in enumerate(analysed)}
    reported = reported_change_points(previous)
    withdrawn: dict[tuple[Any, Any], dict[str, Any]] = {}
    candidates = [*sequence(previous.get("withdrawn")), *sequence(previous.get("changePoints"))]
    for point in candidates:
        key = (point.get("metric"), point.get("run"))
        if key in shown or point.get("run") not in positions:
            continue
        reason = point.get("reason")
        if not reason:
            moved = _moved_to(point, verdict, reported, positions)
            reason = WITHDRAWN_REASON if moved is None else f"later runs place it at run {moved}"
        withdrawn[key] = {
            "metric": point.get("metric"),
            "run": point.get("run"),
            "changePercent": point.get("changePercent"),
            "regression": bool(point.get("regression")),
            "reason": reason,
        }
    return list(withdrawn.values())


def _moved_to(
    point: Mapping[str, Any],
    verdict: Verdict,
    reported: set[tuple[str, str]],
    positions: Mapping[str, int],
) -> str | None:
    """The run of the newly shown change point `point` moved to (same metric, same way, at most
    `MOVED_WITHIN` runs away, the nearest), if any."""
    here = positions[str(point.get("run"))]
    moved = [
        (abs(positions[shown.run] - here), shown.run)
        for shown in verdict.change_points
        if shown.metric == point.get("metric")
        and shown.regression == bool(point.get("regression"))
        and (shown.metric, shown.run) not in reported
        and shown.run in positions
        and abs(positions[shown.run] - here) <= MOVED_WITHIN
    ]
    return min(moved)[1] if moved else None
