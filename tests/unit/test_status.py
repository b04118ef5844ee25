"""Phases derived from conditions, and the PerfTest status computed from its PerfRuns."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from perftest_operator.api.conditions import set_condition
from perftest_operator.api.status import (
    PerfTestPhase,
    Reason,
    RunPhase,
    build_test_status,
    derive_run_phase,
)

NOW = datetime.datetime(2025, 1, 20, 8, 0, tzinfo=datetime.UTC)


def conditions(*items: tuple[str, str, str]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for type_, status, reason in items:
        result = set_condition(
            result, type_, status, reason, f"{type_} {status}", generation=1, now=NOW
        )
    return result


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ({}, RunPhase.PENDING),
        (
            {
                "job": {"name": "j", "namespace": "n"},
                "conditions": conditions(("JobCompleted", "Unknown", "JobRunning")),
            },
            RunPhase.RUNNING,
        ),
        (
            {"job": {}, "conditions": conditions(("JobCompleted", "True", "Succeeded"))},
            RunPhase.COLLECTING,
        ),
        (
            {
                "conditions": conditions(
                    ("JobCompleted", "True", "Succeeded"),
                    ("MetricsCollected", "False", "PrometheusUnavailable"),
                )
            },
            RunPhase.COLLECTING,
        ),
        (
            {
                "conditions": conditions(
                    ("JobCompleted", "True", "Succeeded"),
                    ("MetricsCollected", "False", "InvalidQuery"),
                )
            },
            RunPhase.FAILED,
        ),
        (
            {
                "conditions": conditions(
                    ("JobCompleted", "True", "Succeeded"), ("MetricsCollected", "True", "Collected")
                )
            },
            RunPhase.ANALYZING,
        ),
        (
            {
                "conditions": conditions(
                    ("JobCompleted", "True", "S"),
                    ("MetricsCollected", "True", "C"),
                    ("Analyzed", "True", "Pass"),
                )
            },
            RunPhase.SUCCEEDED,
        ),
        ({"conditions": conditions(("JobCompleted", "False", "AlertTriggered"))}, RunPhase.FAILED),
    ],
)
def test_run_phase_is_derived_from_conditions(status: dict[str, Any], phase: RunPhase) -> None:
    assert derive_run_phase(status) is phase


def perfrun(number: int, conds: list[dict[str, Any]], **status: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"t-{number}",
            "labels": {"perftest.dev/run-number": str(number)},
            "creationTimestamp": f"2025-01-{number:02d}T00:00:00Z",
        },
        "status": {"conditions": conds, **status},
    }


SUCCEEDED = conditions(
    ("JobCompleted", "True", "S"), ("MetricsCollected", "True", "C"), ("Analyzed", "True", "Pass")
)
TEST = {"metadata": {"name": "t", "namespace": "n", "generation": 4}, "spec": {}, "status": {}}


def test_status_of_a_test_whose_newest_run_regressed() -> None:
    verdict = {
        "result": "Regression",
        "message": "readOnlyAPICallsLatency +304.5% at run t-2",
        "changePoints": [],
    }
    runs = [
        perfrun(1, SUCCEEDED, verdict={"result": "Pass", "message": "no change"}, startTime="a"),
        perfrun(
            2, SUCCEEDED, verdict=verdict, values={"x": 3.98}, startTime="b", completionTime="c"
        ),
    ]
    status = build_test_status(
        TEST, runs, ready=("True", "SpecValid", "the spec is valid"), now=NOW
    )
    assert status["phase"] == PerfTestPhase.REGRESSED.value
    assert status["observedGeneration"] == 4
    assert status["verdict"] == verdict
    assert status["lastRun"] == {
        "name": "t-2",
        "phase": "Succeeded",
        "startTime": "b",
        "completionTime": "c",
        "values": {"x": 3.98},
    }
    assert status["runs"] == {"total": 2, "succeeded": 2, "failed": 0}
    by_type = {c["type"]: c for c in status["conditions"]}
    assert (
        by_type["Regressed"]["status"],
        by_type["Running"]["status"],
        by_type["Ready"]["status"],
    ) == ("True", "False", "True")


def test_an_active_run_makes_the_test_running_and_a_failed_last_run_failed() -> None:
    active = perfrun(3, conditions(("JobCompleted", "Unknown", "JobRunning")), job={"name": "j"})
    failed = perfrun(
        2, conditions(("JobCompleted", "False", "AlertTriggered")), reason="AlertTriggered"
    )
    running = build_test_status(TEST, [failed, active], ready=None, now=NOW)
    assert running["phase"] == "Running"
    assert running["runs"] == {"total": 2, "succeeded": 0, "failed": 1}
    done = build_test_status(TEST, [failed], ready=None, now=NOW)
    assert done["phase"] == "Failed"
    assert done["lastRun"]["reason"] == "AlertTriggered"
    assert done["verdict"] is None


def test_invalid_spec_wins_over_everything_and_keeps_the_history_counts() -> None:
    runs = [perfrun(1, SUCCEEDED, verdict={"result": "Pass", "message": "ok"})]
    status = build_test_status(
        TEST, runs, ready=("False", "InvalidSpec", "spec.workload.name: unknown"), now=NOW
    )
    assert status["phase"] == "Invalid"
    assert status["runs"]["succeeded"] == 1


def test_ready_condition_is_kept_when_not_rechecked() -> None:
    first = build_test_status(TEST, [], ready=("False", "InvalidSpec", "spec.x: bad"), now=NOW)
    later = build_test_status({**TEST, "status": first}, [], ready=None, now=NOW)
    assert later["phase"] == "Invalid"
    assert later["observedGeneration"] == 4


def test_baseline_while_history_is_too_short() -> None:
    run = perfrun(1, SUCCEEDED, verdict={"result": "InsufficientHistory", "message": "1 of 5 runs"})
    assert build_test_status(TEST, [run], ready=None, now=NOW)["phase"] == "Baseline"


def test_platform_is_the_declared_one_or_for_auto_the_newest_detected_one() -> None:
    declared = {**TEST, "spec": {"target": {"platform": "ROSA"}}}
    auto = {**TEST, "spec": {"target": {"platform": "Auto"}}}
    older = perfrun(1, SUCCEEDED, target={"platform": "BareMetal"})
    newer = perfrun(2, SUCCEEDED, target={"platform": "AWS"})
    assert build_test_status(declared, [older, newer], ready=None, now=NOW)["platform"] == "ROSA"
    assert build_test_status(auto, [], ready=None, now=NOW)["platform"] == "Auto"
    assert build_test_status(auto, [older, newer], ready=None, now=NOW)["platform"] == "AWS"
    assert build_test_status(TEST, [older], ready=None, now=NOW)["platform"] == "BareMetal"


def test_only_succeeded_and_failed_runs_are_terminal() -> None:
    assert {phase for phase in RunPhase if phase.is_terminal} == {
        RunPhase.SUCCEEDED,
        RunPhase.FAILED,
    }


def test_a_reason_is_its_string() -> None:
    assert str(Reason.RUN_FAILED) == f"{Reason.RUN_FAILED}" == "RunFailed"
