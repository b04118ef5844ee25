"""`perftest analyze --plot`: a real PNG with a panel per series and its change points marked."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from PIL import Image

from perftest_operator.cli import main
from perftest_operator.report.plot import DPI, PANEL_INCHES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REGRESSION_RGB = (214, 39, 40)  # matplotlib's tab:red
IMPROVEMENT_RGB = (44, 160, 44)  # tab:green


def _write(path: pathlib.Path, values: list[float]) -> str:
    rows = "".join(f"2025-01-01T{i // 60:02d}:{i % 60:02d}:00Z,{v}\n" for i, v in enumerate(values))
    path.write_text("time,latency\n" + rows, encoding="utf-8")
    return str(path)


def _pixels_of(image: Image.Image, rgb: tuple[int, int, int]) -> int:
    array = np.asarray(image.convert("RGB")).astype(int)
    return int((np.abs(array - np.array(rgb)).sum(axis=2) <= 30).sum())


def test_one_series_gives_a_png_with_its_regression_marked_in_red(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = _write(tmp_path / "step.csv", [1.0] * 10 + [2.0] * 10)
    png = tmp_path / "step.png"
    assert main(["analyze", step, "--plot", str(png), "--format", "json"]) == 2
    assert '"index": 10' in capsys.readouterr().out, "the report is still printed"
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    with Image.open(png) as image:
        assert image.size == (PANEL_INCHES[0] * DPI, PANEL_INCHES[1] * DPI)
        assert _pixels_of(image, REGRESSION_RGB) > 100
        assert _pixels_of(image, IMPROVEMENT_RGB) == 0


def test_several_series_are_panels_of_one_png_without_marks_when_flat(
    tmp_path: pathlib.Path,
) -> None:
    files = [
        _write(tmp_path / f"flat{i}.csv", [5.0 + 0.01 * (j % 3) for j in range(30)])
        for i in range(4)
    ]
    png = tmp_path / "all.png"
    assert main(["analyze", *files, "--plot", str(png)]) == 0
    with Image.open(png) as image:
        assert image.size == (3 * PANEL_INCHES[0] * DPI, 2 * PANEL_INCHES[1] * DPI)
        assert _pixels_of(image, REGRESSION_RGB) == 0


def test_an_unwritable_plot_path_is_bad_input(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = _write(tmp_path / "step.csv", [1.0] * 10 + [2.0] * 10)
    target = tmp_path / "no-such-dir" / "plot.png"
    assert main(["analyze", step, "--plot", str(target)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and str(target) in captured.err
