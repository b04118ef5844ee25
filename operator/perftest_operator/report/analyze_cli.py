"""`perftest analyze`: read history files, find change points, print a report (the I/O edge).

Exit codes: 0 no regression, 2 a regression in some file and metric, 1 bad input (one line on
stderr naming the file and the problem; nothing on stdout).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from perftest_operator.api.errors import HistoryFileError
from perftest_operator.report.analyze import (
    AnalyzeOptions,
    FileResult,
    analyze_table,
    any_regression,
)
from perftest_operator.report.csvfile import read_run_table
from perftest_operator.report.history_runs import RunTable
from perftest_operator.report.render_json import render_json
from perftest_operator.report.render_junit import render_junit
from perftest_operator.report.render_text import render_text

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_REGRESSION = 2


class OutputFormat(str, enum.Enum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


@dataclass(frozen=True)
class AnalyzeRequest:
    files: tuple[str, ...]
    metrics: tuple[str, ...]  # empty: every numeric column
    options: AnalyzeOptions
    output: OutputFormat = OutputFormat.TEXT
    plot: str | None = None  # PNG path


def _warn_missing(table: RunTable, stderr: TextIO) -> None:
    for column in table.metrics:
        if column.missing:
            indices = ", ".join(str(index) for index in column.missing)
            print(
                f"perftest: warning: {table.source}: metric {column.name!r} has no value in "
                f"{len(column.missing)} run(s) (index {indices}); skipped",
                file=stderr,
            )


def render(results: Sequence[FileResult], request: AnalyzeRequest) -> str:
    if request.output is OutputFormat.JSON:
        return render_json(results)
    if request.output is OutputFormat.JUNIT:
        return render_junit(results)
    return render_text(results, request.options)


def run_analyze(
    request: AnalyzeRequest, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Analyse every file of `request`, write the report and the plot; the exit code.

    `stdout` and `stderr` default to the process's streams at the time of the call.
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if request.plot is not None:
        from perftest_operator.report.plot import MISSING_MATPLOTLIB, can_plot

        if not can_plot():
            print(f"perftest: {MISSING_MATPLOTLIB}", file=stderr)
            return EXIT_BAD_INPUT
    try:
        tables = [read_run_table(file, request.metrics) for file in request.files]
    except HistoryFileError as exc:
        print(f"perftest: {exc}", file=stderr)
        return EXIT_BAD_INPUT
    for table in tables:
        _warn_missing(table, stderr)
    results = [analyze_table(table, request.options) for table in tables]
    if request.plot is not None:
        from perftest_operator.report.plot import write_plot

        try:
            write_plot(results, request.plot)
        except OSError as exc:
            print(f"perftest: {request.plot}: cannot write the plot: {exc.strerror}", file=stderr)
            return EXIT_BAD_INPUT
    stdout.write(render(results, request))
    return EXIT_REGRESSION if any_regression(results) else EXIT_OK
