"""The analysis results as JSON for machines (a purely computational module).

Numbers are the detector's own, not rounded; a change from exactly zero (infinite percent)
is written as null, since JSON has no infinity.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TypedDict

from perftest_operator.report.analyze import FileResult, FoundChangePoint, MetricResult


class ChangePointJson(TypedDict):
    index: int
    time: str
    uuid: str | None
    before: float
    after: float
    changePercent: float | None
    regression: bool
    confidence: float


class MetricJson(TypedDict):
    metric: str
    n: int
    changePoints: list[ChangePointJson]


class FileJson(TypedDict):
    file: str
    metrics: list[MetricJson]


class ReportJson(TypedDict):
    files: list[FileJson]


def _change_point(found: FoundChangePoint) -> ChangePointJson:
    point = found.point
    return {
        "index": found.index,
        "time": found.time,
        "uuid": found.uuid,
        "before": point.before,
        "after": point.after,
        "changePercent": point.change_percent if math.isfinite(point.change_percent) else None,
        "regression": point.regression,
        "confidence": point.confidence,
    }


def _metric(result: MetricResult) -> MetricJson:
    return {
        "metric": result.metric,
        "n": result.n,
        "changePoints": [_change_point(found) for found in result.change_points],
    }


def report_json(results: Sequence[FileResult]) -> ReportJson:
    return {
        "files": [
            {"file": result.file, "metrics": [_metric(metric) for metric in result.metrics]}
            for result in results
        ]
    }


def render_json(results: Sequence[FileResult]) -> str:
    return json.dumps(report_json(results), allow_nan=False) + "\n"
