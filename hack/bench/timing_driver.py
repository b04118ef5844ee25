"""Shared main of the bench drivers: read series folders, time only detection, write JSON (file I/O).

A driver script imports one detector, wraps it as `detect(values) -> [index, ...]` (0-based index
of the first run after each change) and calls `run_driver`. For each `--set NAME=FOLDER` it times
every series' `detect` call alone (reading files and writing results are outside the clock),
`--repeats` times over the whole folder, and writes `<out>/<detector>.<NAME>.json` in the
scorer's `{"<id>": [index, ...]}` format plus `<out>/<detector>.timings.json`:
`{"detector", "call", "environment", "sets": {NAME: {"series", "runs", "seconds": [...],
"deterministic"}}}`. Standard library only (plus whatever the detector imports), so it runs in
every bench virtual environment.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from blas_info import runtime_environment
from series_files import read_series_folder

Detector = Callable[[list[float]], list[int]]


def driver_arguments(description: str) -> argparse.ArgumentParser:
    """The arguments every driver takes; a driver may add its own before parsing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        required=True,
        metavar="NAME=FOLDER",
        help="a named folder of series CSVs (repeatable)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over each folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON results")
    return parser


def _named_folders(sets: list[str]) -> dict[str, Path]:
    folders: dict[str, Path] = {}
    for item in sets:
        name, separator, folder = item.partition("=")
        if not separator or not name or not folder:
            raise SystemExit(f"--set wants NAME=FOLDER, got {item!r}")
        folders[name] = Path(folder)
    return folders


def time_detection(
    detect: Detector, series: dict[str, list[float]], repeats: int
) -> tuple[dict[str, list[int]], list[float], bool]:
    """Indices found per series (first pass), seconds per pass, whether all passes agreed."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    first: dict[str, list[int]] = {}
    seconds: list[float] = []
    deterministic = True
    for repeat in range(repeats):
        found: dict[str, list[int]] = {}
        elapsed = 0.0
        for series_id, values in series.items():
            start = time.perf_counter()
            indices = detect(values)
            elapsed += time.perf_counter() - start
            found[series_id] = sorted(int(index) for index in indices)
        seconds.append(elapsed)
        if repeat == 0:
            first = found
        elif found != first:
            deterministic = False
    return first, seconds, deterministic


def run_driver(name: str, detect: Detector, call: str, args: argparse.Namespace) -> None:
    """Time `detect` on every `--set` folder and write the results under `--out`."""
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, object] = {
        "detector": name,
        "call": call,
        "environment": runtime_environment(),
    }
    sets: dict[str, object] = {}
    for set_name, folder in _named_folders(args.sets).items():
        series = read_series_folder(folder)
        found, seconds, deterministic = time_detection(detect, series, args.repeats)
        (out / f"{name}.{set_name}.json").write_text(json.dumps(found, indent=1) + "\n")
        sets[set_name] = {
            "series": len(series),
            "runs": sum(len(values) for values in series.values()),
            "seconds": seconds,
            "deterministic": deterministic,
        }
    timings["sets"] = sets
    (out / f"{name}.timings.json").write_text(json.dumps(timings, indent=1) + "\n")
