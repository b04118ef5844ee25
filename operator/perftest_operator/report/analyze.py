"""Change points of every metric of a RunTable, placed at runs (a purely computational module).

The numbers come from `analysis.detect_change_points` unchanged, called exactly as the
operator calls it (direction and threshold only), so the command and the operator agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perftest_operator.analysis import ChangePoint, detect_change_points
from perftest_operator.api.kpi import Direction
from perftest_operator.report.history_runs import MetricColumn, RunTable


@dataclass(frozen=True)
class FoundChangePoint:
    """A change point placed at a run of the file."""

    index: int  # 0-based run (row) index of the first run after the change
    time: str
    uuid: str | None
    point: ChangePoint  # as detect_change_points returned it


@dataclass(frozen=True)
class MetricResult:
    column: MetricColumn
    change_points: tuple[FoundChangePoint, ...]

    @property
    def metric(self) -> str:
        return self.column.name

    @property
    def n(self) -> int:
        """How many runs were analysed (runs without a value are skipped)."""
        return len(self.column.values)

    @property
    def regression(self) -> bool:
        return any(found.point.regression for found in self.change_points)


@dataclass(frozen=True)
class FileResult:
    table: RunTable
    metrics: tuple[MetricResult, ...]

    @property
    def file(self) -> str:
        return self.table.source


@dataclass(frozen=True)
class AnalyzeOptions:
    direction: Direction
    threshold_percent: float


def analyze_column(table: RunTable, column: MetricColumn, options: AnalyzeOptions) -> MetricResult:
    points = detect_change_points(
        column.values, direction=options.direction, threshold_percent=options.threshold_percent
    )
    found = []
    for point in points:
        index = column.positions[point.index]
        found.append(FoundChangePoint(index, table.times[index], table.uuid(index), point))
    return MetricResult(column, tuple(found))


def analyze_table(table: RunTable, options: AnalyzeOptions) -> FileResult:
    """The change points of each metric column of `table`."""
    return FileResult(
        table, tuple(analyze_column(table, column, options) for column in table.metrics)
    )


def any_regression(results: Sequence[FileResult]) -> bool:
    return any(metric.regression for result in results for metric in result.metrics)
