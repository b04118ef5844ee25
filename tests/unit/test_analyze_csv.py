"""Reading KPI history CSVs for `perftest analyze`: what is a run, a metric, and bad input."""

from __future__ import annotations

import pathlib

import pytest

from perftest_operator.api.errors import HistoryFileError
from perftest_operator.report.csvfile import parse_run_table, read_run_table

HEADER = "time,uuid,latency,throughput\n"


def _csv(*rows: str, header: str = HEADER) -> str:
    return header + "".join(f"{row}\n" for row in rows)


def test_every_numeric_column_is_a_metric_and_labels_are_ignored() -> None:
    text = _csv(
        "2025-01-01T00:00:00Z,a,1.5,100,4.19.0-0.nightly",
        "2025-01-02T00:00:00Z,b,1.25,,4.19.0-0.nightly",
        header="time,uuid,latency,throughput,version\n",
    )
    table = parse_run_table(text, "f.csv")
    assert table.times == ("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z")
    assert table.uuids == ("a", "b")
    assert [column.name for column in table.metrics] == ["latency", "throughput"]
    latency, throughput = table.metrics
    assert latency.values == (1.5, 1.25) and latency.positions == (0, 1)
    assert throughput.values == (100.0,) and throughput.missing == (1,)


def test_uuid_is_optional_and_metrics_keep_the_requested_order() -> None:
    text = _csv("2025-01-01,1,2", "2025-01-02,3,4", header="time,a,b\n")
    table = parse_run_table(text, "f.csv", metrics=["b", "a"])
    assert table.uuids is None and table.uuid(0) is None
    assert [(c.name, c.values) for c in table.metrics] == [("b", (2.0, 4.0)), ("a", (1.0, 3.0))]


def test_nan_and_empty_cells_are_missing_runs_not_values() -> None:
    text = _csv(
        "2025-01-01T00:00:00Z,a,1,5",
        "2025-01-02T00:00:00Z,b,NaN,6",
        "2025-01-03T00:00:00Z,c,3,",
        "2025-01-04T00:00:00Z,d,4,8",
    )
    latency, throughput = parse_run_table(text, "f.csv").metrics
    assert latency.positions == (0, 2, 3) and latency.missing == (1,)
    assert throughput.positions == (0, 1, 3) and throughput.missing == (2,)


def test_blank_lines_and_a_byte_order_mark_are_accepted(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftime,v\n2025-01-01,1\n\n2025-01-02,2\n\n")
    table = read_run_table(str(path))
    assert table.metrics[0].values == (1.0, 2.0)


@pytest.mark.parametrize(
    ("text", "metrics", "problem"),
    [
        ("", (), "the file is empty"),
        ("time,v\n", (), "no runs"),
        ("when,v\n2025-01-01,1\n", (), "no 'time' column"),
        ("time,v,v\n2025-01-01,1,2\n", (), "repeats column 'v'"),
        ("time,uuid,name\n2025-01-01,a,x\n", (), "no numeric metric column"),
        ("time,v\n2025-01-01,1\nyesterday,2\n", (), "line 3: time 'yesterday' is not an ISO 8601"),
        ("time,v\n2025-01-02,1\n2025-01-01,2\n", (), "line 3: time '2025-01-01' is not after"),
        ("time,v\n2025-01-01,1\n2025-01-01,2\n", (), "line 3: time '2025-01-01' is not after"),
        ("time,v\n2025-01-01,1\n2025-01-02T00:00Z,2\n", (), "mixes times with and without"),
        ("time,v\n2025-01-01,1\n2025-01-02,2,3\n", (), "line 3 has 3 fields, the header has 2"),
        ("time,v\n2025-01-01,1\n2025-01-02,inf\n", (), "line 3: metric 'v' is 'inf'"),
        ("time,v\n2025-01-01,1\n", ("w",), "no column 'w' (columns: v)"),
        ("time,v,name\n2025-01-01,1,x\n", ("name",), "column 'name' is not numeric: line 2"),
        ("time,v\n2025-01-01,1\n", ("time",), "column 'time' is not a metric"),
        ("time,v,\n2025-01-01,1,2\n", (), "column 3 of the header has no name"),
    ],
)
def test_bad_input_names_the_file_and_the_problem(
    text: str, metrics: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(HistoryFileError) as caught:
        parse_run_table(text, "runs/x.csv", metrics)
    assert caught.value.file == "runs/x.csv"
    assert problem in caught.value.problem
    assert str(caught.value).startswith("runs/x.csv: ")


def test_unreadable_files_are_history_file_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(HistoryFileError, match="no such file"):
        read_run_table(str(tmp_path / "absent.csv"))
    with pytest.raises(HistoryFileError, match="is a directory"):
        read_run_table(str(tmp_path))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"time,v\n\xff\xfe\x00\n")
    with pytest.raises(HistoryFileError, match="not UTF-8"):
        read_run_table(str(binary))
