"""A test's verdict from its PerfRuns: outliers left out, the runs either side of a change."""

from __future__ import annotations

import datetime
from typing import Any

from perftest_operator.analysis.verdict import VerdictResult
from perftest_operator.api.conditions import set_condition
from perftest_operator.api.perfrun import PerfRun, parse_perfrun
from perftest_operator.api.spec import parse_analysis, parse_metrics
from perftest_operator.history.evaluation import around_change, evaluate, is_outlier, outliers

NOW = datetime.datetime(2025, 1, 20, tzinfo=datetime.UTC)
METRICS = parse_metrics([{"name": "latency", "query": "max(x)", "aggregation": "max"}])
ANALYSIS = parse_analysis({})


def perfrun(number: int, value: float, **status: Any) -> PerfRun:
    conditions = set_condition(
        [], "MetricsCollected", "True", "Collected", "ok", generation=1, now=NOW
    )
    return parse_perfrun(
        {
            "metadata": {"name": f"t-{number}", "labels": {"perftest.dev/run-number": str(number)}},
            "status": {
                "conditions": conditions,
                "startTime": f"2025-01-{number:02d}T02:00:00Z",
                "values": {"latency": value},
                **status,
            },
        }
    )


def history(bad: PerfRun) -> list[PerfRun]:
    good = [0.98, 0.97, 0.99, 0.98, 0.96, 0.99, 0.98, 0.97]
    return [perfrun(n, v) for n, v in enumerate(good, start=1)] + [bad]


NOT_CONFIRMED = {"state": "NotConfirmed", "runs": ["t-10", "t-11"], "metrics": ["latency"]}


def test_a_step_in_the_history_is_a_regression_at_its_first_run() -> None:
    verdict, points = evaluate(history(perfrun(9, 3.98)), METRICS, ANALYSIS, "t-9", None)
    assert verdict.result is VerdictResult.REGRESSION
    assert [(p.metric, p.run) for p in verdict.change_points] == [("latency", "t-9")]
    assert [p.run for p in points][-1] == "t-9"


def test_an_outlier_is_left_out_of_the_history_and_of_the_verdict() -> None:
    outlier = perfrun(9, 3.98, confirmation=NOT_CONFIRMED)
    assert is_outlier(outlier) and not is_outlier(perfrun(9, 3.98))
    verdict, points = evaluate(history(outlier), METRICS, ANALYSIS, "t-9", None)
    assert "t-9" not in [p.run for p in points]
    assert verdict.change_points == ()
    assert outliers(history(outlier)) == [
        {"metric": "latency", "run": "t-9", "reason": "not confirmed by 2 run(s)"}
    ]


def test_an_outlier_without_its_metrics_is_an_outlier_of_every_metric() -> None:
    outlier = perfrun(9, 3.98, confirmation={"state": "NotConfirmed"})
    assert outliers([outlier]) == [
        {"metric": "*", "run": "t-9", "reason": "not confirmed by 0 run(s)"}
    ]


def test_the_runs_around_a_change_are_the_last_good_one_and_the_first_bad_one() -> None:
    runs = history(perfrun(9, 3.98, target={"version": "4.16.4"}))
    runs[7] = perfrun(8, 0.97, target={"version": "4.16.3"})
    _, points = evaluate(runs, METRICS, ANALYSIS, "t-9", None)
    around = around_change(runs, points, "t-9")
    assert around is not None
    last_good, first_bad = around
    assert (last_good["target"], first_bad["target"]) == (
        {"version": "4.16.3"},
        {"version": "4.16.4"},
    )
    assert around_change(runs, points, "t-1") is None  # nothing before the first run
    assert around_change(runs, points, "t-99") is None  # not in the history
