"""The analysis results as tables for people, in the style of Orion and Hunter (pure).

One table per file and metric: time, uuid (when the file has one) and the values, one row per
run, oldest first. Before the first run after each change point, a dotted band shows the
change in percent in the value column and, to its right, what kind of change it is, the
levels before and after (segment medians) and the confidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from perftest_operator.report.analyze import AnalyzeOptions, FileResult, MetricResult
from perftest_operator.report.history_runs import RunTable
from perftest_operator.report.numbers import (
    describe_levels,
    format_direction,
    format_percent,
    format_value,
    kind,
)

NO_VALUE = "(no value)"
DOT = "·"


def _title(result: FileResult, metric: MetricResult, options: AnalyzeOptions) -> str:
    return (
        f"{result.file}: {metric.metric} ({metric.n} runs, "
        f"{format_direction(options.direction)}, threshold {options.threshold_percent:g}%)"
    )


def _verdict(metric: MetricResult) -> str:
    regressions = sum(found.point.regression for found in metric.change_points)
    improvements = len(metric.change_points) - regressions
    if not metric.change_points:
        return "no change point"
    parts = []
    if regressions:
        parts.append(f"{regressions} regression{'s' if regressions > 1 else ''}")
    if improvements:
        parts.append(f"{improvements} improvement{'s' if improvements > 1 else ''}")
    return ", ".join(parts)


def _table(table: RunTable, metric: MetricResult) -> list[str]:
    values = dict(zip(metric.column.positions, metric.column.values, strict=True))
    cells = [format_value(values[i]) if i in values else NO_VALUE for i in range(table.runs)]
    percents = [format_percent(found.point.change_percent) for found in metric.change_points]
    uuids = list(table.uuids) if table.uuids is not None else None
    time_width = max(len("time"), *(len(time) for time in table.times))
    value_width = max(len(metric.metric), *(len(cell) for cell in cells), *map(len, percents))
    left = [time_width] + ([max(len("uuid"), *map(len, uuids))] if uuids is not None else [])
    indent = " " * sum(width + 2 for width in left)

    def row(first: Sequence[str], value: str) -> str:
        parts = [text.ljust(width) for text, width in zip(first, left, strict=True)]
        return "  ".join([*parts, value.rjust(value_width)])

    header = ["time"] + (["uuid"] if uuids is not None else [])
    lines = [row(header, metric.metric), row(["-" * w for w in left], "-" * value_width)]
    marks = {found.index: found for found in metric.change_points}
    for index, time in enumerate(table.times):
        if index in marks:
            point = marks[index].point
            band = indent + DOT * value_width
            change = format_percent(point.change_percent).rjust(value_width)
            lines += [band, f"{indent}{change}  <- {kind(point)}: {describe_levels(point)}", band]
        first = [time] + ([uuids[index]] if uuids is not None else [])
        lines.append(row(first, cells[index]))
    return lines


def render_text(results: Sequence[FileResult], options: AnalyzeOptions) -> str:
    blocks: list[str] = []
    for result in results:
        for metric in result.metrics:
            lines = [_title(result, metric, options), "", *_table(result.table, metric)]
            lines += ["", f"{metric.metric}: {_verdict(metric)}"]
            blocks.append("\n".join(lines))
    series = [metric for result in results for metric in result.metrics]
    regressed = sum(metric.regression for metric in series)
    files = len(results)
    blocks.append(
        f"{len(series)} series in {files} file{'s' if files != 1 else ''}: "
        f"{regressed} with a regression"
    )
    return "\n\n".join(blocks) + "\n"
