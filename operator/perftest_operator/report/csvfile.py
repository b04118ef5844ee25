"""Read a KPI history CSV (`time`, optional `uuid`, numeric metric columns) into a RunTable.

`parse_run_table` is a purely computational function with no side effects; `read_run_table`
is the I/O edge that reads the file. Both raise HistoryFileError naming the file and problem.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import datetime

from perftest_operator.api.errors import HistoryFileError
from perftest_operator.report.history_runs import TIME_COLUMN, UUID_COLUMN, MetricColumn, RunTable


def _float(cell: str) -> float | None:
    """The cell as a number; None if it is not one. An empty cell is NaN (a missing value)."""
    text = cell.strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def _header(rows: list[tuple[int, list[str]]], source: str) -> list[str]:
    if not rows:
        raise HistoryFileError(source, "the file is empty")
    header = [name.strip() for name in rows[0][1]]
    for position, name in enumerate(header, start=1):
        if not name:
            raise HistoryFileError(source, f"column {position} of the header has no name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise HistoryFileError(source, f"the header repeats column {duplicates[0]!r}")
    if TIME_COLUMN not in header:
        raise HistoryFileError(
            source, f"no {TIME_COLUMN!r} column in the header ({', '.join(header)})"
        )
    if len(rows) == 1:
        raise HistoryFileError(source, "no runs: the file has only a header")
    return header


def _times(cells: Sequence[str], lines: Sequence[int], source: str) -> tuple[str, ...]:
    previous: datetime | None = None
    for cell, line in zip(cells, lines, strict=True):
        try:
            moment = datetime.fromisoformat(cell.strip())
        except ValueError:
            raise HistoryFileError(
                source, f"line {line}: time {cell!r} is not an ISO 8601 date and time"
            ) from None
        if previous is not None:
            if (moment.tzinfo is None) != (previous.tzinfo is None):
                raise HistoryFileError(
                    source, f"line {line}: time {cell!r} mixes times with and without a timezone"
                )
            if moment <= previous:
                raise HistoryFileError(
                    source,
                    f"line {line}: time {cell!r} is not after the run before it "
                    "(one row per run, oldest first)",
                )
        previous = moment
    return tuple(cell.strip() for cell in cells)


def _numeric_column(
    name: str, cells: Sequence[str], lines: Sequence[int], source: str
) -> MetricColumn | str:
    """The column as a MetricColumn, or why it is not numeric (naming the first bad line)."""
    parsed = [_float(cell) for cell in cells]
    for value, cell, line in zip(parsed, cells, lines, strict=True):
        if value is None:
            return f"line {line}: {cell.strip()!r} is not a number"
    positions: list[int] = []
    values: list[float] = []
    missing: list[int] = []
    numbers = [value for value in parsed if value is not None]  # all of them, checked above
    for index, (value, cell, line) in enumerate(zip(numbers, cells, lines, strict=True)):
        if math.isnan(value):
            missing.append(index)
        elif math.isinf(value):
            raise HistoryFileError(
                source, f"line {line}: metric {name!r} is {cell.strip()!r}, not a finite number"
            )
        else:
            positions.append(index)
            values.append(value)
    if not values:
        return "it has no values"
    return MetricColumn(name, tuple(positions), tuple(values), tuple(missing))


def parse_run_table(text: str, source: str, metrics: Sequence[str] = ()) -> RunTable:
    """The runs in CSV `text`; `metrics` selects columns (default: every numeric column).

    A column is numeric when each cell is a number, empty or NaN; empty and NaN cells are
    missing values, listed in `MetricColumn.missing`. Other columns are labels and ignored,
    unless `metrics` names one. Blank lines are ignored.
    """
    reader = csv.reader(io.StringIO(text))
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    header = _header(rows, source)
    runs = rows[1:]
    for line, row in runs:
        if len(row) != len(header):
            raise HistoryFileError(
                source, f"line {line} has {len(row)} fields, the header has {len(header)}"
            )
    lines = [line for line, _ in runs]
    columns = {name: [row[i] for _, row in runs] for i, name in enumerate(header)}
    times = _times(columns[TIME_COLUMN], lines, source)
    uuids = tuple(cell.strip() for cell in columns[UUID_COLUMN]) if UUID_COLUMN in columns else None
    candidates = [name for name in header if name not in (TIME_COLUMN, UUID_COLUMN)]

    selected: list[MetricColumn] = []
    for name in metrics:
        if name in (TIME_COLUMN, UUID_COLUMN):
            raise HistoryFileError(source, f"column {name!r} is not a metric")
        if name not in columns:
            raise HistoryFileError(
                source, f"no column {name!r} (columns: {', '.join(candidates) or 'none'})"
            )
        column = _numeric_column(name, columns[name], lines, source)
        if isinstance(column, str):
            raise HistoryFileError(source, f"column {name!r} is not numeric: {column}")
        selected.append(column)
    if not metrics:
        for name in candidates:
            column = _numeric_column(name, columns[name], lines, source)
            if isinstance(column, MetricColumn):
                selected.append(column)
        if not selected:
            raise HistoryFileError(source, "no numeric metric column")
    return RunTable(source=source, times=times, uuids=uuids, metrics=tuple(selected))


def read_run_table(path: str, metrics: Sequence[str] = ()) -> RunTable:
    """Read and parse the CSV file at `path` (UTF-8, a byte order mark is allowed)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise HistoryFileError(path, "no such file") from None
    except IsADirectoryError:
        raise HistoryFileError(path, "is a directory, not a file") from None
    except PermissionError:
        raise HistoryFileError(path, "permission denied") from None
    except UnicodeDecodeError as exc:
        raise HistoryFileError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise HistoryFileError(path, exc.strerror or type(exc).__name__) from None
    return parse_run_table(text, path, metrics)
