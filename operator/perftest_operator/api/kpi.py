"""What a KPI is: its query, how a run's samples reduce to one number, and which way is worse (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_THRESHOLD_PERCENT = 10.0


class Aggregation(str, enum.Enum):
    MAX = "max"
    AVG = "avg"
    MIN = "min"
    P50 = "p50"
    P95 = "p95"
    P99 = "p99"
    LAST = "last"


class Direction(str, enum.Enum):
    """Which way a KPI gets worse."""

    LOWER_IS_BETTER = "LowerIsBetter"  # latencies: a rise is a regression
    HIGHER_IS_BETTER = "HigherIsBetter"  # throughputs: a fall is a regression


@dataclass(frozen=True)
class MetricSpec:
    """One KPI: a PromQL query over the run window, reduced to one number per run."""

    name: str
    query: str
    aggregation: Aggregation = Aggregation.MAX
    direction: Direction = Direction.LOWER_IS_BETTER
    threshold_percent: float = DEFAULT_THRESHOLD_PERCENT
    unit: str = ""
