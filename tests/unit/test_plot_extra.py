"""`perftest analyze --plot` without matplotlib (not installed: the `plot` extra) says how to get it."""

from __future__ import annotations

import pathlib
import sys
import tomllib

import pytest
from packaging.requirements import Requirement

from perftest_operator.cli import main
from perftest_operator.report.plot import MISSING_MATPLOTLIB

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_plot_without_matplotlib_is_bad_input_naming_the_extra(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules: `import matplotlib` raises ImportError, as where it is not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    history = tmp_path / "step.csv"
    history.write_text(
        "time,latency\n" + "".join(f"2025-01-01T00:{i:02d}:00Z,{1 + i // 10}\n" for i in range(20))
    )
    png = tmp_path / "step.png"
    assert main(["analyze", str(history), "--plot", str(png)]) == 1
    out, err = capsys.readouterr()
    assert out == "", "nothing on stdout for bad input"
    assert err == f"perftest: {MISSING_MATPLOTLIB}\n"
    assert "pip install 'perftest-operator[plot]'" in err
    assert not png.exists()
    # The same command without --plot still reports the step (exit 2: a regression).
    assert main(["analyze", str(history)]) == 2


def test_the_named_extra_installs_matplotlib() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (extra,) = [e for e in project["optional-dependencies"] if f"[{e}]" in MISSING_MATPLOTLIB]
    names = {Requirement(r).name for r in project["optional-dependencies"][extra]}
    assert "matplotlib" in names
    assert project["name"] in MISSING_MATPLOTLIB
