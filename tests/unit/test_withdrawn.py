"""Withdrawn change points: earlier ones the longer history no longer shows, said explicitly."""

from __future__ import annotations

from perftest_operator.analysis.verdict import MetricChangePoint, RunPoint, Verdict, VerdictResult
from perftest_operator.api.kpi import Direction
from perftest_operator.history.withdrawn import WITHDRAWN_REASON, withdrawn_change_points

HISTORY = [
    RunPoint(run=f"t-{i}", time=f"2025-01-{i:02d}T02:00:00Z", values={"x": 1.0})
    for i in range(1, 11)
]


def change_point(run: str) -> MetricChangePoint:
    return MetricChangePoint(
        metric="x",
        run=run,
        time="",
        index=int(run.split("-")[1]) - 1,
        before=1.0,
        after=2.0,
        change_percent=100.0,
        direction=Direction.LOWER_IS_BETTER,
        regression=True,
        confidence=0.9,
    )


def verdict(*points: MetricChangePoint, evaluated: int = 10) -> Verdict:
    result = VerdictResult.REGRESSION if points else VerdictResult.PASS
    return Verdict(
        result=result, run="t-10", change_points=points, message="m", evaluated_runs=evaluated
    )


PREVIOUS = {
    "changePoints": [{"metric": "x", "run": "t-9", "changePercent": 100.0, "regression": True}]
}


def test_a_change_point_that_disappears_is_withdrawn_with_a_reason() -> None:
    assert withdrawn_change_points(PREVIOUS, verdict(), HISTORY) == [
        {
            "metric": "x",
            "run": "t-9",
            "changePercent": 100.0,
            "regression": True,
            "reason": WITHDRAWN_REASON,
        }
    ]


def test_a_change_point_still_shown_is_not_withdrawn() -> None:
    assert withdrawn_change_points(PREVIOUS, verdict(change_point("t-9")), HISTORY) == []
    assert withdrawn_change_points(None, verdict(), HISTORY) == []


def test_withdrawals_are_carried_on_until_their_run_leaves_the_history() -> None:
    first = withdrawn_change_points(PREVIOUS, verdict(), HISTORY)
    carried = withdrawn_change_points({"changePoints": [], "withdrawn": first}, verdict(), HISTORY)
    assert carried == first
    out_of_sight = withdrawn_change_points({"withdrawn": first}, verdict(evaluated=1), HISTORY)
    assert out_of_sight == []


def test_a_withdrawn_change_point_that_comes_back_is_no_longer_withdrawn() -> None:
    first = withdrawn_change_points(PREVIOUS, verdict(), HISTORY)
    assert (
        withdrawn_change_points({"withdrawn": first}, verdict(change_point("t-9")), HISTORY) == []
    )
