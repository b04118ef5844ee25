"""Series files of the bench: read a corpus folder of CSVs, write one (file I/O; stdlib only).

A folder holds one `time,uuid,value` CSV per series (oldest run first) and may hold
`labels.json` (series id -> 0-based indices of the first run after each true change), as in the
change-point development corpus. The drivers import this module in every virtual environment,
so it must not depend on anything outside the standard library.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Sequence
from pathlib import Path

LABELS_FILE = "labels.json"


def read_series(path: Path) -> list[float]:
    """The `value` column of one series CSV, oldest run first."""
    with path.open(newline="") as handle:
        return [float(row["value"]) for row in csv.DictReader(handle)]


def read_series_folder(folder: Path) -> dict[str, list[float]]:
    """Every series of a folder by id (the file name without `.csv`), in file-name order."""
    series = {path.stem: read_series(path) for path in sorted(folder.glob("*.csv"))}
    if not series:
        raise FileNotFoundError(f"{folder}: no *.csv series")
    return series


def read_labels(folder: Path) -> dict[str, list[int]]:
    """The true change indices of a folder's series (its labels.json)."""
    labels: dict[str, list[int]] = json.loads((folder / LABELS_FILE).read_text())
    return labels


def write_series_folder(
    folder: Path, series_id: str, values: Sequence[float], change_indices: Sequence[int]
) -> None:
    """Write one series as `<folder>/<series_id>.csv` (6-hourly runs) and its labels.json."""
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    with (folder / f"{series_id}.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "uuid", "value"])
        for index, value in enumerate(values):
            time = start + datetime.timedelta(hours=6 * index)
            writer.writerow([time.strftime("%Y-%m-%dT%H:%M:%SZ"), f"run-{index:04d}", value])
    labels = {series_id: list(change_indices)}
    (folder / LABELS_FILE).write_text(json.dumps(labels, indent=1) + "\n")
