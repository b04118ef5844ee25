"""Change-point detection on KPI histories and the verdicts built on it (pure, no I/O, seeded)."""

from perftest_operator.analysis.changepoints import ChangePoint, detect_change_points
from perftest_operator.analysis.verdict import (
    MetricChangePoint,
    RunPoint,
    Verdict,
    VerdictResult,
    evaluate_history,
    inconclusive,
    verdict_to_status,
)

__all__ = [
    "ChangePoint",
    "MetricChangePoint",
    "RunPoint",
    "Verdict",
    "VerdictResult",
    "detect_change_points",
    "evaluate_history",
    "inconclusive",
    "verdict_to_status",
]
