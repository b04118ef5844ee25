"""Tests of verdicts on a PerfTest's run history and of their status form."""

from __future__ import annotations

import datetime
import json
import math
import statistics
from collections.abc import Mapping, Sequence

import pytest

from localstack.story import EARLY_STEP_LATENCY, READ_ONLY_LATENCY
from perftest_operator.analysis import (
    MetricChangePoint,
    RunPoint,
    Verdict,
    VerdictResult,
    evaluate_history,
    inconclusive,
    verdict_to_status,
)
from perftest_operator.api.errors import AnalysisError
from perftest_operator.api.kpi import Direction, MetricSpec
from perftest_operator.api.spec import Acknowledgement, AnalysisSettings

STORY = list(READ_ONLY_LATENCY)
READ_ONLY = MetricSpec(
    name="readOnlyAPICallsLatency",
    query="histogram_quantile(0.99, ...)",
    direction=Direction.LOWER_IS_BETTER,
    threshold_percent=10.0,
)
THROUGHPUT = MetricSpec(
    name="podsPerSecond", query="rate(...)", direction=Direction.HIGHER_IS_BETTER
)
STORY_SETTINGS = AnalysisSettings(min_history=5, lookback=100)
START = datetime.datetime(2025, 1, 6, 2, 0, tzinfo=datetime.UTC)


def history_of(series: Mapping[str, Sequence[float | None]]) -> list[RunPoint]:
    """One run per position, named x-1, x-2, ... a day apart; None leaves a metric out."""
    length = max(len(values) for values in series.values())
    runs = []
    for i in range(length):
        time = (START + datetime.timedelta(days=i)).isoformat().replace("+00:00", "Z")
        values = {
            name: value
            for name, column in series.items()
            if i < len(column) and (value := column[i]) is not None
        }
        runs.append(RunPoint(run=f"x-{i + 1}", time=time, values=values))
    return runs


STORY_HISTORY = history_of({READ_ONLY.name: STORY})


@pytest.mark.parametrize("runs", range(1, 5))
def test_story_below_min_history_is_insufficient(runs: int) -> None:
    verdict = evaluate_history(STORY_HISTORY[:runs], [READ_ONLY], STORY_SETTINGS)

    assert verdict.result is VerdictResult.INSUFFICIENT_HISTORY
    assert verdict.run == f"x-{runs}"
    assert verdict.change_points == ()
    assert verdict.evaluated_runs == runs


@pytest.mark.parametrize("runs", range(5, 8))
def test_story_passes_from_min_history_until_the_kernel_change(runs: int) -> None:
    verdict = evaluate_history(STORY_HISTORY[:runs], [READ_ONLY], STORY_SETTINGS)

    assert verdict.result is VerdictResult.PASS
    assert verdict.change_points == ()
    assert verdict.message == f"no change beyond threshold in 1 metrics over {runs} runs"


@pytest.mark.parametrize("runs", range(8, len(STORY) + 1))
def test_story_is_a_regression_at_the_eighth_run_from_the_eighth_run_on(runs: int) -> None:
    history = STORY_HISTORY[:runs]

    verdict = evaluate_history(history, [READ_ONLY], STORY_SETTINGS)

    assert verdict.result is VerdictResult.REGRESSION
    assert verdict.run == history[-1].run
    assert verdict.evaluated_runs == runs
    (point,) = verdict.change_points
    assert (point.metric, point.run, point.time, point.index) == (
        READ_ONLY.name,
        "x-8",
        STORY_HISTORY[7].time,
        7,
    )
    assert point.direction is Direction.LOWER_IS_BETTER
    assert point.regression is True
    assert point.before == pytest.approx(0.984)
    assert point.change_percent > 10.0
    assert verdict.message.startswith(
        f"readOnlyAPICallsLatency +{point.change_percent:.1f}% at run x-8"
    )


def test_story_message_at_the_first_bad_run() -> None:
    verdict = evaluate_history(STORY_HISTORY[:8], [READ_ONLY], STORY_SETTINGS)

    assert verdict.message == "readOnlyAPICallsLatency +304.5% at run x-8 (0.984 → 3.98)"


def test_only_the_last_lookback_runs_are_analysed() -> None:
    history = history_of({READ_ONLY.name: [1.0] * 10 + [2.0] * 30})

    short = evaluate_history(history, [READ_ONLY], AnalysisSettings(min_history=5, lookback=20))
    long = evaluate_history(history, [READ_ONLY], AnalysisSettings(min_history=5, lookback=40))

    assert short.result is VerdictResult.PASS
    assert short.evaluated_runs == 20
    assert long.result is VerdictResult.REGRESSION
    assert [(p.run, p.index) for p in long.change_points] == [("x-11", 10)]


def test_index_and_run_name_the_history_when_the_window_starts_later() -> None:
    history = history_of({READ_ONLY.name: [3.0] * 10 + [1.0] * 10 + [2.0] * 10})

    verdict = evaluate_history(history, [READ_ONLY], AnalysisSettings(min_history=5, lookback=15))

    (point,) = verdict.change_points
    assert (point.index, point.run) == (20, "x-21")
    assert history[point.index].run == point.run


def test_a_metric_absent_in_some_runs_is_placed_at_the_right_run() -> None:
    # the throughput is measured every other run only; it falls from run x-21 on
    throughput = [None if i % 2 else (100.0 if i < 20 else 60.0) for i in range(40)]
    history = history_of({READ_ONLY.name: [1.0] * 40, THROUGHPUT.name: throughput})

    verdict = evaluate_history(history, [READ_ONLY, THROUGHPUT], STORY_SETTINGS)

    assert verdict.result is VerdictResult.REGRESSION
    (point,) = verdict.change_points
    assert (point.metric, point.run, point.index) == (THROUGHPUT.name, "x-21", 20)
    assert point.change_percent == pytest.approx(-40.0)


def test_a_metric_with_too_few_values_is_not_analysed() -> None:
    # the throughput has only 4 values (one of them a clear drop): below min_history 5
    throughput = [100.0, None, 100.0, None, 100.0, None, 50.0, None]
    history = history_of({READ_ONLY.name: [1.0] * 8, THROUGHPUT.name: throughput})

    verdict = evaluate_history(history, [READ_ONLY, THROUGHPUT], STORY_SETTINGS)
    only_throughput = evaluate_history(history, [THROUGHPUT], STORY_SETTINGS)

    assert verdict.result is VerdictResult.PASS
    assert verdict.message == "no change beyond threshold in 1 metrics over 8 runs"
    assert only_throughput.result is VerdictResult.INSUFFICIENT_HISTORY


def test_metrics_not_in_the_spec_are_ignored() -> None:
    history = history_of({READ_ONLY.name: [1.0] * 20, "other": [1.0] * 10 + [9.0] * 10})

    assert evaluate_history(history, [READ_ONLY], STORY_SETTINGS).result is VerdictResult.PASS


def test_a_throughput_rise_is_an_improvement() -> None:
    history = history_of({THROUGHPUT.name: [100.0] * 12 + [150.0] * 12})

    verdict = evaluate_history(history, [THROUGHPUT], STORY_SETTINGS)

    assert verdict.result is VerdictResult.IMPROVEMENT
    (point,) = verdict.change_points
    assert point.regression is False
    assert verdict.message == "podsPerSecond +50.0% at run x-13 (100 → 150)"


def test_a_regression_outweighs_an_improvement_and_the_message_names_only_the_regression() -> None:
    history = history_of(
        {
            READ_ONLY.name: [1.0] * 16 + [1.5] * 8,
            THROUGHPUT.name: [100.0] * 12 + [150.0] * 12,
        }
    )

    verdict = evaluate_history(history, [READ_ONLY, THROUGHPUT], STORY_SETTINGS)

    assert verdict.result is VerdictResult.REGRESSION
    assert [(p.metric, p.run, p.regression) for p in verdict.change_points] == [
        (THROUGHPUT.name, "x-13", False),
        (READ_ONLY.name, "x-17", True),
    ]
    assert verdict.message == "readOnlyAPICallsLatency +50.0% at run x-17 (1 → 1.5)"


def test_an_empty_history_is_insufficient() -> None:
    verdict = evaluate_history([], [READ_ONLY], STORY_SETTINGS)

    assert verdict.result is VerdictResult.INSUFFICIENT_HISTORY
    assert (verdict.run, verdict.evaluated_runs) == ("", 0)


def test_a_non_finite_value_raises_an_analysis_error_naming_metric_and_run() -> None:
    history = history_of({READ_ONLY.name: [1.0, 1.0, math.nan, 1.0, 1.0, 1.0]})

    with pytest.raises(AnalysisError, match=r"readOnlyAPICallsLatency.*'x-3'"):
        evaluate_history(history, [READ_ONLY], STORY_SETTINGS)


def test_inconclusive_carries_the_reason() -> None:
    verdict = inconclusive("x-9", "metric 'a' of run 'x-9' is not finite: nan", evaluated_runs=9)

    assert verdict.result is VerdictResult.INCONCLUSIVE
    assert verdict_to_status(verdict) == {
        "result": "Inconclusive",
        "run": "x-9",
        "message": "metric 'a' of run 'x-9' is not finite: nan",
        "evaluatedRuns": 9,
        "changePoints": [],
    }


# --- acknowledgements ------------------------------------------------------------------------


def acknowledging(*acks: Acknowledgement) -> AnalysisSettings:
    return AnalysisSettings(min_history=5, lookback=100, acknowledged=acks)


KERNEL = "RHCOS kernel 570: madvise change, accepted upstream"


@pytest.mark.parametrize(
    "ack",
    [
        Acknowledgement(READ_ONLY.name, run="x-8", uuid=None, reason=KERNEL),
        Acknowledgement(READ_ONLY.name, run=None, uuid="uid-8", reason=KERNEL),
    ],
    ids=["by run name", "by uuid"],
)
def test_an_acknowledged_regression_stays_listed_but_the_verdict_passes(
    ack: Acknowledgement,
) -> None:
    history = [
        RunPoint(run=p.run, time=p.time, values=p.values, uid=f"uid-{i + 1}")
        for i, p in enumerate(STORY_HISTORY[:8])
    ]

    verdict = evaluate_history(history, [READ_ONLY], acknowledging(ack))

    assert verdict.result is VerdictResult.PASS
    (point,) = verdict.change_points
    assert (point.run, point.regression, point.acknowledged) == ("x-8", True, KERNEL)
    assert verdict.message == (
        "no unacknowledged change beyond threshold in 1 metrics over 8 runs; 1 acknowledged"
    )
    assert verdict_to_status(verdict)["changePoints"][0]["acknowledged"] == KERNEL


@pytest.mark.parametrize(
    "ack",
    [
        Acknowledgement("mutatingAPICallsLatency", run="x-8", uuid=None, reason="other metric"),
        Acknowledgement(READ_ONLY.name, run="x-7", uuid=None, reason="other run"),
        Acknowledgement(READ_ONLY.name, run=None, uuid="uid-8", reason="runs without uid"),
    ],
    ids=["other metric", "other run", "uuid of a run without uid"],
)
def test_an_acknowledgement_of_something_else_changes_nothing(ack: Acknowledgement) -> None:
    plain = evaluate_history(STORY_HISTORY[:8], [READ_ONLY], STORY_SETTINGS)

    verdict = evaluate_history(STORY_HISTORY[:8], [READ_ONLY], acknowledging(ack))

    assert verdict == plain
    assert verdict.result is VerdictResult.REGRESSION
    assert "acknowledged" not in verdict_to_status(verdict)["changePoints"][0]


def test_an_unacknowledged_regression_is_still_one_and_the_message_counts_the_others() -> None:
    history = history_of({READ_ONLY.name: [1.0] * 16 + [1.5] * 8, "b": [1.0] * 12 + [2.0] * 12})
    metric_b = MetricSpec(name="b", query="up")
    ack = Acknowledgement("b", run="x-13", uuid=None, reason="known")

    verdict = evaluate_history(history, [READ_ONLY, metric_b], acknowledging(ack))

    assert verdict.result is VerdictResult.REGRESSION
    assert [(p.metric, p.run, p.acknowledged) for p in verdict.change_points] == [
        ("b", "x-13", "known"),
        (READ_ONLY.name, "x-17", None),
    ]
    assert verdict.message == "readOnlyAPICallsLatency +50.0% at run x-17 (1 → 1.5); 1 acknowledged"


def test_an_acknowledged_improvement_is_no_improvement_verdict() -> None:
    history = history_of({THROUGHPUT.name: [100.0] * 12 + [150.0] * 12})
    ack = Acknowledgement(THROUGHPUT.name, run="x-13", uuid=None, reason="new hardware")

    verdict = evaluate_history(history, [THROUGHPUT], acknowledging(ack))

    assert verdict.result is VerdictResult.PASS
    assert [p.acknowledged for p in verdict.change_points] == ["new hardware"]


# --- status form -------------------------------------------------------------------------------


def test_story_verdict_as_status() -> None:
    verdict = evaluate_history(STORY_HISTORY[:8], [READ_ONLY], STORY_SETTINGS)
    point = verdict.change_points[0]

    status = verdict_to_status(verdict)

    assert status == {
        "result": "Regression",
        "run": "x-8",
        "message": verdict.message,
        "evaluatedRuns": 8,
        "changePoints": [
            {
                "metric": "readOnlyAPICallsLatency",
                "run": "x-8",
                "time": STORY_HISTORY[7].time,
                "index": 7,
                "before": 0.984,
                "after": 3.98,
                "changePercent": 304.5,
                "direction": "LowerIsBetter",
                "regression": True,
                "confidence": pytest.approx(point.confidence, abs=1e-6),
            }
        ],
    }
    json.dumps(status, allow_nan=False)


def a_change_point(**changes: object) -> MetricChangePoint:
    fields: dict[str, object] = {
        "metric": "m",
        "run": "r-2",
        "time": "2025-01-07T02:00:00Z",
        "index": 1,
        "before": 0.1 + 0.2,
        "after": 2.0 / 3.0,
        "change_percent": 122.22222222,
        "direction": Direction.LOWER_IS_BETTER,
        "regression": True,
        "confidence": 0.987654321,
    }
    fields.update(changes)
    return MetricChangePoint(**fields)  # type: ignore[arg-type]


def test_status_numbers_are_rounded_for_a_kubernetes_status() -> None:
    verdict = Verdict(VerdictResult.REGRESSION, "r-2", (a_change_point(),), "msg", 2)

    (point,) = verdict_to_status(verdict)["changePoints"]

    assert point["before"] == 0.3  # 0.30000000000000004 to 6 significant digits
    assert point["after"] == 0.666667
    assert point["changePercent"] == 122.2
    assert point["confidence"] == 0.987654


def test_status_change_percent_from_zero_is_null_and_the_status_stays_valid_json() -> None:
    point = a_change_point(before=0.0, after=2.0, change_percent=math.inf)
    verdict = Verdict(VerdictResult.REGRESSION, "r-2", (point,), "msg", 2)

    status = verdict_to_status(verdict)

    assert status["changePoints"][0]["changePercent"] is None
    json.dumps(status, allow_nan=False)


def test_the_message_of_a_change_from_zero_says_so() -> None:
    history = history_of({READ_ONLY.name: [0.0] * 10 + [2.0] * 10})

    verdict = evaluate_history(history, [READ_ONLY], STORY_SETTINGS)

    assert verdict.message == "readOnlyAPICallsLatency from zero at run x-11 (0 → 2)"


EARLY_STEP = list(EARLY_STEP_LATENCY)


def test_a_change_point_the_previous_verdict_reported_stays_at_its_run() -> None:
    history = history_of({READ_ONLY.name: EARLY_STEP})
    first = evaluate_history(history[:10], [READ_ONLY], STORY_SETTINGS)
    assert [p.run for p in first.change_points] == ["x-9"]

    alone = evaluate_history(history, [READ_ONLY], STORY_SETTINGS)
    kept = evaluate_history(history, [READ_ONLY], STORY_SETTINGS, {(READ_ONLY.name, "x-9")})

    assert [p.run for p in alone.change_points] == ["x-10"]
    assert [(p.run, p.index, p.regression) for p in kept.change_points] == [("x-9", 8, True)]
    [point] = kept.change_points
    assert point.before == pytest.approx(statistics.median(EARLY_STEP[:8]))
    assert point.after == pytest.approx(statistics.median(EARLY_STEP[8:]))


@pytest.mark.parametrize(
    "reported",
    [
        {("podsPerSecond", "x-9")},  # another metric's change point
        {(READ_ONLY.name, "x-7")},  # three runs away: that report was wrong, not a run early
        {(READ_ONLY.name, "x-99")},  # a run no longer in the history
    ],
)
def test_a_previous_change_point_elsewhere_does_not_move_one(
    reported: set[tuple[str, str]],
) -> None:
    history = history_of({READ_ONLY.name: EARLY_STEP})

    verdict = evaluate_history(history, [READ_ONLY], STORY_SETTINGS, reported)

    assert [p.run for p in verdict.change_points] == ["x-10"]


def test_a_previous_change_point_does_not_make_a_change_where_there_is_none() -> None:
    history = history_of({READ_ONLY.name: [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01]})

    verdict = evaluate_history(history, [READ_ONLY], STORY_SETTINGS, {(READ_ONLY.name, "x-5")})

    assert verdict.change_points == ()
    assert verdict.result is VerdictResult.PASS
