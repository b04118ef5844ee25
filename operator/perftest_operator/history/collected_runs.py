"""A test's history from its PerfRuns: the runs whose metrics were collected, oldest first (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from perftest_operator.analysis.verdict import RunPoint
from perftest_operator.api.conditions import is_true
from perftest_operator.api.perfrun import RUN_NUMBER_LABEL
from perftest_operator.api.status import RunCondition


def history_points(runs: Sequence[Mapping[str, Any]]) -> list[RunPoint]:
    """RunPoints of the runs with collected metrics, ordered by window start (then name).

    Failed runs are left out: a run without its metrics must never shape a verdict.
    """
    points: list[tuple[str, str, RunPoint]] = []
    for run in runs:
        status = run.get("status") or {}
        if not is_true(status.get("conditions"), RunCondition.METRICS_COLLECTED.value):
            continue
        values = {
            str(name): float(value)
            for name, value in (status.get("values") or {}).items()
            if isinstance(value, int | float) and math.isfinite(value)
        }
        start = str(status.get("startTime") or "")
        name = str(run["metadata"]["name"])
        uid = run["metadata"].get("uid")
        point = RunPoint(
            run=name, time=start, values=values, uid=str(uid) if uid is not None else None
        )
        points.append((start, _number(run), point))
    points.sort(key=lambda item: (item[0], item[1]))
    return [point for _, _, point in points]


def _number(run: Mapping[str, Any]) -> str:
    labels = (run.get("metadata") or {}).get("labels") or {}
    return str(labels.get(RUN_NUMBER_LABEL, "")).zfill(12)
