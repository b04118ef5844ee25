"""`perftest analyze` as a user runs it: formats, exit codes, bad input, many files."""

from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest

from bench.changepoint_kinds import KIND_COUNTS, labelled_series
from localstack.story import MUTATING_LATENCY, READ_ONLY_LATENCY
from perftest_operator.analysis import detect_change_points
from perftest_operator.api.kpi import DEFAULT_THRESHOLD_PERCENT, Direction
from perftest_operator.cli import main

STORY_FIRST_BAD = 7
STEP = [1.0] * 10 + [2.0] * 10  # noise-free: the change point is index 10, +100 %
BAND = "·" * len("readOnlyAPICallsLatency")


def _write(
    path: pathlib.Path,
    columns: dict[str, Sequence[float | str]],
    uuids: bool = True,
) -> pathlib.Path:
    runs = len(next(iter(columns.values())))
    header = ["time", *(["uuid"] if uuids else []), *columns]
    lines = [",".join(header)]
    for i in range(runs):
        cells = [f"2025-01-{i // 24 + 1:02d}T{i % 24:02d}:00:00Z"]
        cells += [f"nightly-{i:02d}"] if uuids else []
        cells += [str(values[i]) for values in columns.values()]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def story(tmp_path: pathlib.Path) -> pathlib.Path:
    return _write(
        tmp_path / "story.csv",
        {"readOnlyAPICallsLatency": READ_ONLY_LATENCY, "mutatingAPICallsLatency": MUTATING_LATENCY},
    )


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_json_reports_the_first_bad_run_with_the_detectors_own_numbers(
    story: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(story), "--format", "json"]) == 2
    report = _json(capsys)
    assert [f["file"] for f in report["files"]] == [str(story)]
    metrics = {m["metric"]: m for m in report["files"][0]["metrics"]}
    assert set(metrics) == {"readOnlyAPICallsLatency", "mutatingAPICallsLatency"}
    read_only = metrics["readOnlyAPICallsLatency"]
    assert read_only["n"] == len(READ_ONLY_LATENCY)
    expected = detect_change_points(
        READ_ONLY_LATENCY,
        direction=Direction.LOWER_IS_BETTER,
        threshold_percent=DEFAULT_THRESHOLD_PERCENT,
    )
    assert [cp["index"] for cp in read_only["changePoints"]] == [p.index for p in expected]
    first = read_only["changePoints"][0]
    assert first["index"] == STORY_FIRST_BAD
    assert first["time"] == "2025-01-01T07:00:00Z" and first["uuid"] == "nightly-07"
    assert first["regression"] is True
    point = expected[0]
    assert (first["before"], first["after"]) == (point.before, point.after)
    assert first["changePercent"] == point.change_percent
    assert first["confidence"] == point.confidence
    assert set(first) == {
        "index", "time", "uuid", "before", "after", "changePercent", "regression", "confidence"
    }  # fmt: skip
    assert metrics["mutatingAPICallsLatency"]["changePoints"] == []


def test_text_marks_the_change_point_row_with_its_change(
    story: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(story), "--metric", "readOnlyAPICallsLatency"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{story}: readOnlyAPICallsLatency (15 runs, lower is better")
    rows = [line for line in lines if line.startswith("2025-")]
    assert [row.split()[1] for row in rows] == [f"nightly-{i:02d}" for i in range(15)]
    assert [float(row.split()[2]) for row in rows] == list(READ_ONLY_LATENCY)
    bands = [i for i, line in enumerate(lines) if line.strip() == BAND]
    assert len(bands) == 2, "one change point: a dotted line above and below its change"
    assert lines[bands[1] + 1].split()[1] == f"nightly-{STORY_FIRST_BAD:02d}"
    point = detect_change_points(
        READ_ONLY_LATENCY,
        direction=Direction.LOWER_IS_BETTER,
        threshold_percent=DEFAULT_THRESHOLD_PERCENT,
    )[0]
    marker = lines[bands[0] + 1]
    assert f"{point.change_percent:+.1f}%" in marker and "regression" in marker
    assert f"confidence {point.confidence:.3f}" in marker
    assert "1 series in 1 file: 1 with a regression" in lines[-1]


def test_junit_has_one_testcase_per_file_and_metric_failing_on_a_regression(
    story: pathlib.Path, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flat = _write(tmp_path / "flat.csv", {"readOnlyAPICallsLatency": [1.0] * 12}, uuids=False)
    assert main(["analyze", str(story), str(flat), "--format", "junit"]) == 2
    root = ET.fromstring(capsys.readouterr().out)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(story), str(flat)]
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    assert set(cases) == {
        (str(story), "readOnlyAPICallsLatency"),
        (str(story), "mutatingAPICallsLatency"),
        (str(flat), "readOnlyAPICallsLatency"),
    }
    failing = [key for key, case in cases.items() if case.find("failure") is not None]
    assert failing == [(str(story), "readOnlyAPICallsLatency")]
    failure = cases[failing[0]].find("failure")
    assert failure is not None and "nightly-07" in (failure.get("message") or "")
    assert suites[0].get("failures") == "1" and suites[1].get("failures") == "0"


def test_no_regression_exits_0_and_an_improvement_is_not_a_regression(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flat = _write(tmp_path / "flat.csv", {"v": [3.0] * 20})
    assert main(["analyze", str(flat), "--format", "json"]) == 0
    assert _json(capsys)["files"][0]["metrics"] == [{"metric": "v", "n": 20, "changePoints": []}]

    faster = _write(tmp_path / "faster.csv", {"v": STEP[::-1]})
    assert main(["analyze", str(faster), "--format", "json"]) == 0
    (point,) = _json(capsys)["files"][0]["metrics"][0]["changePoints"]
    assert (point["index"], point["regression"], point["changePercent"]) == (10, False, -50.0)


def test_direction_decides_which_way_is_a_regression(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = _write(tmp_path / "step.csv", {"v": STEP})
    assert main(["analyze", str(step), "--format", "json"]) == 2
    assert _json(capsys)["files"][0]["metrics"][0]["changePoints"][0]["regression"] is True
    assert main(["analyze", str(step), "--format", "json", "--direction", "higher-is-better"]) == 0
    assert _json(capsys)["files"][0]["metrics"][0]["changePoints"][0]["regression"] is False


def test_threshold_sets_the_smallest_change_that_counts(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = _write(tmp_path / "small.csv", {"v": [1.0] * 10 + [1.05] * 10})
    assert main(["analyze", str(small), "--format", "json"]) == 0, "5 % is below the 10 % default"
    assert _json(capsys)["files"][0]["metrics"][0]["changePoints"] == []
    assert main(["analyze", str(small), "--format", "json", "--threshold", "2"]) == 2
    (point,) = _json(capsys)["files"][0]["metrics"][0]["changePoints"]
    assert point["index"] == 10 and math.isclose(point["changePercent"], 5.0)


def test_a_change_from_zero_has_no_percentage_in_json(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = _write(tmp_path / "errors.csv", {"errors": [0.0] * 10 + [3.0] * 10})
    assert main(["analyze", str(errors), "--format", "json"]) == 2
    (point,) = _json(capsys)["files"][0]["metrics"][0]["changePoints"]
    assert point["changePercent"] is None and (point["before"], point["after"]) == (0.0, 3.0)
    assert main(["analyze", str(errors)]) == 2
    assert "from zero" in capsys.readouterr().out


def test_metric_selects_columns_and_an_unknown_one_is_bad_input(
    story: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["analyze", str(story), "--format", "json", "--metric", "mutatingAPICallsLatency"])
        == 0
    )
    metrics = _json(capsys)["files"][0]["metrics"]
    assert [m["metric"] for m in metrics] == ["mutatingAPICallsLatency"]
    assert main(["analyze", str(story), "--metric", "podReadyLatency"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert str(story) in captured.err and "podReadyLatency" in captured.err


def test_runs_without_a_value_are_skipped_with_a_warning_and_indices_stay_rows(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values: list[float | str] = [*STEP[:3], "NaN", *STEP[3:]]  # row 3 has no value
    gappy = _write(tmp_path / "gappy.csv", {"v": values})
    assert main(["analyze", str(gappy), "--format", "json"]) == 2
    captured = capsys.readouterr()
    metric = json.loads(captured.out)["files"][0]["metrics"][0]
    assert metric["n"] == len(STEP)
    (point,) = metric["changePoints"]
    assert point["index"] == 11 and point["uuid"] == "nightly-11", "the row of the first 2.0"
    assert str(gappy) in captured.err and "'v'" in captured.err and "index 3" in captured.err


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("", "empty"),
        ("time,uuid\n2025-01-01,a\n", "no numeric metric column"),
        ("time,v\nMonday,1\n", "not an ISO 8601"),
        ("time,v\n2025-01-02,1\n2025-01-01,2\n", "not after"),
        ("time,v\n2025-01-01,1\n2025-01-02,-inf\n", "not a finite number"),
    ],
)
def test_bad_input_exits_1_with_one_line_naming_the_file(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    problem: str,
) -> None:
    good = _write(tmp_path / "good.csv", {"v": STEP})
    bad = tmp_path / "bad.csv"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    assert main(["analyze", str(good), str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"perftest: {bad}: ") and problem in captured.err


def test_usage_errors_exit_1_not_2_which_means_regression(
    story: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["--threshold", "-5"], ["--threshold", "nan"], ["--format", "yaml"], []):
        with pytest.raises(SystemExit) as caught:
            main(["analyze", *([str(story)] if argv else []), *argv])
        assert caught.value.code == 1, argv
    assert "--threshold" in capsys.readouterr().err


def test_help_states_the_default_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["analyze", "--help"])
    assert caught.value.code == 0
    assert f"(default: {DEFAULT_THRESHOLD_PERCENT:g}, the operator's default" in " ".join(
        capsys.readouterr().out.split()
    )


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perftest_operator.cli", "analyze", *argv],
        capture_output=True,
        text=True,
        check=False,
    )


def test_subprocess_story_exits_2_and_bad_input_exits_1(story: pathlib.Path) -> None:
    found = _run(str(story), "--format", "json")
    assert found.returncode == 2, found.stderr
    metrics = json.loads(found.stdout)["files"][0]["metrics"]
    assert metrics[0]["changePoints"][0]["index"] == STORY_FIRST_BAD
    missing = _run(str(story.parent / "nope.csv"))
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == f"perftest: {story.parent / 'nope.csv'}: no such file"


def test_a_labelled_corpus_of_every_kind_in_one_invocation(tmp_path: pathlib.Path) -> None:
    """One file per kind of the held-out generator, as in a change-point corpus folder: one
    report, files in the order given, every run a row, cuts inside the series, the exit code
    from the regressions found, and the plain steps found where they are."""
    series = [labelled_series(seed, kind) for seed, kind in enumerate(KIND_COUNTS, start=7)]
    files = [str(_write(tmp_path / f"{one.name}.csv", {"value": one.values})) for one in series]
    result = _run(*files, "--format", "json")
    assert result.returncode in (0, 2), result.stderr
    report = json.loads(result.stdout)
    assert [f["file"] for f in report["files"]] == files
    for entry, one in zip(report["files"], series, strict=True):
        (metric,) = entry["metrics"]
        assert metric["metric"] == "value" and metric["n"] == one.values.size
        indices = [cp["index"] for cp in metric["changePoints"]]
        assert all(0 < index < one.values.size for index in indices), one.name
        if one.kind == "step":
            (change,) = one.changes
            assert any(abs(index - change) <= 2 for index in indices), (one.name, indices)
    regressions = any(
        cp["regression"] for f in report["files"] for cp in f["metrics"][0]["changePoints"]
    )
    assert result.returncode == (2 if regressions else 0)
