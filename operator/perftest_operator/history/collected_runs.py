"""A test's history from its PerfRuns: the runs whose metrics were collected, oldest first (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from perftest_operator.analysis.verdict import RunPoint
from perftest_operator.api.conditions import is_true
from perftest_operator.api.perfrun import PerfRun
from perftest_operator.api.status import RunCondition


def history_points(runs: Sequence[PerfRun]) -> list[RunPoint]:
    """RunPoints of the runs with collected metrics, ordered by window start (then run number).

    Failed runs are left out: a run without its metrics must never shape a verdict.
    """
    points: list[tuple[str, str, RunPoint]] = []
    for run in runs:
        if not is_true(run.conditions, RunCondition.METRICS_COLLECTED.value):
            continue
        values = {
            str(name): float(value)
            for name, value in run.values.items()
            if isinstance(value, int | float) and math.isfinite(value)
        }
        start = run.start_time or ""
        point = RunPoint(run=run.name, time=start, values=values, uid=run.uid)
        number = "" if run.number is None else str(run.number)
        points.append((start, number.zfill(12), point))
    points.sort(key=lambda item: (item[0], item[1]))
    return [point for _, _, point in points]
