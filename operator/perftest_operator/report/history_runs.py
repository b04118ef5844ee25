"""The runs of one KPI history file as the analysis sees them (pure data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

TIME_COLUMN = "time"
UUID_COLUMN = "uuid"


@dataclass(frozen=True)
class MetricColumn:
    """One numeric column: the runs that have a value, and the runs that have none."""

    name: str
    positions: tuple[int, ...]  # 0-based run (row) index of each value
    values: tuple[float, ...]  # finite, same length as positions
    missing: tuple[int, ...] = ()  # run indices whose cell is empty or NaN (skipped)


@dataclass(frozen=True)
class RunTable:
    """A history file: one row per run, oldest first, and the metric columns to analyse."""

    source: str  # the file as the user named it
    times: tuple[str, ...]  # as written in the file (ISO 8601)
    uuids: tuple[str, ...] | None  # None when the file has no uuid column
    metrics: tuple[MetricColumn, ...]

    @property
    def runs(self) -> int:
        return len(self.times)

    def uuid(self, index: int) -> str | None:
        """The uuid of run `index`, or None without a uuid column."""
        return None if self.uuids is None else self.uuids[index]
