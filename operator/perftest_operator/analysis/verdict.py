"""The verdict on a PerfTest's run history: change points per KPI, one result, one line for people.

A purely computational module with no side effects: it turns the succeeded runs (oldest first)
and the KPI definitions into a Verdict, and a Verdict into the plain dict stored in a status.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict

from perftest_operator.analysis.changepoints import detect_change_points
from perftest_operator.api.errors import AnalysisError
from perftest_operator.api.kpi import Direction, MetricSpec
from perftest_operator.api.spec import Acknowledgement, AnalysisSettings

STATUS_SIGNIFICANT_DIGITS = 6
STATUS_PERCENT_DECIMALS = 1


@dataclass(frozen=True)
class RunPoint:
    """One succeeded run as the history sees it."""

    run: str  # PerfRun name
    time: str  # RFC 3339 (window start)
    values: Mapping[str, float]  # metric name -> value (a metric may be absent in a run)
    uid: str | None = None  # the PerfRun's metadata.uid, matched by acknowledgements by uuid


class VerdictResult(str, enum.Enum):
    PASS = "Pass"  # every analysed KPI is level within its threshold
    REGRESSION = "Regression"  # some KPI got worse by at least its threshold
    IMPROVEMENT = "Improvement"  # some KPI got better, none got worse
    INSUFFICIENT_HISTORY = "InsufficientHistory"  # no KPI has min_history values yet
    INCONCLUSIVE = "Inconclusive"  # the analysis could not run (see `inconclusive`)


@dataclass(frozen=True)
class MetricChangePoint:
    """A change point placed in the history: which KPI, at which run, by how much."""

    metric: str
    run: str  # the first run after the change
    time: str
    index: int  # position of that run in the history passed to evaluate_history
    before: float
    after: float
    change_percent: float
    direction: Direction
    regression: bool
    confidence: float
    # The reason from spec.analysis.acknowledged when people know this change point: it stays
    # in the verdict but never makes it a Regression.
    acknowledged: str | None = None


@dataclass(frozen=True)
class Verdict:
    result: VerdictResult
    run: str  # the newest run the verdict was computed at
    change_points: tuple[MetricChangePoint, ...]
    message: str  # one human line
    evaluated_runs: int  # runs in the analysed window (at most lookback)


class ChangePointStatus(TypedDict):
    metric: str
    run: str
    time: str
    index: int
    before: float
    after: float
    changePercent: float | None  # None when the level moved away from exactly zero
    direction: str
    regression: bool
    confidence: float
    acknowledged: NotRequired[str]


class VerdictStatus(TypedDict):
    result: str
    run: str
    message: str
    evaluatedRuns: int
    changePoints: list[ChangePointStatus]


def format_number(value: float) -> str:
    """A KPI value for people: 6 significant digits."""
    return f"{value:.{STATUS_SIGNIFICANT_DIGITS}g}"


def format_percent(value: float) -> str:
    """'+304.5%'; 'from zero' when the level moved away from exactly zero."""
    if math.isinf(value):
        return "from zero"
    return f"{value:+.{STATUS_PERCENT_DECIMALS}f}%"


def describe_change_point(point: MetricChangePoint) -> str:
    """E.g. 'readOnlyAPICallsLatency +304.5% at run x-8 (0.984 → 3.98)'."""
    return (
        f"{point.metric} {format_percent(point.change_percent)} at run {point.run} "
        f"({format_number(point.before)} → {format_number(point.after)})"
    )


def _metric_series(
    window: Sequence[RunPoint], offset: int, metric: str
) -> tuple[list[int], list[float]]:
    """Positions in the history and values of the runs in `window` that have `metric`."""
    positions: list[int] = []
    values: list[float] = []
    for position, point in enumerate(window, start=offset):
        if metric not in point.values:
            continue
        value = float(point.values[metric])
        if not math.isfinite(value):
            raise AnalysisError(f"metric {metric!r} of run {point.run!r} is not finite: {value!r}")
        positions.append(position)
        values.append(value)
    return positions, values


def _message(
    result: VerdictResult,
    change_points: Sequence[MetricChangePoint],
    analysed: int,
    evaluated_runs: int,
    settings: AnalysisSettings,
) -> str:
    if result is VerdictResult.INSUFFICIENT_HISTORY:
        return (
            f"no metric has {settings.min_history} runs with a value yet "
            f"({evaluated_runs} runs in the history)"
        )
    acknowledged = sum(1 for p in change_points if p.acknowledged is not None)
    suffix = f"; {acknowledged} acknowledged" if acknowledged else ""
    if result is VerdictResult.PASS:
        if acknowledged:
            return (
                f"no unacknowledged change beyond threshold in {analysed} metrics over "
                f"{evaluated_runs} runs{suffix}"
            )
        return f"no change beyond threshold in {analysed} metrics over {evaluated_runs} runs"
    wanted = result is VerdictResult.REGRESSION
    shown = [
        describe_change_point(p)
        for p in change_points
        if p.regression == wanted and p.acknowledged is None
    ]
    return "; ".join(shown) + suffix


def acknowledgement_of(
    metric: str, point: RunPoint, acknowledged: Sequence[Acknowledgement]
) -> str | None:
    """The reason of the first acknowledgement of `metric` at the run `point`, else None.

    An acknowledgement names the run by PerfRun name (`run`) or by its uid (`uuid`).
    """
    for ack in acknowledged:
        if ack.metric != metric:
            continue
        if (ack.run is not None and ack.run == point.run) or (
            ack.uuid is not None and point.uid is not None and ack.uuid == point.uid
        ):
            return ack.reason
    return None


def evaluate_history(
    history: Sequence[RunPoint],
    metrics: Sequence[MetricSpec],
    settings: AnalysisSettings,
    reported: Collection[tuple[str, str]] = (),
) -> Verdict:
    """The verdict at the newest run of `history` (succeeded runs, oldest first).

    Only the last `settings.lookback` runs are analysed; a metric with fewer than
    `settings.min_history` values among them is skipped. A change point that
    `settings.acknowledged` names (metric and run) carries the acknowledgement's reason: it stays
    in the verdict, but neither makes it a Regression nor an Improvement. `reported`: the
    (metric, run) change points of the previous verdict; a change found within a run or two of
    one of them stays at that run (`detect_change_points`' `reported`). Raises AnalysisError if a
    value is NaN or infinite (the message names the metric and the run).
    """
    offset = max(0, len(history) - settings.lookback)
    window = history[offset:]
    newest = window[-1].run if window else ""
    found: list[MetricChangePoint] = []
    analysed = 0
    for metric in metrics:
        positions, values = _metric_series(window, offset, metric.name)
        if len(values) < settings.min_history:
            continue
        analysed += 1
        reported_runs = {run for name, run in reported if name == metric.name}
        for point in detect_change_points(
            values,
            direction=metric.direction,
            threshold_percent=metric.threshold_percent,
            reported=[
                index
                for index, position in enumerate(positions)
                if history[position].run in reported_runs
            ],
        ):
            position = positions[point.index]
            found.append(
                MetricChangePoint(
                    metric=metric.name,
                    run=history[position].run,
                    time=history[position].time,
                    index=position,
                    before=point.before,
                    after=point.after,
                    change_percent=point.change_percent,
                    direction=metric.direction,
                    regression=point.regression,
                    confidence=point.confidence,
                    acknowledged=acknowledgement_of(
                        metric.name, history[position], settings.acknowledged
                    ),
                )
            )
    found.sort(key=lambda p: (p.index, p.metric))
    open_points = [p for p in found if p.acknowledged is None]
    if analysed == 0:
        result = VerdictResult.INSUFFICIENT_HISTORY
    elif any(p.regression for p in open_points):
        result = VerdictResult.REGRESSION
    elif open_points:
        result = VerdictResult.IMPROVEMENT
    else:
        result = VerdictResult.PASS
    return Verdict(
        result=result,
        run=newest,
        change_points=tuple(found),
        message=_message(result, found, analysed, len(window), settings),
        evaluated_runs=len(window),
    )


def inconclusive(run: str, reason: str, evaluated_runs: int = 0) -> Verdict:
    """The verdict when the analysis could not run, e.g. on an AnalysisError; `reason` is shown."""
    return Verdict(
        result=VerdictResult.INCONCLUSIVE,
        run=run,
        change_points=(),
        message=reason,
        evaluated_runs=evaluated_runs,
    )


def _significant(value: float) -> float:
    return float(f"{value:.{STATUS_SIGNIFICANT_DIGITS}g}")


def _change_point_status(point: MetricChangePoint) -> ChangePointStatus:
    percent = point.change_percent
    status: ChangePointStatus = {
        "metric": point.metric,
        "run": point.run,
        "time": point.time,
        "index": point.index,
        "before": _significant(point.before),
        "after": _significant(point.after),
        "changePercent": (
            round(percent, STATUS_PERCENT_DECIMALS) if math.isfinite(percent) else None
        ),
        "direction": point.direction.value,
        "regression": point.regression,
        "confidence": _significant(point.confidence),
    }
    if point.acknowledged is not None:
        status["acknowledged"] = point.acknowledged
    return status


def verdict_to_status(verdict: Verdict) -> VerdictStatus:
    """The verdict as stored in a PerfTest or PerfRun status (camelCase, JSON-safe numbers)."""
    return {
        "result": verdict.result.value,
        "run": verdict.run,
        "message": verdict.message,
        "evaluatedRuns": verdict.evaluated_runs,
        "changePoints": [_change_point_status(p) for p in verdict.change_points],
    }
