"""The renderers of `perftest analyze` on hand-built results: edge cases the CLI tests miss."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

from perftest_operator.analysis import ChangePoint
from perftest_operator.api.kpi import Direction
from perftest_operator.report.analyze import (
    AnalyzeOptions,
    FileResult,
    FoundChangePoint,
    MetricResult,
    analyze_table,
)
from perftest_operator.report.csvfile import parse_run_table
from perftest_operator.report.history_runs import MetricColumn, RunTable
from perftest_operator.report.render_json import render_json
from perftest_operator.report.render_junit import render_junit
from perftest_operator.report.render_text import NO_VALUE, render_text

OPTIONS = AnalyzeOptions(Direction.LOWER_IS_BETTER, 10.0)
TIMES = tuple(f"2025-01-{day:02d}" for day in range(1, 7))


def _result(points: list[tuple[int, ChangePoint]], uuids: bool = False) -> FileResult:
    table = RunTable(
        source="h.csv",
        times=TIMES,
        uuids=tuple(f"r{i}" for i in range(6)) if uuids else None,
        metrics=(MetricColumn("errors", (0, 1, 3, 4, 5), (0.0, 0.0, 2.0, 2.0, 1.0), (2,)),),
    )
    found = tuple(
        FoundChangePoint(index, TIMES[index], table.uuid(index), point) for index, point in points
    )
    return FileResult(table, (MetricResult(table.metrics[0], found),))


FROM_ZERO = ChangePoint(3, 0.0, 2.0, math.inf, True, 0.9)
BACK_DOWN = ChangePoint(5, 2.0, 1.0, -50.0, False, 0.75)


def test_json_is_strict_json_even_for_a_change_from_zero() -> None:
    text = render_json([_result([(3, FROM_ZERO)])])
    point = json.loads(text, parse_constant=lambda name: _reject_constant(name))["files"][0]
    assert point["metrics"][0]["changePoints"][0]["changePercent"] is None
    assert point["metrics"][0]["changePoints"][0]["uuid"] is None


def _reject_constant(name: str) -> None:
    raise AssertionError(f"non-standard JSON constant {name}")


def test_text_without_uuid_column_shows_missing_runs_and_every_change_point() -> None:
    text = render_text([_result([(3, FROM_ZERO), (5, BACK_DOWN)])], OPTIONS)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("time"))
    assert header.split() == ["time", "errors"]
    rows = [line for line in lines if line.startswith("2025-")]
    assert len(rows) == 6 and rows[2].endswith(NO_VALUE)
    markers = [line for line in lines if "<-" in line]
    assert len(markers) == 2
    assert "from zero" in markers[0] and "regression" in markers[0]
    assert "-50.0%" in markers[1] and "improvement" in markers[1]
    assert "confidence 0.750" in markers[1]
    assert "errors: 1 regression, 1 improvement" in text


def test_junit_passes_an_improvement_and_lists_it() -> None:
    root = ET.fromstring(render_junit([_result([(5, BACK_DOWN)], uuids=True)]))
    (case,) = root.iter("testcase")
    assert case.find("failure") is None
    out = case.find("system-out")
    assert out is not None and out.text is not None
    assert "improvement -50.0%" in out.text and "r5" in out.text
    assert root.get("failures") == "0"


def test_analysis_places_change_points_at_rows_when_runs_are_missing() -> None:
    csv = "time,v\n" + "".join(
        f"2025-01-{day:02d},{value}\n"
        for day, value in enumerate([1, 1, 1, 1, 1, "", 1, 2, 2, 2, 2, 2, 2], start=1)
    )
    result = analyze_table(parse_run_table(csv, "gap.csv"), OPTIONS)
    (found,) = result.metrics[0].change_points
    assert found.index == 7 and found.time == "2025-01-08"
    assert found.point.index == 6, "the detector saw the series without the missing run"
