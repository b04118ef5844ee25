"""How the command shows a number, a change and a confidence to people (pure; display only)."""

from __future__ import annotations

from perftest_operator.analysis import ChangePoint
from perftest_operator.analysis.verdict import format_number
from perftest_operator.analysis.verdict import format_percent as format_percent
from perftest_operator.api.kpi import Direction

CONFIDENCE_DECIMALS = 3


# The operator's Event text and status use the same formatting as the command.
format_value = format_number


def format_confidence(confidence: float) -> str:
    return f"{confidence:.{CONFIDENCE_DECIMALS}f}"


def format_direction(direction: Direction) -> str:
    return "lower is better" if direction is Direction.LOWER_IS_BETTER else "higher is better"


def kind(point: ChangePoint) -> str:
    return "regression" if point.regression else "improvement"


def describe_levels(point: ChangePoint) -> str:
    """E.g. '0.984 -> 3.98, confidence 0.998'."""
    return (
        f"{format_value(point.before)} -> {format_value(point.after)}, "
        f"confidence {format_confidence(point.confidence)}"
    )


def describe(point: ChangePoint) -> str:
    """E.g. 'regression +304.5% (0.984 -> 3.98, confidence 0.998)'."""
    return f"{kind(point)} {format_percent(point.change_percent)} ({describe_levels(point)})"
