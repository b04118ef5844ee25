"""Retention: the oldest finished PerfRuns beyond spec.history.keep are pruned, active ones never."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from perftest_operator.api.conditions import set_condition
from perftest_operator.api.status import RunCondition
from perftest_operator.history.retention import runs_to_prune

NOW = datetime.datetime(2025, 1, 20, tzinfo=datetime.UTC)

# Conditions that give each phase (api.status.derive_run_phase).
PHASES: dict[str, list[tuple[RunCondition, str]]] = {
    "Succeeded": [
        (RunCondition.JOB_COMPLETED, "True"),
        (RunCondition.METRICS_COLLECTED, "True"),
        (RunCondition.ANALYZED, "True"),
    ],
    "Failed": [(RunCondition.JOB_COMPLETED, "False")],
    "Running": [(RunCondition.JOB_COMPLETED, "Unknown")],
    "Analyzing": [(RunCondition.JOB_COMPLETED, "True"), (RunCondition.METRICS_COLLECTED, "True")],
    "Pending": [],
}


def run(number: int | str, phase: str, created: str = "2025-01-01T00:00:00Z") -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    for type_, status in PHASES[phase]:
        conditions = set_condition(
            conditions, type_.value, status, "Reason", "message", generation=1, now=NOW
        )
    status: dict[str, Any] = {"conditions": conditions}
    if phase == "Running":
        status["job"] = {"name": f"t-{number}", "namespace": "perf"}
    return {
        "metadata": {
            "name": f"t-{number}",
            "labels": {"perftest.dev/run-number": str(number)},
            "creationTimestamp": created,
        },
        "status": status,
    }


def names(runs: list[Any]) -> list[str]:
    return [r["metadata"]["name"] for r in runs]


def test_the_oldest_finished_runs_beyond_keep_are_pruned_oldest_first() -> None:
    runs = [run(n, "Succeeded" if n % 3 else "Failed") for n in (5, 1, 4, 2, 3, 6)]
    assert names(runs_to_prune(runs, 4)) == ["t-1", "t-2"]
    assert names(runs_to_prune(runs, 1)) == ["t-1", "t-2", "t-3", "t-4", "t-5"]


def test_nothing_is_pruned_while_the_history_is_within_keep() -> None:
    runs = [run(n, "Succeeded") for n in range(1, 6)]
    assert runs_to_prune(runs, 5) == []
    assert runs_to_prune(runs, 100) == []
    assert runs_to_prune([], 1) == []


def test_active_runs_are_never_pruned_and_do_not_count() -> None:
    runs = [
        run(1, "Running"),  # an old run still active is kept
        run(2, "Succeeded"),
        run(3, "Failed"),
        run(4, "Succeeded"),
        run(5, "Analyzing"),
        run(6, "Pending"),
    ]
    assert names(runs_to_prune(runs, 2)) == ["t-2"]
    assert names(runs_to_prune(runs, 0)) == ["t-2", "t-3", "t-4"]


def test_the_run_number_orders_before_the_creation_time() -> None:
    runs = [
        run(10, "Succeeded", created="2025-01-01T00:00:00Z"),  # restored from a backup
        run(9, "Succeeded", created="2025-01-05T00:00:00Z"),
    ]
    assert names(runs_to_prune(runs, 1)) == ["t-9"]


def test_runs_with_the_same_number_are_ordered_by_creation_time() -> None:
    older = run(7, "Succeeded", created="2025-01-01T00:00:00Z")
    newer = run(7, "Succeeded", created="2025-01-02T00:00:00Z")
    older["metadata"]["name"], newer["metadata"]["name"] = "by-hand-b", "by-hand-a"
    assert names(runs_to_prune([newer, older], 1)) == ["by-hand-b"]


def test_a_run_without_a_number_counts_as_the_oldest() -> None:
    runs = [run(3, "Succeeded"), run("x", "Succeeded"), run(2, "Succeeded")]
    assert names(runs_to_prune(runs, 2)) == ["t-x"]


def test_a_negative_keep_is_an_error() -> None:
    with pytest.raises(ValueError, match="keep"):
        runs_to_prune([], -1)
