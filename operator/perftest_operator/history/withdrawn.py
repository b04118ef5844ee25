"""Change points an earlier verdict reported that the newer history no longer shows (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.analysis.verdict import RunPoint, Verdict

WITHDRAWN_REASON = (
    "the runs after it returned to the earlier level: it was a flaky run, not a change"
)


def withdrawn_change_points(
    previous_verdict: Mapping[str, Any] | None, verdict: Verdict, history: Sequence[RunPoint]
) -> list[dict[str, Any]]:
    """Change points of the previous verdict (status form) that `verdict` no longer shows.

    A purely computational function with no side effects. Earlier withdrawals are carried on
    while their run is still in the analysed history, unless the change point came back. A change
    point whose run has left the history (lookback) is not withdrawn: it is only out of sight.
    """
    previous = previous_verdict or {}
    shown = {(point.metric, point.run) for point in verdict.change_points}
    analysed = history[-verdict.evaluated_runs :] if verdict.evaluated_runs else []
    in_history = {point.run for point in analysed}
    withdrawn: dict[tuple[Any, Any], dict[str, Any]] = {}
    candidates = [*(previous.get("withdrawn") or []), *(previous.get("changePoints") or [])]
    for point in candidates:
        key = (point.get("metric"), point.get("run"))
        if key in shown or point.get("run") not in in_history:
            continue
        withdrawn[key] = {
            "metric": point.get("metric"),
            "run": point.get("run"),
            "changePercent": point.get("changePercent"),
            "regression": bool(point.get("regression")),
            "reason": point.get("reason") or WITHDRAWN_REASON,
        }
    return list(withdrawn.values())
