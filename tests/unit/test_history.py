"""A test's history read back from PerfRuns: collected runs only, oldest window first."""

from __future__ import annotations

import datetime
from typing import Any

from perftest_operator.api.conditions import set_condition
from perftest_operator.api.perfrun import PerfRun, parse_perfrun
from perftest_operator.history.collected_runs import history_points

NOW = datetime.datetime(2025, 1, 20, tzinfo=datetime.UTC)


def perfrun(
    name: str, number: int, start: str, collected: bool, values: dict[str, Any], **meta: str
) -> PerfRun:
    conditions = set_condition([], "JobCompleted", "True", "Succeeded", "ok", generation=1, now=NOW)
    if collected:
        conditions = set_condition(
            conditions, "MetricsCollected", "True", "Collected", "ok", generation=1, now=NOW
        )
    return parse_perfrun(
        {
            "metadata": {"name": name, "labels": {"perftest.dev/run-number": str(number)}, **meta},
            "status": {"conditions": conditions, "startTime": start, "values": values},
        }
    )


def test_only_collected_runs_in_window_order_with_finite_values() -> None:
    runs = [
        perfrun("t-10", 10, "2025-01-10T02:00:00Z", True, {"x": 2.0}),
        perfrun("t-9", 9, "2025-01-09T02:00:00Z", True, {"x": 1.0, "y": float("nan")}),
        perfrun("t-11", 11, "2025-01-11T02:00:00Z", False, {}),
        perfrun("t-2", 2, "2025-01-02T02:00:00Z", True, {"x": 0.5, "y": "n/a"}),
    ]
    points = history_points(runs)
    assert [p.run for p in points] == ["t-2", "t-9", "t-10"]
    assert [dict(p.values) for p in points] == [{"x": 0.5}, {"x": 1.0}, {"x": 2.0}]
    assert points[0].time == "2025-01-02T02:00:00Z"


def test_each_point_carries_its_perfruns_uid_for_acknowledgements_by_uuid() -> None:
    with_uid = perfrun("t-1", 1, "2025-01-01T02:00:00Z", True, {"x": 1.0}, uid="0b7c6d1e-11")
    without_uid = perfrun("t-2", 2, "2025-01-02T02:00:00Z", True, {"x": 1.0})
    assert [p.uid for p in history_points([with_uid, without_uid])] == ["0b7c6d1e-11", None]
