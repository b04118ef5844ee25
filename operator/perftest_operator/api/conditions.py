"""Standard Kubernetes conditions: found by type, changed without moving time backwards (pure)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict


class Condition(TypedDict):
    type: str
    status: str
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with a trailing Z, to the second, as Kubernetes writes times."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 timestamp (``Z`` or an offset) as an aware UTC datetime."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def find_condition(
    conditions: Sequence[Mapping[str, Any]] | None, type_: str
) -> Mapping[str, Any] | None:
    """The condition of that type, or None; never by position."""
    for condition in conditions or ():
        if condition.get("type") == type_:
            return condition
    return None


def is_true(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> bool:
    condition = find_condition(conditions, type_)
    return condition is not None and condition.get("status") == TRUE


def set_condition(
    conditions: Sequence[Mapping[str, Any]] | None,
    type_: str,
    status: str,
    reason: str,
    message: str,
    *,
    generation: int,
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    """A new list with that condition set; lastTransitionTime moves only when the status changes.

    A purely computational function with no side effects: the input list is not modified.
    A stale write (older observedGeneration than the stored one) leaves the condition as it is.
    """
    if status not in (TRUE, FALSE, UNKNOWN):
        raise ValueError(f"condition status must be True, False or Unknown, got {status!r}")
    if not message:
        raise ValueError(f"condition {type_} needs a message")

    def updated(transition: str) -> dict[str, Any]:
        return dict(
            Condition(
                type=type_,
                status=status,
                reason=reason,
                message=message,
                lastTransitionTime=transition,
                observedGeneration=generation,
            )
        )

    result: list[dict[str, Any]] = []
    replaced = False
    for existing in conditions or ():
        if existing.get("type") != type_:
            result.append(dict(existing))
            continue
        replaced = True
        if int(existing.get("observedGeneration", 0)) > generation:
            result.append(dict(existing))
            continue
        transition = (
            existing.get("lastTransitionTime") if existing.get("status") == status else None
        )
        result.append(updated(transition or format_time(now)))
    if not replaced:
        result.append(updated(format_time(now)))
    return result
