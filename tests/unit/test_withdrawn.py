"""Withdrawn change points: earlier ones the longer history no longer shows, said explicitly."""

from __future__ import annotations

import dataclasses

from perftest_operator.analysis.verdict import MetricChangePoint, RunPoint, Verdict, VerdictResult
from perftest_operator.api.kpi import Direction
from perftest_operator.history.withdrawn import (
    WITHDRAWN_REASON,
    reported_change_points,
    withdrawn_change_points,
)

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


def test_the_reported_change_points_are_the_metric_and_run_of_each_shown_one() -> None:
    shown = {
        "changePoints": [
            {"metric": "x", "run": "t-9", "changePercent": 100.0},
            {"metric": "y", "run": "t-4", "changePercent": -20.0},
        ],
        "withdrawn": [{"metric": "x", "run": "t-3"}],
    }

    assert reported_change_points(shown) == {("x", "t-9"), ("y", "t-4")}
    assert reported_change_points(None) == set()
    assert reported_change_points({"result": "Pass"}) == set()


def test_a_change_point_the_later_runs_place_elsewhere_is_withdrawn_as_moved() -> None:
    # the same change, the same way, now at t-6 (three runs earlier): not a flaky run
    moved = withdrawn_change_points(PREVIOUS, verdict(change_point("t-6")), HISTORY)

    assert [(w["run"], w["reason"]) for w in moved] == [("t-9", "later runs place it at run t-6")]


def test_a_change_point_far_away_or_shown_before_does_not_make_a_withdrawal_a_move() -> None:
    far = withdrawn_change_points(PREVIOUS, verdict(change_point("t-3")), HISTORY)
    both = {"changePoints": [*PREVIOUS["changePoints"], {"metric": "x", "run": "t-8"}]}
    shown_before = withdrawn_change_points(both, verdict(change_point("t-8")), HISTORY)

    assert [(w["run"], w["reason"]) for w in far] == [("t-9", WITHDRAWN_REASON)]  # six runs
    assert [(w["run"], w["reason"]) for w in shown_before] == [("t-9", WITHDRAWN_REASON)]


def test_a_change_point_of_the_other_way_or_metric_does_not_make_a_withdrawal_a_move() -> None:
    other_way = dataclasses.replace(change_point("t-8"), regression=False, change_percent=-50.0)
    other_metric = dataclasses.replace(change_point("t-8"), metric="y")

    for point in (other_way, other_metric):
        [withdrawn] = withdrawn_change_points(PREVIOUS, verdict(point), HISTORY)
        assert withdrawn["reason"] == WITHDRAWN_REASON
